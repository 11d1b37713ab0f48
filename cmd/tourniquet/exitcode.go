package main

import (
	"context"
	"errors"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Exit codes: the whole table, in one place. The README repeats it; scripts
// depend on it.
const (
	exitOK       = 0 // done, nothing found
	exitFound    = 1 // IOC hits found (scan), a step failed (run), a check failed (verify)
	exitUsage    = 2 // usage or input error, or an error the tool could not classify
	exitCancel   = 3 // cancelled (Ctrl-C, SIGTERM)
	exitAuth     = 4 // authentication or permission refused by a provider
	exitApproval = 8 // paused, awaiting approval
)

// exitError carries an exit code with an error. A nil err exits silently with
// the code (a scan that found hits has nothing to apologise for).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// ErrAuth is wrapped by provider clients when credentials are refused.
var ErrAuth = errors.New("authentication or permission refused")

// exitCode maps any error to the contract's exit codes.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var pe *store.PermissionError
	var packErr *packs.Error
	var packErrs packs.Errors
	switch {
	case errors.Is(err, context.Canceled):
		return exitCancel
	case errors.Is(err, ErrAuth):
		return exitAuth
	case errors.As(err, &pe), errors.As(err, &packErr), errors.As(err, &packErrs):
		return exitUsage
	}
	return exitUsage
}
