package pyenv

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The benign .pth files as they ship (see testdata/README.md for sources and
// the hashes that confirm the bytes).
func TestClassifyPthShippedFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		benign    string
		execLines int
	}{
		{"distutils-precedence.pth", "distutils-precedence", 1},
		{"_virtualenv.pth", "virtualenv", 1},
		{"google_cloud_core-2.3.2-py3.9-nspkg.pth", "nspkg", 2},
		{"matplotlib-nspkg.pth", "nspkg", 1},
		{"zope.interface-4.7.2-py3.8-nspkg.pth", "nspkg", 1},
		{"jaraco.classes-3.2.3-py3.11-nspkg.pth", "nspkg", 1},
		{"__editable__.tourniquet_demo-1.0.pth", "editable", 1},
		{"__editable__.strict_demo-0.1.pth", "editable", 0},
		{"_editable_impl_uv_demo.pth", "editable", 0},
		{"_tourniquet_demo.pth", "editable", 1},
		{"a1_coverage.pth", "coverage", 1},
		{"coverage_subprocess.pth", "coverage", 1},
		{"pytest-cov.pth", "pytest-cov", 1},
		{"pytest-cov-2.6.pth", "pytest-cov", 1},
		{"pywin32.pth", "pywin32", 1},
		{"easy-install.pth", "easy-install", 2},
		{"homebrew-abjad.pth", "homebrew", 1},
		{"vendor-paths.pth", "paths-only", 0},
		{"empty.pth", "empty", 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			v := ClassifyPth(tc.file, readTestdata(t, "pth", tc.file))
			if v.Benign != tc.benign || v.ExecLines != tc.execLines || v.Executable != (tc.execLines > 0) {
				t.Errorf("ClassifyPth = %+v, want Benign %q, %d exec lines", v, tc.benign, tc.execLines)
			}
			if v.Suspicious != nil {
				t.Errorf("benign file has markers %v", v.Suspicious)
			}
		})
	}
}

func TestClassifyPthLitellmShape(t *testing.T) {
	t.Parallel()
	data := readTestdata(t, "pth", "litellm_init.pth")
	if len(data) != 34628 {
		t.Fatalf("fixture is %d bytes, want 34628", len(data))
	}
	v := ClassifyPth("litellm_init.pth", data)
	if !v.Executable || v.Benign != "" || v.ExecLines != 1 {
		t.Fatalf("ClassifyPth = %+v", v)
	}
	for _, m := range []string{"subprocess", "exec", "base64", "b64decode", "popen", "long-line", "sys.executable", "devnull", "base64-blob"} {
		if !contains(v.Suspicious, m) {
			t.Errorf("marker %q missing from %v", m, v.Suspicious)
		}
	}
	for _, m := range []string{"socket", "eval", "hex-escapes", "os.system"} {
		if contains(v.Suspicious, m) {
			t.Errorf("unexpected marker %q in %v", m, v.Suspicious)
		}
	}
	if len(v.Excerpt) > 200 || !strings.HasPrefix(v.Excerpt, "import os, subprocess, sys; subprocess.Popen(") || !strings.HasSuffix(v.Excerpt, "…") {
		t.Errorf("Excerpt = %q (%d bytes)", v.Excerpt, len(v.Excerpt))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A malicious statement or line added to a benign file must not pass.
func TestClassifyPthTampered(t *testing.T) {
	t.Parallel()
	shim := strings.TrimRight(string(readTestdata(t, "pth", "distutils-precedence.pth")), "\n")
	payload := `import subprocess; subprocess.Popen(["sh", "-c", "echo tampered"])`
	nspkg := strings.TrimRight(string(readTestdata(t, "pth", "matplotlib-nspkg.pth")), "\n")
	tests := []struct {
		name, file, data string
		markers          []string
	}{
		{"appended statement", "distutils-precedence.pth", shim + payload + "\n", []string{"subprocess", "popen"}},
		{"appended line", "distutils-precedence.pth", shim + "\n" + payload + "\n", []string{"subprocess", "popen"}},
		{"prepended line", "distutils-precedence.pth", payload + "\n" + shim + "\n", []string{"subprocess", "popen"}},
		{"virtualenv plus", "_virtualenv.pth", "import _virtualenv; import os; os.system('id')", []string{"os.system"}},
		{"virtualenv second line", "_virtualenv.pth", "import _virtualenv\nimport os; os.system('id')\n", []string{"os.system"}},
		{"nspkg extra statement", "matplotlib-nspkg.pth", nspkg + ";__import__('os').system('id')\n", []string{"__import__('os')"}},
		{"nspkg foreign package", "x-nspkg.pth", strings.Replace(nspkg, "*('mpl_toolkits',)", "*('other',)", 1) + "\n", nil},
		{"editable finder mismatch", "__editable__.x-1.0.pth", "import __editable___x_1_0_finder; __editable___evil_finder.install()", nil},
		{"editable finder plus", "__editable__.x-1.0.pth", "import __editable___x_1_0_finder; __editable___x_1_0_finder.install(); exec('1')", []string{"exec"}},
		{"coverage literal with extra code", "a1_coverage.pth", "import sys; exec('import os\\nimport coverage\\ncoverage.process_startup()\\nos.system(\"id\")')\n", []string{"exec", "os.system"}},
		{"coverage literal hex escape", "a1_coverage.pth", `import sys; exec('import coverage\x0a__import__("os")')` + "\n", []string{"exec"}},
		{"coverage then call", "a1_coverage.pth", "import sys; exec('import coverage\\ncoverage.process_startup()'); print(1)\n", []string{"exec"}},
		{"homebrew name required", "evil.pth", "import site; site.addsitedir('/tmp/x')\n", []string{"tmp-path"}},
		{"split by form feed", "distutils-precedence.pth", shim + "\f" + payload + "\n", []string{"subprocess", "popen"}},
		{"hidden after CR", "_virtualenv.pth", "import _virtualenv\r" + payload, []string{"subprocess", "popen"}},
		{"easy-install plus", "easy-install.pth", "import sys; sys.__plen = len(sys.path)\nimport sys; sys.__plen = len(sys.path); import socket\n", []string{"socket"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := ClassifyPth(tc.file, []byte(tc.data))
			if v.Benign != "" || !v.Executable {
				t.Fatalf("ClassifyPth = %+v, want executable and not benign", v)
			}
			for _, m := range tc.markers {
				if !contains(v.Suspicious, m) {
					t.Errorf("marker %q missing from %v", m, v.Suspicious)
				}
			}
		})
	}
}

func TestClassifyPthLineRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		exec       int
		benign     string
		markers    []string
	}{
		{"comment import", "# import os\n", 0, "empty", nil},
		{"indented import is a path", " import os\n", 0, "paths-only", nil},
		{"tab import", "import\tos\n", 1, "", nil},
		{"importlib is a path", "importlib\n", 0, "paths-only", nil},
		{"BOM then import", "\xef\xbb\xbfimport _virtualenv\n", 1, "virtualenv", nil},
		{"CRLF", "import _virtualenv\r\n", 1, "virtualenv", nil},
		{"U+2028 split (3.13)", "/a/path\u2028import os;os.system('x')\n", 1, "", []string{"os.system"}},
		{"vertical tab split", "# c\vimport socket\n", 1, "", []string{"socket"}},
		{"latin-1 NEL split", "/p\x85import socket\xff\n", 1, "", []string{"socket"}},
		{"UTF-8 0x85 inside a letter is not a split", "/home/\xc3\x85sa/import x\n", 0, "paths-only", nil},
		{"hex escapes", `import os; exec("\x69\x6d\x70\x6f\x72\x74\x20\x6f\x73")`, 1, "", []string{"exec", "hex-escapes"}},
		{"eval compile marshal zlib codecs", "import marshal, zlib, codecs; eval(compile(marshal.loads(zlib.decompress(b'')), 'x', 'exec'))\n", 1, "", []string{"eval", "marshal", "zlib", "codecs", "compile"}},
		{"network", "import urllib.request, socket, requests; urllib.request.urlopen('https://example.invalid')\n", 1, "", []string{"socket", "urllib", "http", "requests"}},
		{"dunder import os", "import sys; __import__( 'os' ).popen('id')\n", 1, "", []string{"popen", "__import__('os')"}},
		{"long line", "import os; x = '" + strings.Repeat("a ", 1100) + "'\n", 1, "", []string{"long-line"}},
		{"unknown harmless import", "import foo_bar\n", 1, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := ClassifyPth("x.pth", []byte(tc.data))
			if v.ExecLines != tc.exec || v.Benign != tc.benign || !reflect.DeepEqual(v.Suspicious, tc.markers) {
				t.Errorf("ClassifyPth(%q) = %+v, want %d exec lines, Benign %q, markers %v", tc.data, v, tc.exec, tc.benign, tc.markers)
			}
		})
	}
}

func TestClassifyPthPathLabels(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"easy-install.pth":                      "easy-install",
		"pywin32.pth":                           "pywin32",
		"homebrew-foo.pth":                      "homebrew",
		"__editable__.foo-1.0.pth":              "editable",
		"_foo.pth":                              "editable",
		"site-packages/vendor.pth":              "paths-only",
		`C:\Python311\Lib\site-packages\_x.pth`: "editable",
	} {
		if v := ClassifyPth(name, []byte("/some/dir\n")); v.Benign != want {
			t.Errorf("ClassifyPth(%q) Benign = %q, want %q", name, v.Benign, want)
		}
	}
}

func TestExcerptEscapesAndCuts(t *testing.T) {
	t.Parallel()
	v := ClassifyPth("x.pth", []byte("import os\x1b[2J; print('\u202e')\n"))
	if v.Excerpt != `import os\x1b[2J; print('\u202e')` {
		t.Errorf("Excerpt = %q", v.Excerpt)
	}
	long := "import os; " + strings.Repeat("\x01", 300)
	got := excerpt(long, 200)
	if len(got) > 200 || !strings.HasSuffix(got, "…") || strings.HasSuffix(strings.TrimSuffix(got, "…"), `\x0`) {
		t.Errorf("excerpt = %q (%d bytes)", got, len(got))
	}
	if got := excerpt("short", 200); got != "short" {
		t.Errorf("excerpt(short) = %q", got)
	}
}

func TestPthMarkerTableComputedBits(t *testing.T) {
	t.Parallel()
	if pthMarkers[markerImportOS].name != "__import__('os')" || pthMarkers[markerLongLine].name != "long-line" || pthMarkers[markerHexEscapes].name != "hex-escapes" ||
		pthMarkers[markerBase64Blob].name != "base64-blob" || len(pthMarkers) > 64 {
		t.Fatal("pthMarkers table and the computed marker indexes are out of step")
	}
}

func BenchmarkClassifyPth(b *testing.B) {
	for _, file := range []string{"litellm_init.pth", "distutils-precedence.pth"} {
		data := readTestdata(b, "pth", file)
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				ClassifyPth(file, data)
			}
		})
	}
}

// Lines full of bytes that start a separator without being one, or of
// blob-breaking characters, must stay linear.
func TestClassifyPthAdversarialLinesAreFast(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"0xc2 run":     "import os; x = '" + strings.Repeat("\u00b0", 200000) + "'\n",
		"0xe2 run":     "import os; x = '" + strings.Repeat("\u2026", 200000) + "'\n",
		"latin-1 0x85": "import os; x = '" + strings.Repeat("\xc2", 200000) + "'\n",
		"short runs":   "import os; x = '" + strings.Repeat(strings.Repeat("A", 250)+" ", 2000) + "'\n",
		"many lines":   strings.Repeat("import x\n", 100000),
		"needle spam":  "import os; " + strings.Repeat("exe exec_ eval_ __import__ ", 50000) + "\n",
	} {
		start := time.Now()
		v := ClassifyPth("x.pth", []byte(data))
		if d := time.Since(start); d > 10*time.Second { // quadratic would take minutes
			t.Errorf("%s: %v (%+v)", name, d, v.Suspicious)
		}
	}
}
