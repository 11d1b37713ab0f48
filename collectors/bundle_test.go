package collectors

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const goodBundle = `{
  "schema": "tourniquet.scan/v1",
  "host": {"name": "web-01", "root": "/", "scanned_at": "2026-03-26T08:00:00Z"},
  "packs": ["litellm-2026-03"],
  "window": {"start": "2026-03-24T10:53:00Z", "end": null, "open": true, "basis": ["pip install litellm==1.82.8"]},
  "verdict": "compromised",
  "findings": [{"id": "f-1", "pack": "litellm-2026-03", "rule": "litellm-init-pth", "severity": "critical",
                "path": "/opt/app/.venv/lib/python3.11/site-packages/litellm_init.pth", "detail": "d", "observed_at": null}],
  "credentials": [{"id": "c-1", "kind": "aws-access-key", "path": "/root/.aws/credentials", "fingerprint": "sha256:0123456789abcdef",
                   "hint": "AKIA…0001", "modified_at": null, "exposure": "exposed", "reason": "r"}],
  "stats": {"files": 1}
}`

func mutate(t *testing.T, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(goodBundle), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return string(b)
}

func TestDecodeBundles(t *testing.T) {
	t.Parallel()
	sub := func(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
	first := func(m map[string]any, key string) map[string]any { return m[key].([]any)[0].(map[string]any) }
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string
	}{
		{"one scan", goodBundle, 1, ""},
		{"two concatenated", goodBundle + "\n" + strings.Replace(goodBundle, "web-01", "web-02", 1), 2, ""},
		{"empty", "  \n", 0, "no scan in it"},
		{"not json", "VERDICT: COMPROMISED", 0, "malformed JSON at byte 1"},
		{"truncated", goodBundle[:200], 0, "truncated JSON"},
		{"other schema", mutate(t, func(m map[string]any) { m["schema"] = "tourniquet.exposure/v1" }), 0, `schema "tourniquet.exposure/v1"`},
		{"no host name", mutate(t, func(m map[string]any) { sub(m, "host")["name"] = "" }), 0, "host.name is empty"},
		{"no scan time", mutate(t, func(m map[string]any) { delete(sub(m, "host"), "scanned_at") }), 0, "host.scanned_at is missing"},
		{"bad kind", mutate(t, func(m map[string]any) { sub(m, "host")["kind"] = "vm" }), 0, "host.kind"},
		{"bad verdict", mutate(t, func(m map[string]any) { m["verdict"] = "pwned" }), 0, "verdict"},
		{"open window with an end", mutate(t, func(m map[string]any) { sub(m, "window")["end"] = "2026-03-25T00:00:00Z" }), 0, "open and has an end"},
		{"window ends before it starts", mutate(t, func(m map[string]any) {
			w := sub(m, "window")
			w["open"], w["end"] = false, "2026-03-01T00:00:00Z"
		}), 0, "ends before it starts"},
		{"bad severity", mutate(t, func(m map[string]any) { first(m, "findings")["severity"] = "urgent" }), 0, "findings[0].severity"},
		{"finding without id", mutate(t, func(m map[string]any) { first(m, "findings")["id"] = "" }), 0, "findings[0].id is empty"},
		{"a value where the fingerprint goes", mutate(t, func(m map[string]any) {
			first(m, "credentials")["fingerprint"] = "AKIAIOSFODNN7EXAMPLE"
		}), 0, "credentials[0].fingerprint"},
		{"bad exposure", mutate(t, func(m map[string]any) { first(m, "credentials")["exposure"] = "leaked" }), 0, "credentials[0].exposure"},
		{"wrong type", mutate(t, func(m map[string]any) { m["findings"] = "none" }), 0, "field findings has the wrong type"},
		{"good then bad", goodBundle + "\n{\"schema\": 1}", 0, "document 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeBundles(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBundle) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBundle mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.n {
				t.Fatalf("DecodeBundles = %d scans, %v; want %d", len(got), err, tt.n)
			}
		})
	}
}

func TestDecodeBundlesEscapesHostileText(t *testing.T) {
	t.Parallel()
	in := mutate(t, func(m map[string]any) {
		m["host"].(map[string]any)["name"] = "web\x1b]0;owned\x07-01"
		f := m["findings"].([]any)[0].(map[string]any)
		f["detail"] = "ok\u202eevil" + strings.Repeat("x", 5000)
		f["path"] = `C:\already\escaped \x1b`
	})
	got, err := DecodeBundles(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if r.Host.Name != `web\x1b]0;owned\x07-01` {
		t.Errorf("host name = %q", r.Host.Name)
	}
	if d := r.Findings[0].Detail; strings.ContainsRune(d, '\u202e') || len([]rune(d)) > 2000 {
		t.Errorf("detail not escaped or not bounded: %d runes", len([]rune(d)))
	}
	if p := r.Findings[0].Path; p != `C:\already\escaped \x1b` {
		t.Errorf("already escaped text changed: %q", p)
	}
}

func TestDecodeBundlesSizeBound(t *testing.T) {
	t.Parallel()
	big := strings.Repeat(" ", MaxBundleSize+10) + goodBundle
	if _, err := DecodeBundles(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want the size bound", err)
	}
}

// FuzzDecodeBundles: any input is a list of valid scans or an ErrBundle,
// never a panic; what is accepted re-encodes and decodes to the same scans.
func FuzzDecodeBundles(f *testing.F) {
	f.Add([]byte(goodBundle))
	f.Add([]byte(goodBundle + goodBundle))
	f.Add([]byte(`{"schema":"tourniquet.scan/v1","host":{"name":"\u001b[2J","root":"/","scanned_at":"2026-03-26T08:00:00Z"},"verdict":"clean","window":{"start":null,"end":null,"open":false,"basis":[]},"findings":[],"credentials":[]}`))
	f.Add([]byte(`{"schema":"tourniquet.scan/v1","host":{"kind":"cluster","name":"prod","root":"https://k","scanned_at":"2026-03-26T08:00:00Z"},"verdict":"unknown","nodes":[{"name":"n","verdict":"clean","basis":null}]}`))
	f.Add([]byte("[]"))
	f.Add([]byte("{\"schema\":\"tourniquet.scan/v1\",\"host\":{\"name\":\"\xff\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeBundles(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, ErrBundle) {
				t.Fatalf("error without ErrBundle: %v", err)
			}
			return
		}
		for _, r := range got {
			if err := r.validate(); err != nil {
				t.Fatalf("accepted scan fails validation after cleaning: %v", err)
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeBundles(strings.NewReader(string(b)))
			if err != nil || len(again) != 1 {
				t.Fatalf("re-decoding an accepted scan: %v", err)
			}
			a := again[0]
			if a.Host.Name != r.Host.Name || a.Host.Root != r.Host.Root || !a.Host.ScannedAt.Equal(r.Host.ScannedAt) || len(a.Findings) != len(r.Findings) {
				t.Fatalf("re-decoding changed the scan: %+v, want %+v", a.Host, r.Host)
			}
		}
	})
}
