// Package pyenv parses the Python-environment artefacts an incident responder
// reads from disk: dist-info directory names, METADATA/PKG-INFO headers, wheel
// RECORD files, .pth startup files, requirement manifests and lock files,
// shell and conda histories, GitHub Actions workflows and zip member lists.
//
// Every function here is a pure parser of untrusted bytes: it does no file
// I/O (callers read bounded amounts and pass them in), never executes Python
// or pip, and gives a result or an error for any input without panicking.
// Work is linear in the input, and results are bounded:
//
//   - strings kept in results are cut to 4 KiB (at a UTF-8 boundary);
//   - pins and workflow uses stop at 10,000 per call;
//   - RECORD rows and zip member names stop at 100,000 (ErrTruncated);
//   - histories keep the newest 100,000 entries.
//
// Strings in results are raw text from the input, not escaped (except
// PthVerdict.Excerpt): sanitize them before printing them on a terminal.
package pyenv

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrTruncated reports that a result reached its count limit. What was
// returned alongside it is valid, just incomplete.
var ErrTruncated = errors.New("pyenv: result truncated at its limit")

const (
	maxString         = 4 << 10 // longest string kept in any result
	maxPins           = 10000
	maxUses           = 10000
	maxRecordEntries  = 100000
	maxHistoryEntries = 100000
	maxZipNames       = 100000
)

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for back := 0; back < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	return s[:cut]
}

// clipString is clip at the package-wide limit.
func clipString(s string) string { return clip(s, maxString) }

// eachLine calls fn for every line of data (split on "\n", with one trailing
// "\r" removed) with its 1-based number, until fn returns false.
func eachLine(data []byte, fn func(n int, line string) bool) {
	n := 0
	for len(data) > 0 {
		n++
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		if !fn(n, string(line)) {
			return
		}
	}
}

// baseName is the last element of a slash- or backslash-separated path.
func baseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return p
}
