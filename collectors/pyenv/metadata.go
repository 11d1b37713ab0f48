package pyenv

import (
	"errors"
	"strings"
)

// Metadata is the header part of METADATA / PKG-INFO (RFC 822 style, stop at
// the first blank line; continuation lines; first Name/Version win).
type Metadata struct {
	Name    string // as written (not normalised)
	Version string
	Summary string
}

// ParseMetadata reads the headers of a METADATA or PKG-INFO file. Header names
// are case-insensitive. It returns an error when Name or Version is missing;
// the Metadata returned with that error holds whatever was found.
func ParseMetadata(data []byte) (Metadata, error) {
	if len(data) >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf {
		data = data[3:]
	}
	var m Metadata
	var haveName, haveVersion, haveSummary bool
	current := "" // header the next continuation line belongs to
	eachLine(data, func(_ int, line string) bool {
		if strings.TrimSpace(line) == "" {
			return false // end of the header block
		}
		if line[0] == ' ' || line[0] == '\t' {
			if current == "summary" && len(m.Summary) < maxString {
				m.Summary = clipString(m.Summary + " " + strings.TrimSpace(line))
			}
			return true
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			current = ""
			return true
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = clipString(strings.TrimSpace(value))
		current = ""
		switch key {
		case "name":
			if !haveName {
				m.Name, haveName = value, true
			}
		case "version":
			if !haveVersion {
				m.Version, haveVersion = value, true
			}
		case "summary":
			if !haveSummary {
				m.Summary, haveSummary = value, true
				current = "summary"
			}
		}
		return true
	})
	switch {
	case !haveName && !haveVersion:
		return m, errors.New("pyenv: metadata has no Name or Version header")
	case !haveName || m.Name == "":
		return m, errors.New("pyenv: metadata has no Name header")
	case !haveVersion || m.Version == "":
		return m, errors.New("pyenv: metadata has no Version header")
	}
	return m, nil
}
