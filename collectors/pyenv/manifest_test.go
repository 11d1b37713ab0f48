package pyenv

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseManifestFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, as string // fixture, and the name passed to ParseManifest
		want     []Pin
	}{
		{"requirements.txt", "requirements.txt", []Pin{
			{"aiohttp", "3.10.5", "aiohttp==3.10.5", 9},
			{"litellm", "1.82.7", "litellm==1.82.7", 12},
			{"openai", "", "openai>=1.68.2", 16},
			{"litellm", "", "litellm[proxy]>=1.80", 17},
			{"requests", "2.32.3", "requests == 2.32.3", 18},
			{"litellm", "", "git+https://github.com/BerriAI/litellm.git@v1.82.6#egg=litellm", 19},
			{"litellm", "1.82.8", "https://files.pythonhosted.org/packages/ab/cd/litellm-1.82.8-py3-none-any.whl", 21},
			{"tiktoken", "0.7.0", "./wheels/tiktoken-0.7.0-cp311-cp311-manylinux_2_17_x86_64.whl", 22},
			{"pydantic", "2.9.2", "pydantic===2.9.2", 23},
			{"numpy", "", "numpy==1.26.*", 24},
			{"django", "", "Django (>=4.2, <5)", 25},
			{"fastapi", "0.115.0", "fastapi @ https://files.pythonhosted.org/packages/ee/ff/fastapi-0.115.0-py3-none-any.whl", 26},
		}},
		{"requirements-dev.in", "requirements-dev.in", []Pin{
			{"litellm", "", "litellm", 2},
			{"pytest", "", "pytest>=8", 3},
		}},
		{"pyproject.toml", "pyproject.toml", []Pin{
			{"hatchling", "", "hatchling>=1.25", 2},
			{"litellm", "1.82.7", "litellm[proxy]==1.82.7", 14},
			{"fastapi", "", "fastapi>=0.110", 15},
			{"uvicorn", "", "uvicorn[standard] ~= 0.30", 16},
			{"httpx", "", "httpx (>=0.27,<1)", 17},
			{"opentelemetry-sdk", "1.27.0", "opentelemetry-sdk==1.27.0", 21},
			{"pytest", "", "pytest>=8", 23},
			{"litellm", "1.82.8", "litellm==1.82.8", 24},
			{"ruff", "0.6.9", "ruff==0.6.9", 28},
			{"pytest-cov", "", "pytest-cov", 29},
			{"mypy", "1.11.2", "mypy==1.11.2", 32},
			{"openai", "1.68.2", "openai==1.68.2", 33},
		}},
		{"pyproject-poetry.toml", "pyproject.toml", []Pin{
			{"litellm", "1.82.7", "litellm 1.82.7", 9},
			{"openai", "", "openai ^1.68", 10},
			{"tiktoken", "0.7.0", "tiktoken ==0.7.0", 11},
			{"requests", "2.32.3", "requests[socks] =2.32.3", 12},
			{"pydantic", "", "pydantic >=2.0,<3", 13},
			{"langchain", "0.2.16", "langchain 0.2.16", 15},
			{"langchain", "0.3.0", "langchain 0.3.0", 16},
			{"mylib", "", "mylib git=https://github.com/acme/mylib.git", 18},
			{"pytest", "", "pytest ^8.0", 21},
			{"litellm", "1.82.8", "litellm[proxy] 1.82.8", 22},
			{"black", "24.8.0", "black 24.8.0", 25},
			{"poetry-core", "", "poetry-core", 28},
		}},
		{"poetry.lock", "poetry.lock", []Pin{
			{"aiohttp", "3.10.5", "aiohttp 3.10.5", 4},
			{"litellm", "1.82.7", "litellm 1.82.7", 21},
			{"openai", "1.68.2", "openai 1.68.2", 41},
		}},
		{"uv.lock", "uv.lock", []Pin{
			{"acme-gateway", "0.4.0", "acme-gateway 0.4.0", 6},
			{"aiohttp", "3.10.5", "aiohttp 3.10.5", 17},
			{"litellm", "1.82.8", "litellm 1.82.8", 23},
			{"openai", "1.68.2", "openai 1.68.2", 42},
		}},
		{"pdm.lock", "pdm.lock", []Pin{
			{"litellm", "1.82.7", "litellm 1.82.7", 14},
			{"tiktoken", "0.7.0", "tiktoken 0.7.0", 29},
		}},
		{"pylock.toml", "pylock.toml", []Pin{
			{"litellm", "1.82.8", "litellm 1.82.8", 6},
			{"openai", "1.68.2", "openai 1.68.2", 12},
		}},
		{"Pipfile", "Pipfile", []Pin{
			{"litellm", "1.82.7", "litellm ==1.82.7", 7},
			{"openai", "", "openai *", 8},
			{"requests", "2.32.3", "requests[socks] ==2.32.3", 9},
			{"mylib", "", "mylib git=https://github.com/acme/mylib.git", 10},
			{"pytest", "", "pytest >=8", 13},
		}},
		{"Pipfile.lock", "Pipfile.lock", []Pin{
			{"litellm", "1.82.7", "litellm ==1.82.7", 19},
			{"mylib", "", "mylib https://github.com/acme/mylib.git", 28},
			{"openai", "1.68.2", "openai ==1.68.2", 32},
			{"pytest", "8.3.3", "pytest ==8.3.3", 38},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseManifest(tc.as, readTestdata(t, "manifests", tc.file))
			if !ok {
				t.Fatalf("ParseManifest(%q) not ok", tc.as)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseManifest(%q) =\n%s\nwant\n%s", tc.as, pinsString(got), pinsString(tc.want))
			}
		})
	}
}

func pinsString(pins []Pin) string {
	var b strings.Builder
	for _, p := range pins {
		fmt.Fprintf(&b, "  %q %q %q %d\n", p.Name, p.Version, p.Spec, p.Line)
	}
	return b.String()
}

func TestParseManifestDispatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"requirements.txt", true},
		{"/srv/app/requirements-prod.txt", true},
		{"dev-requirements.txt", true},
		{"constraints.txt", true},
		{"requirements.in", true},
		{"dev.in", true},
		{"MANIFEST.in", false},
		{".in", false},
		{"pyproject.toml", true},
		{`C:\src\app\PYPROJECT.TOML`, true},
		{"poetry.lock", true},
		{"uv.lock", true},
		{"pdm.lock", true},
		{"pylock.toml", true},
		{"pylock.dev.toml", true},
		{"Pipfile", true},
		{"Pipfile.lock", true},
		{"package-lock.json", false},
		{"setup.py", false},
		{"notes.txt", false},
		{"Cargo.lock", false},
	}
	for _, tc := range tests {
		if _, ok := ParseManifest(tc.name, []byte("litellm==1.82.7\n")); ok != tc.ok {
			t.Errorf("ParseManifest(%q) ok = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

func TestParseRequirementsLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []Pin
	}{
		{"comment after hash", "litellm==1.82.7#not-a-comment\n", []Pin{{"litellm", "", "litellm==1.82.7#not-a-comment", 1}}},
		{"comment line in a continuation", "litellm==1.82.8 \\\n# comment\nopenai\n", []Pin{{"litellm", "1.82.8", "litellm==1.82.8", 1}, {"openai", "", "openai", 3}}},
		{"continuation at EOF", "litellm==\\\n1.82.7\\", []Pin{{"litellm", "1.82.7", "litellm==1.82.7", 1}}},
		{"equals with spaces and clauses", "LiteLLM >=1.0, ==1.82.8\n", []Pin{{"litellm", "1.82.8", "LiteLLM >=1.0, ==1.82.8", 1}}},
		{"wildcard is a range", "litellm==1.82.*\n", []Pin{{"litellm", "", "litellm==1.82.*", 1}}},
		{"arbitrary equality", "litellm===1.82.7\n", []Pin{{"litellm", "1.82.7", "litellm===1.82.7", 1}}},
		{"marker only", "litellm; python_version<'3.13'\n", []Pin{{"litellm", "", "litellm", 1}}},
		{"editable attached", "-egit+https://x.invalid/r.git#egg=LiteLLM[proxy]\n", []Pin{{"litellm", "", "git+https://x.invalid/r.git#egg=LiteLLM[proxy]", 1}}},
		{"editable long form", "--editable=git+https://x.invalid/r.git#subdirectory=a&egg=litellm\n", []Pin{{"litellm", "", "git+https://x.invalid/r.git#subdirectory=a&egg=litellm", 1}}},
		{"not a requirement", "litellm 1.82.7\n=== \n", nil},
		{"bare sdist", "litellm-1.82.8.tar.gz\n", []Pin{{"litellm", "1.82.8", "litellm-1.82.8.tar.gz", 1}}},
		{"windows path", `C:\wheels\litellm-1.82.7-py3-none-any.whl` + "\n", []Pin{{"litellm", "1.82.7", `C:\wheels\litellm-1.82.7-py3-none-any.whl`, 1}}},
		{"direct url other name", "openai @ https://x.invalid/litellm-1.82.7-py3-none-any.whl\n", []Pin{{"openai", "", "openai @ https://x.invalid/litellm-1.82.7-py3-none-any.whl", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseRequirements([]byte(tc.data)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRequirements(%q) =\n%swant\n%s", tc.data, pinsString(got), pinsString(tc.want))
			}
		})
	}
}

func TestParsePinsCapped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < maxPins+10; i++ {
		fmt.Fprintf(&b, "pkg%d==1.0\n", i)
	}
	if got := ParseRequirements([]byte(b.String())); len(got) != maxPins {
		t.Errorf("got %d pins, want %d", len(got), maxPins)
	}
	b.Reset()
	for i := 0; i < maxPins+10; i++ {
		fmt.Fprintf(&b, "[[package]]\nname = \"pkg%d\"\nversion = \"1.0\"\n", i)
	}
	if got := ParseUVLock([]byte(b.String())); len(got) != maxPins {
		t.Errorf("got %d lock pins, want %d", len(got), maxPins)
	}
}

func TestParseTOMLTolerance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []Pin
	}{
		{"broken line is skipped", "[[package]]\nname = \"litellm\nversion = \"1.82.7\"\n[[package]]\nname = \"openai\"\nversion = \"1.0\"\n",
			[]Pin{{"openai", "1.0", "openai 1.0", 5}}},
		{"escapes and literal strings", "[[package]]\nname = 'lite\\llm'\n[[package]]\nname = \"lite\\u006Cl\\u006D\"\nversion = \"1.82.8\"\n",
			[]Pin{{"litellm", "1.82.8", "litellm 1.82.8", 4}}},
		{"comments and CRLF", "# c\r\n[[package]] # c\r\nname = \"litellm\" # c\r\nversion = \"1.82.7\"\r\n",
			[]Pin{{"litellm", "1.82.7", "litellm 1.82.7", 3}}},
		{"quoted header and keys", "[[\"package\"]]\n\"name\" = \"litellm\"\n'version' = '1.82.8'\n",
			[]Pin{{"litellm", "1.82.8", "litellm 1.82.8", 2}}},
		{"multi-line literal string hides TOML", "x = '''\n[[package]]\nname = \"evil\"\n'''\n[[package]]\nname = \"ok\"\n",
			[]Pin{{"ok", "", "ok", 6}}},
		{"deep nesting", "[[package]]\nname = \"x\"\nv = " + strings.Repeat("[", 100) + "\n", []Pin{{"x", "", "x", 2}}},
		{"unterminated", "[[package]]\nname = \"x\"\nversion = \"1", []Pin{{"x", "", "x", 2}}},
		{"invalid version", "[[package]]\nname = \"x\"\nversion = \"latest; rm\"\n", []Pin{{"x", "", "x latest; rm", 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParseUVLock([]byte(tc.data)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseUVLock =\n%swant\n%s", pinsString(got), pinsString(tc.want))
			}
		})
	}
}

func TestParsePyprojectInlineTables(t *testing.T) {
	t.Parallel()
	data := `[project]
name = "x"
optional-dependencies = { proxy = ["litellm[proxy]==1.82.8"] }
[tool.poetry]
dependencies = { litellm = "==1.82.7", python = "^3.11" }
[tool.pdm.dev-dependencies]
test = ["pytest==8.3.3"]
`
	want := []Pin{
		{"litellm", "1.82.8", "litellm[proxy]==1.82.8", 3},
		{"litellm", "1.82.7", "litellm ==1.82.7", 5},
		{"pytest", "8.3.3", "pytest==8.3.3", 7},
	}
	if got := ParsePyproject([]byte(data)); !reflect.DeepEqual(got, want) {
		t.Errorf("ParsePyproject =\n%swant\n%s", pinsString(got), pinsString(want))
	}
}

func TestParsePipfileLockBroken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []Pin
	}{
		{"not JSON", "nope", nil},
		{"array", "[1,2]", nil},
		{"truncated", `{"default": {"litellm": {"version": "==1.82.7"}, "openai": {"vers`, []Pin{{"litellm", "1.82.7", "litellm ==1.82.7", 1}}},
		{"odd sections", `{"_meta": [1], "x": 3, "y": [{"a": 1}], "default": {"bad name!": {"version": "==1"}, "ok": "str", "litellm": {}}}`,
			[]Pin{{"litellm", "", "litellm", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ParsePipfileLock([]byte(tc.data)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePipfileLock =\n%swant\n%s", pinsString(got), pinsString(tc.want))
			}
		})
	}
}

func TestReadTOMLKeepsBoundedItems(t *testing.T) {
	t.Parallel()
	data := "x = [" + strings.Repeat("1,", tomlMaxItems+500) + "]\ny = \"after\"\n"
	var got []tomlEntry
	readTOML([]byte(data), func(e tomlEntry) bool { got = append(got, e); return true })
	if len(got) != 2 || len(got[0].val.items) != tomlMaxItems || got[1].val.str != "after" || got[1].line != 2 {
		t.Errorf("got %d entries, first with %d items", len(got), len(got[0].val.items))
	}
}

// The exported per-format parsers are what ParseManifest dispatches to.
func TestLockParsersDirect(t *testing.T) {
	t.Parallel()
	for file, parse := range map[string]func([]byte) []Pin{
		"poetry.lock":    ParsePoetryLock,
		"uv.lock":        ParseUVLock,
		"pdm.lock":       ParsePDMLock,
		"pylock.toml":    ParsePylock,
		"Pipfile":        ParsePipfile,
		"Pipfile.lock":   ParsePipfileLock,
		"pyproject.toml": ParsePyproject,
	} {
		data := readTestdata(t, "manifests", file)
		want, _ := ParseManifest(file, data)
		if got := parse(data); len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: direct parser gave %d pins, dispatch %d", file, len(got), len(want))
		}
	}
	if got := ParsePoetryLock(readTestdata(t, "manifests", "pylock.toml")); got != nil {
		t.Errorf("poetry parser read [[packages]]: %v", got)
	}
}
