package pyenv

import (
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    Metadata
		wantErr string
	}{
		{
			name: "litellm 1.82.8 METADATA",
			data: string(readTestdata(t, "metadata", "litellm-1.82.8.METADATA")),
			want: Metadata{Name: "litellm", Version: "1.82.8", Summary: "Library to easily interface with LLM API providers"},
		},
		{
			name: "PKG-INFO with CRLF, folded summary, first Name wins",
			data: string(readTestdata(t, "metadata", "PKG-INFO")),
			want: Metadata{Name: "Acme_Gateway", Version: "0.4.0", Summary: "Internal LLM gateway with a folded summary line"},
		},
		{
			name: "BOM",
			data: "\xef\xbb\xbfName: x\nVersion: 1\n",
			want: Metadata{Name: "x", Version: "1"},
		},
		{
			name: "headers stop at the first blank line",
			data: "Name: x\n\nVersion: 1\n",
			want: Metadata{Name: "x"}, wantErr: "no Version",
		},
		{name: "empty", data: "", wantErr: "no Name or Version"},
		{name: "binary", data: "\x00\x01\x02PK\x03\x04", wantErr: "no Name or Version"},
		{name: "no name", data: "Version: 1.0\n", want: Metadata{Version: "1.0"}, wantErr: "no Name"},
		{name: "empty name", data: "Name:\nVersion: 1.0\n", want: Metadata{Version: "1.0"}, wantErr: "no Name"},
		{
			name: "long summary is cut",
			data: "Name: x\nVersion: 1\nSummary: " + strings.Repeat("s", 10000) + "\n" + strings.Repeat(" more\n", 5000),
			want: Metadata{Name: "x", Version: "1", Summary: strings.Repeat("s", maxString)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMetadata([]byte(tc.data))
			if got != tc.want {
				t.Errorf("ParseMetadata = %+v, want %+v", got, tc.want)
			}
			if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
