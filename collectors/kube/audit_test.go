package kube

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseAuditLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		line     string
		wantErr  bool
		wantUser string
		wantAt   string
	}{
		{"payload list", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"list","user":{"username":"system:serviceaccount:ai:app"},"userAgent":"Python-urllib/3.12","objectRef":{"resource":"secrets"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-03-24T11:01:00.123456Z"}`,
			false, "system:serviceaccount:ai:app", "2026-03-24T11:01:00.123456Z"},
		{"stage time only", `{"verb":"create","user":{"username":"u"},"stageTimestamp":"2026-03-24T11:02:00Z"}`, false, "u", "2026-03-24T11:02:00Z"},
		{"leading spaces", "  \t" + `{"verb":"get","requestReceivedTimestamp":"2026-03-24T11:02:00Z"}`, false, "", "2026-03-24T11:02:00Z"},
		{"no verb", `{"requestReceivedTimestamp":"2026-03-24T11:02:00Z"}`, true, "", ""},
		{"no time", `{"verb":"list"}`, true, "", ""},
		{"verb of the wrong type", `{"verb":42}`, true, "", ""},
		{"bad time", `{"verb":"list","requestReceivedTimestamp":"yesterday"}`, true, "", ""},
		{"not an object", `["verb","list"]`, true, "", ""},
		{"text", "I0324 11:01:00 audit.go:1] list secrets", true, "", ""},
		{"empty", "", true, "", ""},
		{"truncated", `{"verb":"list","requestReceivedTimestamp":"2026-03-24T11:02:00Z"`, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseAuditLine([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseAuditLine err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if ev.User.Username != tt.wantUser || ev.At().Format(time.RFC3339Nano) != tt.wantAt {
				t.Errorf("user %q at %s; want %q at %s", ev.User.Username, ev.At().Format(time.RFC3339Nano), tt.wantUser, tt.wantAt)
			}
		})
	}
}

func TestReadAuditLogBounds(t *testing.T) {
	t.Parallel()
	ev := `{"verb":"list","requestReceivedTimestamp":"2026-03-24T11:02:00Z"}`
	long := `{"verb":"list","pad":"` + strings.Repeat("x", MaxAuditLine) + `","requestReceivedTimestamp":"2026-03-24T11:02:00Z"}`
	in := strings.Join([]string{ev, "", "junk", long, ev + "\r", ev}, "\n") // the last line has no newline
	var lines []int
	st, err := ReadAuditLog(context.Background(), strings.NewReader(in), func(line int, _ AuditEvent) { lines = append(lines, line) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 3 || st.TooLong != 1 || st.Skipped != 1 || st.Lines != 6 || st.Truncated {
		t.Errorf("stats = %+v, want 3 events, 1 too long, 1 skipped, 6 lines", st)
	}
	if want := []int{1, 5, 6}; !equalInts(lines, want) {
		t.Errorf("event lines = %v, want %v", lines, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadAuditLog(ctx, strings.NewReader(in), func(int, AuditEvent) {}); err == nil {
		t.Error("a cancelled read did not stop")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzParseAuditLine: any line gives an event or an error, never a panic,
// and an accepted event has a verb and a time.
func FuzzParseAuditLine(f *testing.F) {
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:ai:app"},"userAgent":"Python-urllib/3.12","objectRef":{"resource":"pods","namespace":"kube-system","name":"node-setup-a"},"responseStatus":{"code":201},"requestReceivedTimestamp":"2026-03-24T11:02:00.000000Z"}`))
	f.Add([]byte(`{"verb":"list"}`))
	f.Add([]byte("not json"))
	f.Add([]byte(`{"verb":"list","requestReceivedTimestamp":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := ParseAuditLine(line)
		if err == nil && (ev.Verb == "" || ev.At().IsZero()) {
			t.Fatalf("accepted an event without verb or time: %+v", ev)
		}
	})
}

// FuzzReadAuditLog feeds arbitrary bytes to the audit log reader: it never
// panics, accounts for every byte and line, and hands out only events with
// a verb and a time.
func FuzzReadAuditLog(f *testing.F) {
	for _, s := range []string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"list","user":{"username":"system:serviceaccount:ai:app","groups":["system:serviceaccounts"]},"userAgent":"Python-urllib/3.12","sourceIPs":["10.0.0.7"],"objectRef":{"resource":"secrets","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-03-24T11:01:00.000000Z","stageTimestamp":"2026-03-24T11:01:00.050000Z"}`,
		`{"verb":"create","user":{"username":"system:serviceaccount:ai:app"},"objectRef":{"resource":"pods","namespace":"kube-system","name":"node-setup-a"},"requestReceivedTimestamp":"2026-03-24T11:02:00Z"}` + "\n" + `{"verb":"list"}`,
		"\n\n{}\n[]\nnull\n",
		`{"verb":"list","user":{"username":"x\u001b[31m"},"userAgent":"\u202e","requestReceivedTimestamp":"2026-03-24T11:00:00Z"}`,
		`{"verb":"list","requestReceivedTimestamp":"2026-03-24T11:00:00Z","objectRef":null,"responseStatus":null}` + "\r\n",
		"{\"verb\":\"\xff\xfe\",\"requestReceivedTimestamp\":\"2026-03-24T11:00:00Z\"}",
		"{\"verb\":\"get\",\"stageTimestamp\":\"2026-03-24T11:02:00Z\"}\n\n\x00\xff\n{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		st, err := ReadAuditLog(context.Background(), bytes.NewReader(data), func(_ int, ev AuditEvent) {
			n++
			if ev.Verb == "" || ev.At().IsZero() {
				t.Fatalf("ReadAuditLog handed out an event without verb or time: %+v", ev)
			}
		})
		if err != nil {
			t.Fatalf("ReadAuditLog on an in-memory reader: %v", err)
		}
		if n != st.Events || st.Events+st.Skipped+st.TooLong > st.Lines || st.Bytes != int64(len(data)) {
			t.Fatalf("inconsistent stats %+v for %d events over %d bytes", st, n, len(data))
		}
	})
}
