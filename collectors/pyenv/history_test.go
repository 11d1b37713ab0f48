package pyenv

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// entry is a HistoryEntry with its time as RFC 3339 ("" for nil).
type entry struct {
	time, command string
	line          int
}

func entries(es []HistoryEntry) []entry {
	var out []entry
	for _, e := range es {
		ts := ""
		if e.Time != nil {
			ts = e.Time.Format(time.RFC3339)
		}
		out = append(out, entry{ts, e.Command, e.Line})
	}
	return out
}

func TestParseHistories(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		parse func([]byte) []HistoryEntry
		want  []entry
	}{
		{"bash_history", ParseBashHistory, []entry{
			{"", "ls -la", 1},
			{"2026-03-24T10:40:00Z", "cd ~/src/acme-gateway", 3},
			{"2026-03-24T10:45:00Z", "pip install -U litellm==1.82.7", 5},
			{"2026-03-24T10:45:01Z", "python -m pip install 'litellm[proxy]==1.82.8' && litellm --version", 7},
			{"2026-03-24T10:46:40Z", "for f in *.py; do\n  python -S \"$f\"\ndone", 9},
			{"2026-03-24T11:00:00Z", "git status", 13},
		}},
		{"bash_history_plain", ParseBashHistory, []entry{
			{"", "cd ~/src", 1},
			{"", "pip3 install litellm==1.82.8", 2},
			{"", "sudo -H pip3 install --upgrade litellm", 4},
		}},
		{"zsh_history", ParseZshHistory, []entry{
			{"2026-03-24T10:40:00Z", "cd ~/src/acme-gateway", 1},
			{"2026-03-24T10:45:00Z", "uv pip install litellm==1.82.8", 2},
			{"2026-03-24T10:46:00Z", "echo start && \\\npip3 install \\\nlitellm==1.82.7", 3},
			{"2026-03-24T10:46:10Z", "for p in litellm openai; do\n  pip show $p\ndone", 6},
			{"", "plain-line-without-time", 9},
			{"2026-03-24T10:47:00Z", "echo voilà", 10},
			{"2026-03-24T11:00:00Z", "conda install -c conda-forge litellm=1.82.7 -y", 11},
		}},
		{"fish_history", ParseFishHistory, []entry{
			{"2026-03-24T10:57:52Z", "pip install litellm==1.82.8", 1},
			{"2026-03-24T11:00:00Z", "echo \"a\\b\"\necho next", 5},
			{"2026-03-24T11:01:00Z", "ls", 7},
		}},
		{"conda-meta-history", ParseCondaHistory, []entry{
			{"2026-03-24T10:44:58Z", "/opt/conda/bin/conda create -n agents python=3.11", 2},
			{"2026-03-24T10:44:58Z", "+defaults/linux-64::python-3.11.9-h955ad1f_0", 4},
			{"2026-03-24T10:45:01Z", "/opt/conda/bin/conda install -c conda-forge litellm=1.82.7", 7},
			{"2026-03-24T10:45:01Z", "-conda-forge/noarch::litellm-1.82.6-pyhd8ed1ab_0", 9},
			{"2026-03-24T10:45:01Z", "+conda-forge/noarch::litellm-1.82.7-pyhd8ed1ab_0", 10},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got := entries(tc.parse(readTestdata(t, "history", tc.file)))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseHistoryEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parse func([]byte) []HistoryEntry
		data  string
		want  []entry
	}{
		{"bash timestamp overflow", ParseBashHistory, "#99999999999999999999999\nls\n", []entry{{"", "ls", 2}}},
		{"bash timestamp with junk", ParseBashHistory, "#1774349100abc\nls\n", []entry{{"2026-03-24T10:45:00Z", "ls", 2}}},
		{"bash trailing timestamp", ParseBashHistory, "ls\n#1774349100\n", []entry{{"", "ls", 1}}},
		{"bash comment is not a timestamp", ParseBashHistory, "# note\nls\n", []entry{{"", "# note", 1}, {"", "ls", 2}}},
		{"zsh bad prefix", ParseZshHistory, ": abc:0;ls\n", []entry{{"", ": abc:0;ls", 1}}},
		{"zsh no elapsed", ParseZshHistory, ": 1774349100;ls\n", []entry{{"", ": 1774349100;ls", 1}}},
		{"zsh continuation at EOF", ParseZshHistory, ": 1774349100:0;pip install \\", []entry{{"2026-03-24T10:45:00Z", "pip install ", 1}}},
		{"zsh meta at end", ParseZshHistory, "ls\x83", []entry{{"", "ls\x83", 1}}},
		{"fish without when", ParseFishHistory, "- cmd: ls\n- cmd: pwd\n  when: x\n", []entry{{"", "ls", 1}, {"", "pwd", 2}}},
		{"fish stray lines", ParseFishHistory, "  when: 1\nnoise\n- cmd:\n", nil},
		{"conda bad stamp", ParseCondaHistory, "==> yesterday <==\n# cmd: conda install x\n+c::x-1-0\n", []entry{{"", "conda install x", 2}, {"", "+c::x-1-0", 3}}},
		{"conda specs lines are not entries", ParseCondaHistory, "# update specs: ['x']\n--- \n+ \n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := entries(tc.parse([]byte(tc.data)))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseHistoryKeepsNewest(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	n := maxHistoryEntries + 123
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "cmd%d\n", i)
	}
	got := ParseBashHistory([]byte(b.String()))
	if len(got) != maxHistoryEntries || got[0].Command != "cmd123" || got[len(got)-1].Command != fmt.Sprintf("cmd%d", n-1) {
		t.Errorf("kept %d entries, first %q", len(got), got[0].Command)
	}
	long := "#1774349100\n" + strings.Repeat("x", 100<<10) + "\n"
	if got := ParseBashHistory([]byte(long)); len(got) != 1 || len(got[0].Command) != maxString {
		t.Errorf("long command kept %d bytes", len(got[0].Command))
	}
}
