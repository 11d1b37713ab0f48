package pyenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds every file under testdata/<dir> as a seed.
func addSeeds(f *testing.F, dir string, add func(data []byte)) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func checkString(t *testing.T, what, s string, max int) {
	t.Helper()
	if len(s) > max {
		t.Fatalf("%s is %d bytes, limit %d", what, len(s), max)
	}
}

func FuzzParseMetadata(f *testing.F) {
	addSeeds(f, "metadata", func(b []byte) { f.Add(b) })
	f.Add([]byte("Name: x\n Summary: y\nSummary: a\n\tb\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err == nil && (m.Name == "" || m.Version == "") {
			t.Fatalf("no error but %+v", m)
		}
		checkString(t, "Name", m.Name, maxString)
		checkString(t, "Version", m.Version, maxString)
		checkString(t, "Summary", m.Summary, maxString)
	})
}

func FuzzParseRecord(f *testing.F) {
	addSeeds(f, "record", func(b []byte) { f.Add(b) })
	f.Add([]byte("\"a,b\",sha256=x,1\n\"unterminated,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := ParseRecord(data)
		if len(entries) > maxRecordEntries {
			t.Fatalf("%d entries", len(entries))
		}
		for _, e := range entries {
			if strings.TrimSpace(e.Path) == "" || e.Size < -1 {
				t.Fatalf("bad entry %+v", e)
			}
			checkString(t, "Path", e.Path, maxString)
			if h := DigestHex(e.Digest); h != "" && len(h) != 64 {
				t.Fatalf("DigestHex(%q) = %q", e.Digest, h)
			}
		}
	})
}

// dangerousInCode are words no benign recogniser accepts in code.
var dangerousInCode = []string{"subprocess", "socket", "system(", "urllib", "base64", "popen", "marshal", "eval(", "compile(", "ctypes", "pickle"}

func FuzzClassifyPth(f *testing.F) {
	addSeeds(f, "pth", func(b []byte) { f.Add("x.pth", b) })
	f.Add("distutils-precedence.pth", []byte("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); import subprocess\n"))
	f.Add("homebrew-x.pth", []byte("import site; site.addsitedir('/x')\r\n\x85import os\u2028import socket"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		v := ClassifyPth(name, data)
		if v.Executable != (v.ExecLines > 0) {
			t.Fatalf("Executable %v with %d exec lines", v.Executable, v.ExecLines)
		}
		if !v.Executable && v.Benign == "" {
			t.Fatal("a file without code must be benign")
		}
		if v.Benign != "" && v.Suspicious != nil {
			t.Fatalf("benign %q with markers %v", v.Benign, v.Suspicious)
		}
		if v.Executable != (v.Excerpt != "") {
			t.Fatalf("Excerpt %q for Executable %v", v.Excerpt, v.Executable)
		}
		checkString(t, "Excerpt", v.Excerpt, pthExcerptMax)
		if !utf8.ValidString(v.Excerpt) {
			t.Fatalf("Excerpt is not UTF-8: %q", v.Excerpt)
		}
		for _, r := range v.Excerpt {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character in Excerpt %q", v.Excerpt)
			}
		}
		if v.Benign == "" || !v.Executable {
			return
		}
		// A benign file's code (every fragment any splitting makes
		// executable) holds none of the dangerous words.
		lines := strings.FieldsFunc(string(data), func(r rune) bool {
			return strings.ContainsRune("\r\n\v\f\x1c\x1d\x1e\u0085\u2028\u2029\ufffd", r)
		})
		for _, l := range lines {
			l = strings.TrimPrefix(l, "\ufeff")
			if !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "import\t") {
				continue
			}
			// pytest-cov's hook prints this message; it is data.
			lower := strings.ToLower(strings.ReplaceAll(l, "Failed to setup subprocess coverage.", ""))
			for _, w := range dangerousInCode {
				if strings.Contains(lower, w) {
					t.Fatalf("benign %q but code line %q holds %q", v.Benign, l, w)
				}
			}
		}
	})
}

var manifestNames = []string{
	"requirements.txt", "dev.in", "pyproject.toml", "poetry.lock", "uv.lock",
	"pdm.lock", "pylock.toml", "Pipfile", "Pipfile.lock",
}

func checkPins(t *testing.T, pins []Pin, withLines bool, lines int) {
	t.Helper()
	if len(pins) > maxPins {
		t.Fatalf("%d pins", len(pins))
	}
	for _, p := range pins {
		if p.Name == "" || NormalizeName(p.Name) != p.Name || strings.ContainsAny(p.Name, " \t\n") {
			t.Fatalf("bad name in %+v", p)
		}
		if p.Version != "" && !validVersion(p.Version) {
			t.Fatalf("bad version in %+v", p)
		}
		checkString(t, "Spec", p.Spec, maxString)
		if withLines && (p.Line < 1 || p.Line > lines) {
			t.Fatalf("line %d outside 1..%d in %+v", p.Line, lines, p)
		}
		if !withLines && p.Line != 0 {
			t.Fatalf("command pin with a line: %+v", p)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	addSeeds(f, "manifests", func(b []byte) {
		for i := range manifestNames {
			f.Add(byte(i), b)
		}
	})
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		name := manifestNames[int(sel)%len(manifestNames)]
		pins, ok := ParseManifest(name, data)
		if !ok {
			t.Fatalf("%s not dispatched", name)
		}
		checkPins(t, pins, true, bytes.Count(data, []byte("\n"))+1)
	})
}

var historyParsers = []func([]byte) []HistoryEntry{ParseBashHistory, ParseZshHistory, ParseFishHistory, ParseCondaHistory}

func FuzzParseHistory(f *testing.F) {
	addSeeds(f, "history", func(b []byte) {
		for i := range historyParsers {
			f.Add(byte(i), b)
		}
	})
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		entries := historyParsers[int(sel)%len(historyParsers)](data)
		if len(entries) > maxHistoryEntries {
			t.Fatalf("%d entries", len(entries))
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range entries {
			checkString(t, "Command", e.Command, maxString)
			if strings.TrimSpace(e.Command) == "" || e.Line < 1 || e.Line > lines {
				t.Fatalf("bad entry %+v (%d lines)", e, lines)
			}
		}
	})
}

func FuzzInstallPins(f *testing.F) {
	for _, c := range []string{
		"pip install -U litellm==1.82.7 && python -m pip install 'litellm[proxy]==1.82.8'",
		"sudo -H env X=1 pip3 install --upgrade litellm openai==1.68.2; uv pip install litellm==1.82.8",
		"uvx --from litellm==1.82.7 --with a,b litellm; pipx inject v litellm==1.82.8",
		"conda install -c conda-forge conda-forge::litellm=1.82.7=py_0 'x 1.0' -y | mamba install y==2",
		"bash -c \"poetry add litellm@1.82.7 && pdm add -G dev litellm==1.82.8\"",
		"RUN --mount=x pip install \\\n ./w/litellm-1.82.8-py3-none-any.whl -e git+https://h/r#egg=litellm",
		"!pip install $(cat x) `y` \"unterminated",
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		checkPins(t, InstallPins(cmd), false, 0)
	})
}

func FuzzParseWorkflowUses(f *testing.F) {
	addSeeds(f, "workflows", func(b []byte) { f.Add(b) })
	f.Add([]byte("- {uses: a/b@v1, x: 'uses: c/d@v2'}\n- run: |\n    uses: e/f@1\n  uses: \"g/h/i@j\" # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		uses := ParseWorkflowUses(data)
		if len(uses) > maxUses {
			t.Fatalf("%d uses", len(uses))
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, u := range uses {
			if strings.Count(u.Action, "/") != 1 || u.Action != strings.ToLower(u.Action) || u.Line < 1 || u.Line > lines {
				t.Fatalf("bad use %+v", u)
			}
			if strings.HasPrefix(u.Raw, ".") || strings.HasPrefix(strings.ToLower(u.Raw), "docker://") {
				t.Fatalf("local or docker use kept: %+v", u)
			}
			checkString(t, "Raw", u.Raw, maxString)
		}
	})
}

func FuzzZipNames(f *testing.F) {
	whl := wheelLike(f, wheelNames...)
	f.Add([]byte{}, whl)
	f.Add([]byte("cc=4,\x00\x82\xa8response HTTP/1.1 200 OK\r\n\r\n"), whl)
	f.Add([]byte{}, hugeDeclaredZip())
	f.Add([]byte("PK\x03\x04"), []byte("PK\x05\x06"+string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, prefix, body []byte) {
		data := append(append([]byte{}, prefix...), body...)
		names, err := ZipNames(bytes.NewReader(data), int64(len(data)))
		if len(names) > maxZipNames {
			t.Fatalf("%d names", len(names))
		}
		if err != nil && names != nil && len(names) != maxZipNames {
			t.Fatalf("names %q with error %v", names, err)
		}
		for _, n := range names {
			checkString(t, "name", n, maxString)
		}
	})
}
