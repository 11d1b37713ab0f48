package github_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
)

func TestResolvedActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"runner line", "2026-03-19T18:01:02.1234567Z Download action repository 'aquasecurity/trivy-action@0.28.0' (SHA:C5967F85626795F647D4BF6EB67227F9B79E02F5)\n",
			[]string{"aquasecurity/trivy-action@0.28.0=c5967f85626795f647d4bf6eb67227f9b79e02f5 at 2026-03-19T18:01:02Z"}},
		{"sub-path action, CRLF, no timestamp", "Download action repository 'github/codeql-action/init@v3' (SHA:1111111111111111111111111111111111111111)\r\n",
			[]string{"github/codeql-action@v3=1111111111111111111111111111111111111111"}},
		{"duplicates once", strings.Repeat("Download action repository 'a/b@v1' (SHA:2222222222222222222222222222222222222222)\n", 3),
			[]string{"a/b@v1=2222222222222222222222222222222222222222"}},
		{"short SHA ignored", "Download action repository 'a/b@v1' (SHA:2222)\n", nil},
		{"quoted look-alike in a run step", "echo \"Download action repository 'a/b@v1' (SHA:zz22222222222222222222222222222222222222)\"\n", nil},
	}
	for _, tc := range tests {
		got, err := ghc.ResolvedActions(strings.NewReader(tc.in), "job", 4096, 100)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, a := range got {
			x := a.Action + "@" + a.Ref + "=" + a.SHA
			if a.At != nil {
				x += " at " + a.At.UTC().Format("2006-01-02T15:04:05Z")
			}
			s = append(s, x)
		}
		if fmt.Sprint(s) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, s, tc.want)
		}
	}
	// A line over the bound is skipped, the next one still read.
	long := strings.Repeat("x", 10000) + "Download action repository 'a/b@v1' (SHA:3333333333333333333333333333333333333333)\nDownload action repository 'c/d@v2' (SHA:4444444444444444444444444444444444444444)\n"
	got, _ := ghc.ResolvedActions(strings.NewReader(long), "job", 4096, 100)
	if len(got) != 1 || got[0].Action != "c/d" {
		t.Errorf("long line: %+v", got)
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, c := range files {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(c))
	}
	zw.Close()
	return buf.Bytes()
}

func TestRunLogActionsBounds(t *testing.T) {
	t.Parallel()
	line := func(i int) string {
		return fmt.Sprintf("Download action repository 'o/r%d@v1' (SHA:%040d)\n", i, i)
	}
	lim := ghc.LogLimits{ZipBytes: 1 << 20, Files: 3, FileBytes: 1 << 10, Total: 4 << 10, LineBytes: 1 << 10, Actions: 100}
	files := map[string]string{}
	for i := 0; i < 5; i++ {
		files[fmt.Sprintf("job%d/1_Set up job.txt", i)] = line(i)
	}
	acts, note, err := ghc.RunLogActions(zipOf(t, files), lim)
	if err != nil || len(acts) != 3 || !strings.Contains(note, "only the first 3 log files") {
		t.Errorf("file bound: %d actions, note %q, %v", len(acts), note, err)
	}
	// Per-file bound: the SHA line after 2 KiB of padding is not reached.
	big := map[string]string{"job/1.txt": strings.Repeat("pad\n", 512) + line(9)}
	acts, note, _ = ghc.RunLogActions(zipOf(t, big), lim)
	if len(acts) != 0 || !strings.Contains(note, "read the first") {
		t.Errorf("per-file bound: %d actions, note %q", len(acts), note)
	}
	// A zip bomb's declared size does not matter: reads are bounded.
	bomb := map[string]string{"job/1.txt": strings.Repeat("\x00", 8<<20)}
	if _, _, err := ghc.RunLogActions(zipOf(t, bomb), lim); err != nil {
		t.Errorf("bounded read of a large entry failed: %v", err)
	}
	if _, _, err := ghc.RunLogActions(make([]byte, 2<<20), lim); err == nil {
		t.Error("an archive over ZipBytes was read")
	}
	if _, _, err := ghc.RunLogActions([]byte("not a zip"), lim); err == nil {
		t.Error("garbage read as an archive")
	}
}

// FuzzResolvedActions: job logs are untrusted text; the extractor must not
// panic, must respect its bounds, and must return only well-formed actions.
func FuzzResolvedActions(f *testing.F) {
	f.Add("2026-03-19T18:01:02.1234567Z Download action repository 'aquasecurity/trivy-action@0.28.0' (SHA:c5967f85626795f647d4bf6eb67227f9b79e02f5)\n")
	f.Add("Download action repository 'a/b/c@' (SHA:0000000000000000000000000000000000000000)")
	f.Add("\ufeff2026-13-99T99:99:99Z Download action repository 'a/b@v1' (SHA:1111111111111111111111111111111111111111)\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		acts, err := ghc.ResolvedActions(strings.NewReader(s), "job", 512, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) > 5 {
			t.Fatalf("%d actions over the bound", len(acts))
		}
		for _, a := range acts {
			if len(a.SHA) != 40 || strings.ToLower(a.SHA) != a.SHA || strings.Count(a.Action, "/") != 1 || strings.ToLower(a.Action) != a.Action {
				t.Fatalf("malformed %+v", a)
			}
		}
	})
}
