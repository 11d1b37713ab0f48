package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the console's global keys.
type KeyMap struct {
	Panes   []key.Binding
	Next    key.Binding
	Prev    key.Binding
	Palette key.Binding
	Help    key.Binding
	Quit    key.Binding
}

// DefaultKeyMap returns the global keys.
func DefaultKeyMap() KeyMap {
	k := KeyMap{
		Next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Prev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Palette: key.NewBinding(key.WithKeys("ctrl+p", ":"), key.WithHelp(":", "commands")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
	for i, name := range paneNames {
		n := string(rune('1' + i))
		k.Panes = append(k.Panes, key.NewBinding(key.WithKeys(n), key.WithHelp(n, name)))
	}
	return k
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Palette, k.Quit} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{k.Panes, {k.Next, k.Prev, k.Palette, k.Help, k.Quit}}
}
