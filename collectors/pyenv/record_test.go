package pyenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseRecordLitellm(t *testing.T) {
	t.Parallel()
	entries, err := ParseRecord(readTestdata(t, "record", "litellm-1.82.8.RECORD"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 16 {
		t.Fatalf("got %d entries, want 16", len(entries))
	}
	byPath := map[string]RecordEntry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	tests := []struct {
		path string
		want RecordEntry
		hex  string
	}{
		{"litellm_init.pth", RecordEntry{"litellm_init.pth", "sha256", "ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TUjg", 34628},
			"71e35aef03099cd1f2d6446734273025a163597de93912df321ef118bf135238"},
		{"litellm/proxy/proxy_server.py", RecordEntry{"litellm/proxy/proxy_server.py", "sha256", "oNIpvo78svkTXirVW6J1t23c_rVfpDcOClIqW97gEgs", 362149},
			"a0d229be8efcb2f9135e2ad55ba275b76ddcfeb55fa4370e0a522a5bdee0120b"},
		{"litellm/proxy/_experimental/out/model_hub,table.html", RecordEntry{"litellm/proxy/_experimental/out/model_hub,table.html", "sha256", "CNM1A-4n1MEwVdDO_sXnML5O8uQc1s_OQ0k27B58nUs", 5270}, ""},
		{"litellm/proxy/__init__.py", RecordEntry{"litellm/proxy/__init__.py", "sha256", "pnCoQqAILEoHhOhtlFjip84jFTyDNgmqTTXq9Igvsak", 0}, ""},
		{"litellm-1.82.8.dist-info/RECORD", RecordEntry{"litellm-1.82.8.dist-info/RECORD", "", "", -1}, ""},
		{"litellm/__pycache__/__init__.cpython-311.pyc", RecordEntry{"litellm/__pycache__/__init__.cpython-311.pyc", "", "", -1}, ""},
		{"../../../bin/litellm", RecordEntry{"../../../bin/litellm", "sha256", "UaHwWvheNC48hJtH04cIZHYoLV9Q3CQMGSFtbt-x61o", 234}, ""},
	}
	for _, tc := range tests {
		got, ok := byPath[tc.path]
		if !ok || got != tc.want {
			t.Errorf("entry %q = %+v, want %+v", tc.path, got, tc.want)
		}
		if tc.hex != "" {
			if h := DigestHex(got.Digest); h != tc.hex {
				t.Errorf("DigestHex(%q) = %q, want %q", got.Digest, h, tc.hex)
			}
		}
	}
}

func TestParseRecordEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    []RecordEntry
		wantErr bool
	}{
		{"empty", "", nil, true},
		{"blank lines only", "\n\n", nil, true},
		{"CRLF and odd fields", "a.py,SHA256=abc,12\r\nb.py,sha256=,x\r\nc.py\r\n,sha256=zz,1\r\n",
			[]RecordEntry{{"a.py", "sha256", "abc", 12}, {"b.py", "sha256", "", -1}, {"c.py", "", "", -1}}, false},
		{"extra fields", "a.py,sha256=abc,12,extra\n", []RecordEntry{{"a.py", "sha256", "abc", 12}}, false},
		{"negative size", "a.py,sha256=abc,-5\n", []RecordEntry{{"a.py", "sha256", "abc", -1}}, false},
		{"unterminated quote", "\"a.py,sha256=abc,1\nb.py,,\n", []RecordEntry{{"a.py,sha256=abc,1\nb.py,,\n", "", "", -1}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRecord([]byte(tc.data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ParseRecord = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseRecordTruncates(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < maxRecordEntries+5; i++ {
		fmt.Fprintf(&b, "f%d,,\n", i)
	}
	got, err := ParseRecord([]byte(b.String()))
	if !errors.Is(err, ErrTruncated) || len(got) != maxRecordEntries {
		t.Errorf("got %d entries, err %v", len(got), err)
	}
}

func TestDigestHex(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TUjg", "71e35aef03099cd1f2d6446734273025a163597de93912df321ef118bf135238"},
		{"ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TUjg=", "71e35aef03099cd1f2d6446734273025a163597de93912df321ef118bf135238"},
		{"oNIpvo78svkTXirVW6J1t23c_rVfpDcOClIqW97gEgs", "a0d229be8efcb2f9135e2ad55ba275b76ddcfeb55fa4370e0a522a5bdee0120b"},
		{"oNIpvo78svkTXirVW6J1t23c/rVfpDcOClIqW97gEgs", "a0d229be8efcb2f9135e2ad55ba275b76ddcfeb55fa4370e0a522a5bdee0120b"}, // std alphabet
		{"", ""},
		{"abc", ""},
		{"ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TUj", ""},   // 42 chars
		{"ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TUjg!", ""}, // junk
		{"ceNa7wMJnNHy1kRnNCcwJaFjWX3pORLfMh7xGL8TU*g", ""},
	}
	for _, tc := range tests {
		if got := DigestHex(tc.in); got != tc.want {
			t.Errorf("DigestHex(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
