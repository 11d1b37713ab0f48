// Package theme holds the console's styles. Every meaning carried by colour
// is also carried by text (CRIT, EXPOSED, ▲), so NO_COLOR loses nothing.
package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Theme is the set of styles the panes render with.
type Theme struct {
	Title, Tab, TabActive, Header, Cursor, Selected, Dim, Bold, Box, BoxTitle lipgloss.Style
	Bad, Warn, Good, Info, Accent                                             lipgloss.Style
	Dialog, Key                                                               lipgloss.Style
}

var (
	red    = lipgloss.Color("#ff5f5f")
	orange = lipgloss.Color("#ffaf5f")
	yellow = lipgloss.Color("#ffd75f")
	green  = lipgloss.Color("#87d787")
	blue   = lipgloss.Color("#5fafff")
	grey   = lipgloss.Color("#8a8a8a")
	cursor = lipgloss.Color("#303a4a")
)

// New returns the default theme. Colours are downsampled (or dropped for
// NO_COLOR) by the terminal renderer; layouts never depend on them.
func New() Theme {
	fg := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	return Theme{
		Title:     lipgloss.NewStyle().Bold(true),
		Tab:       fg(grey),
		TabActive: lipgloss.NewStyle().Bold(true).Underline(true),
		Header:    lipgloss.NewStyle().Bold(true).Foreground(grey),
		Cursor:    lipgloss.NewStyle().Background(cursor).Bold(true),
		Selected:  fg(blue).Bold(true),
		Dim:       fg(grey),
		Bold:      lipgloss.NewStyle().Bold(true),
		Box:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(grey).Padding(0, 1),
		BoxTitle:  lipgloss.NewStyle().Bold(true).Foreground(blue),
		Bad:       fg(red).Bold(true),
		Warn:      fg(orange),
		Good:      fg(green),
		Info:      fg(blue),
		Accent:    fg(yellow),
		Dialog:    lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(orange).Padding(0, 2),
		Key:       fg(blue).Bold(true),
	}
}

// Severity returns a fixed-width label for a severity and its style.
func (t Theme) Severity(sev string) (string, lipgloss.Style) {
	switch sev {
	case "critical":
		return "CRIT", t.Bad
	case "high":
		return "HIGH", t.Warn
	case "medium":
		return "MED ", t.Accent
	case "low":
		return "LOW ", t.Info
	}
	return "INFO", t.Dim
}

// Exposure returns a label for a credential's exposure and its style.
func (t Theme) Exposure(exp string) (string, lipgloss.Style) {
	switch exp {
	case "exposed":
		return "EXPOSED", t.Bad
	case "not_exposed":
		return "not exposed", t.Good
	}
	return "unknown", t.Accent
}

// Rotation returns a label for a rotation status and its style.
func (t Theme) Rotation(rot string) (string, lipgloss.Style) {
	switch rot {
	case "rotated":
		return "rotated", t.Good
	case "in_progress":
		return "rotating", t.Info
	case "manual_required":
		return "MANUAL", t.Accent
	}
	return "pending", t.Warn
}

// Verdict returns a label for a host verdict and its style.
func (t Theme) Verdict(v string) (string, lipgloss.Style) {
	switch v {
	case "compromised":
		return "COMPROMISED", t.Bad
	case "was_compromised":
		return "WAS COMPROMISED", t.Warn
	case "clean":
		return "clean", t.Good
	}
	return "unknown", t.Accent
}

// StepState returns an icon and style for a playbook step state.
func (t Theme) StepState(state string) (string, lipgloss.Style) {
	switch state {
	case "done":
		return "✓", t.Good
	case "failed":
		return "✗", t.Bad
	case "awaiting_approval":
		return "?", t.Accent
	case "intent":
		return "…", t.Info
	case "skipped":
		return "-", t.Dim
	}
	return "·", t.Dim
}
