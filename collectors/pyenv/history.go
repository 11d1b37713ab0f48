package pyenv

import (
	"strconv"
	"strings"
	"time"
)

// HistoryEntry is one command from a shell or tool history; Time is nil when
// the history has no timestamp for it. Line is the 1-based line where the
// entry starts; Command is cut to 4 KiB.
type HistoryEntry struct {
	Time    *time.Time
	Command string
	Line    int
}

// maxHistoryCommand bounds the text gathered for one multi-line command
// before it is cut to maxString.
const maxHistoryCommand = 64 << 10

// historyList keeps the newest maxHistoryEntries entries: histories are
// appended to, and an investigation cares most about recent commands.
type historyList []HistoryEntry

func (h *historyList) add(e HistoryEntry) {
	e.Command = clipString(e.Command)
	*h = append(*h, e)
	if len(*h) >= 2*maxHistoryEntries {
		n := copy(*h, (*h)[len(*h)-maxHistoryEntries:])
		*h = (*h)[:n]
	}
}

func (h historyList) result() []HistoryEntry {
	if len(h) > maxHistoryEntries {
		h = h[len(h)-maxHistoryEntries:]
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

func unixTime(s string) *time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return nil
	}
	t := time.Unix(n, 0).UTC()
	return &t
}

// appendCapped appends s to b unless b is already at the command limit.
func appendCapped(b *strings.Builder, s string) {
	if b.Len() < maxHistoryCommand {
		b.WriteString(clip(s, maxHistoryCommand-b.Len()))
	}
}

// ParseBashHistory reads ~/.bash_history. With HISTTIMEFORMAT set, bash
// writes a "#<epoch seconds>" line before each command (bash takes any line
// that is "#" then a digit as one); the lines after a timestamp up to the
// next one are one command (several lines for a multi-line command, joined
// with "\n", as bash's lithist reading does). Lines before the first
// timestamp, and every line of a history without timestamps, are commands
// of their own with a nil Time.
func ParseBashHistory(data []byte) []HistoryEntry {
	var out historyList
	var cmd strings.Builder
	var when *time.Time
	start, stamped := 0, false
	flush := func() {
		if strings.TrimSpace(cmd.String()) != "" {
			out.add(HistoryEntry{Time: when, Command: cmd.String(), Line: start})
		}
		cmd.Reset()
	}
	eachLine(data, func(n int, line string) bool {
		if len(line) >= 2 && line[0] == '#' && isDigit(line[1]) {
			flush()
			digits := line[1:]
			for i := 0; i < len(digits); i++ {
				if !isDigit(digits[i]) {
					digits = digits[:i]
					break
				}
			}
			when, stamped = unixTime(digits), true
			return true
		}
		if !stamped {
			when, start = nil, n
			appendCapped(&cmd, line)
			flush()
			return true
		}
		if cmd.Len() == 0 {
			start = n
		} else {
			appendCapped(&cmd, "\n")
		}
		appendCapped(&cmd, line)
		return true
	})
	flush()
	return out.result()
}

// ParseZshHistory reads ~/.zsh_history (or $HISTFILE): extended entries
// ": <start>:<elapsed>;<command>", plain lines without time, and multi-line
// commands whose lines end with a backslash. zsh's metafied bytes (0x83
// followed by the byte XOR 0x20) are decoded.
func ParseZshHistory(data []byte) []HistoryEntry {
	var out historyList
	var cmd strings.Builder
	var when *time.Time
	start, cont := 0, false
	eachLine(data, func(n int, raw string) bool {
		line := unmetafy(raw)
		if !cont {
			start, when = n, nil
			if rest, ok := strings.CutPrefix(line, ": "); ok {
				if ts, tail, ok := strings.Cut(rest, ":"); ok && isAllDigits(ts) {
					if _, command, ok := strings.Cut(tail, ";"); ok {
						when = unixTime(ts)
						line = command
					}
				}
			}
		}
		if strings.HasSuffix(line, `\`) {
			appendCapped(&cmd, line[:len(line)-1])
			appendCapped(&cmd, "\n")
			cont = true
			return true
		}
		appendCapped(&cmd, line)
		cont = false
		if strings.TrimSpace(cmd.String()) != "" {
			out.add(HistoryEntry{Time: when, Command: cmd.String(), Line: start})
		}
		cmd.Reset()
		return true
	})
	if cont && strings.TrimSpace(cmd.String()) != "" {
		out.add(HistoryEntry{Time: when, Command: strings.TrimSuffix(cmd.String(), "\n"), Line: start})
	}
	return out.result()
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// unmetafy undoes zsh's metafication: Meta (0x83) then the byte XOR 0x20.
func unmetafy(s string) string {
	i := strings.IndexByte(s, 0x83)
	if i < 0 {
		return s
	}
	b := []byte(s[:i])
	for ; i < len(s); i++ {
		if s[i] == 0x83 && i+1 < len(s) {
			i++
			b = append(b, s[i]^0x20)
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ParseFishHistory reads fish's history file, a YAML-like list where each
// entry is a "- cmd: pip install litellm==1.82.8" line followed by indented
// "when: 1711277000" and "paths:" lines. The cmd value has fish's escapes
// undone ("\\" and "\n").
func ParseFishHistory(data []byte) []HistoryEntry {
	var out historyList
	var cur *HistoryEntry
	flush := func() {
		if cur != nil && strings.TrimSpace(cur.Command) != "" {
			out.add(*cur)
		}
		cur = nil
	}
	eachLine(data, func(n int, line string) bool {
		if rest, ok := strings.CutPrefix(line, "- cmd:"); ok {
			flush()
			cur = &HistoryEntry{Command: unescapeFish(strings.TrimPrefix(rest, " ")), Line: n}
			return true
		}
		if cur == nil {
			return true
		}
		if rest, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "when:"); ok && strings.HasPrefix(line, " ") {
			if cur.Time == nil {
				cur.Time = unixTime(strings.TrimSpace(rest))
			}
		}
		return true
	})
	flush()
	return out.result()
}

func unescapeFish(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ParseCondaHistory reads an environment's conda-meta/history. Each
// "==> 2026-03-24 10:45:01 <==" line starts a block; its "# cmd: ..." line
// gives an entry whose Command is the command, and every "+channel::dist"
// (installed) and "-channel::dist" (removed) line gives an entry whose
// Command is that line as written, e.g.
// "+conda-forge/noarch::litellm-1.82.7-pyhd8ed1ab_0"; all carry the block's
// time. Conda writes local time without a zone; it is read as UTC here, so
// a caller that knows the host's zone must shift it.
func ParseCondaHistory(data []byte) []HistoryEntry {
	var out historyList
	var when *time.Time
	eachLine(data, func(n int, line string) bool {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "==>") && strings.HasSuffix(t, "<=="):
			stamp := strings.TrimSpace(t[3 : len(t)-3])
			if ts, err := time.Parse("2006-01-02 15:04:05", stamp); err == nil {
				when = &ts
			} else {
				when = nil
			}
		case strings.HasPrefix(t, "# cmd:"):
			if c := strings.TrimSpace(t[len("# cmd:"):]); c != "" {
				out.add(HistoryEntry{Time: when, Command: c, Line: n})
			}
		case len(t) > 1 && (t[0] == '+' || t[0] == '-') && t[1] != '-' && t[1] != ' ':
			out.add(HistoryEntry{Time: when, Command: t, Line: n})
		}
		return true
	})
	return out.result()
}
