package pyenv

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"litellm", "litellm"},
		{"LiteLLM", "litellm"},
		{"Friendly-Bard", "friendly-bard"},
		{"FRIENDLY-BARD", "friendly-bard"},
		{"friendly.bard", "friendly-bard"},
		{"friendly_bard", "friendly-bard"},
		{"friendly--bard", "friendly-bard"},
		{"FrIeNdLy-._.-bArD", "friendly-bard"},
		{"zope.interface", "zope-interface"},
		{"", ""},
		{"_leading", "-leading"},
	}
	for _, tc := range tests {
		if got := NormalizeName(tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDistDirName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in            string
		name, version string
		ok            bool
	}{
		{"litellm-1.82.8.dist-info", "litellm", "1.82.8", true},
		{"LiteLLM-1.82.7.dist-info", "litellm", "1.82.7", true},
		{"litellm-1.82.8-py3.11.egg-info", "litellm", "1.82.8", true},
		{"/usr/lib/python3/dist-packages/litellm-1.82.7.egg-info/", "litellm", "1.82.7", true},
		{"zope.interface-6.4.post2.dist-info", "zope-interface", "6.4.post2", true},
		{"typing_extensions-4.12.2.dist-info", "typing-extensions", "4.12.2", true},
		{"acme_gateway-0.4.0+local.1.dist-info", "acme-gateway", "0.4.0+local.1", true},
		{"litellm.egg-info", "", "", false},
		{"litellm-main.dist-info", "", "", false},
		{"litellm-1.82.8", "", "", false},
		{"-1.0.dist-info", "", "", false},
		{".dist-info", "", "", false},
		{"litellm-1.82.8.DIST-INFO", "litellm", "1.82.8", true},
	}
	for _, tc := range tests {
		name, version, ok := DistDirName(tc.in)
		if name != tc.name || version != tc.version || ok != tc.ok {
			t.Errorf("DistDirName(%q) = %q, %q, %v; want %q, %q, %v", tc.in, name, version, ok, tc.name, tc.version, tc.ok)
		}
	}
}

func TestParseArchiveName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in            string
		name, version string
		ok            bool
	}{
		{"litellm-1.82.8-py3-none-any.whl", "litellm", "1.82.8", true},
		{"/root/.cache/pip/wheels/ab/litellm-1.82.7-py3-none-any.whl", "litellm", "1.82.7", true},
		{"tiktoken-0.7.0-cp311-cp311-manylinux_2_17_x86_64.whl", "tiktoken", "0.7.0", true},
		{"litellm-1.82.8.tar.gz", "litellm", "1.82.8", true},
		{"python-dateutil-2.9.0.tar.gz", "python-dateutil", "2.9.0", true},
		{"Foo_Bar-1.0.zip", "foo-bar", "1.0", true},
		{"foo-1.0-py3.11.egg", "foo", "1.0", true},
		{"litellm-1.82.8.whl", "", "", false},
		{"litellm.tar.gz", "", "", false},
		{"README.md", "", "", false},
	}
	for _, tc := range tests {
		name, version, ok := ParseArchiveName(tc.in)
		if name != tc.name || version != tc.version || ok != tc.ok {
			t.Errorf("ParseArchiveName(%q) = %q, %q, %v; want %q, %q, %v", tc.in, name, version, ok, tc.name, tc.version, tc.ok)
		}
	}
}

func TestParseCondaDist(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                   string
		name, version, build string
		ok                   bool
	}{
		{"+conda-forge/noarch::litellm-1.82.7-pyhd8ed1ab_0", "litellm", "1.82.7", "pyhd8ed1ab_0", true},
		{"-conda-forge/noarch::litellm-1.82.6-pyhd8ed1ab_0", "litellm", "1.82.6", "pyhd8ed1ab_0", true},
		{"python-dateutil-2.9.0-pyhd8ed1ab_0", "python-dateutil", "2.9.0", "pyhd8ed1ab_0", true},
		{"defaults/linux-64::python-3.11.9-h955ad1f_0", "python", "3.11.9", "h955ad1f_0", true},
		{"litellm", "", "", "", false},
		{"litellm-1.82.7", "", "", "", false},
	}
	for _, tc := range tests {
		name, version, build, ok := ParseCondaDist(tc.in)
		if name != tc.name || version != tc.version || build != tc.build || ok != tc.ok {
			t.Errorf("ParseCondaDist(%q) = %q, %q, %q, %v", tc.in, name, version, build, ok)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("é", 3000) // 6000 bytes
	got := clipString(s)
	if len(got) > maxString || !strings.HasPrefix(s, got) || len(got) < maxString-1 {
		t.Errorf("clipString cut to %d bytes", len(got))
	}
	if got := clip("abc", 10); got != "abc" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("\x80\x80\x80\x80\x80\x80", 3); len(got) > 3 {
		t.Errorf("clip of invalid UTF-8 = %q", got)
	}
}
