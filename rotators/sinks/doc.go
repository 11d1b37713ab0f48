// Package sinks writes rotated secrets to the places that use them: one file
// per kind of sink (awsprofile.go: an AWS shared credentials file). A sink
// writes through internal/atomicfile, so a reader or a crash sees the old
// content or the new, never a mix, and never quotes a secret or a line of the
// file in an error.
package sinks
