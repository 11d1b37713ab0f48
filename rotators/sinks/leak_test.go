package sinks

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

const (
	plantedNew = "PLANTEDnewSECRETvalue0123456789abcdefXYZ" // the secret being delivered
	plantedOld = "PLANTEDoldSECRETvalue9876543210fedcbaQRS" // a secret already in the file
)

// checkNoLeak fails if msg holds a planted secret or any line of file
// (section headers excepted: they are profile names, which errors may name).
func checkNoLeak(t *testing.T, msg string, file []byte) {
	t.Helper()
	for _, s := range []string{plantedNew, plantedOld, "PLANTED"} {
		if strings.Contains(msg, s) {
			t.Errorf("error holds a secret: %s", msg)
		}
	}
	for _, ln := range splitLines(string(file)) {
		l := pyStrip(ln.text)
		if len(l) >= 8 && !strings.HasPrefix(l, "[") && strings.Contains(msg, l) {
			t.Errorf("error quotes line %q of the file: %s", l, msg)
		}
	}
}

// TestNoSecretInErrors plants secrets in the arguments and in the file and
// provokes every error Deliver and Current can return.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	good := redact.NewSecretString(plantedNew)
	files := map[string]string{
		"duplicate section":      "[x]\naws_secret_access_key = " + plantedOld + "\n[x]\naws_secret_access_key = " + plantedOld + "\n",
		"duplicate key":          "[x]\naws_secret_access_key = " + plantedOld + "\naws_secret_access_key = " + plantedOld + "\n",
		"secret alone on a line": "[x]\n" + plantedOld + "\n",
		"secret as a key":        "[x]\n" + plantedOld + "=\n" + plantedOld + "=\n",
		"empty key":              "[x]\n= " + plantedOld + "\n",
		"secret before header":   "aws_secret_access_key = " + plantedOld + "\n[x]\n",
		"nested block":           "[x]\nk =\n  " + plantedOld + "\n",
		"invalid UTF-8":          "[x]\naws_secret_access_key = " + plantedOld + "\xff\n",
		"token in DEFAULT":       "[DEFAULT]\naws_session_token = " + plantedOld + "\n[x]\n",
		"too large":              "[x]\naws_secret_access_key = " + plantedOld + "\n" + strings.Repeat("# "+plantedOld+"\n", 4<<20/40),
	}
	for name, content := range files {
		t.Run("file/"+name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := AWSProfile{Path: p, Profile: "x"}
			err := s.Deliver(context.Background(), testKeyID, good)
			if err == nil {
				t.Fatal("Deliver accepted the file")
			}
			checkNoLeak(t, err.Error(), []byte(content))
			_, _, err = s.Current(context.Background())
			if err == nil {
				t.Fatal("Current accepted the file")
			}
			checkNoLeak(t, err.Error(), []byte(content))
		})
	}

	args := []struct {
		name, profile, keyID, secret string
	}{
		{"secret with a space", "x", testKeyID, plantedNew + " tail"},
		{"secret with a newline", "x", testKeyID, plantedNew + "\n[evil]"},
		{"secret too long", "x", testKeyID, strings.Repeat(plantedNew, 30)},
		{"secret given as key id", "x", plantedNew + "/+", good.String()},
		{"bad profile", "x]", testKeyID, plantedNew},
		{"DEFAULT profile", "DEFAULT", testKeyID, plantedNew},
	}
	for _, a := range args {
		t.Run("args/"+a.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			err := AWSProfile{Path: p, Profile: a.profile}.Deliver(context.Background(), a.keyID, redact.NewSecretString(a.secret))
			if err == nil {
				t.Fatal("accepted")
			}
			checkNoLeak(t, err.Error(), nil)
		})
	}

	t.Run("filesystem", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		content := "[x]\naws_secret_access_key = " + plantedOld + "\n"
		real := filepath.Join(dir, "real")
		if err := os.WriteFile(real, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "link")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		for _, c := range []struct {
			path string
			ctx  context.Context
		}{
			{link, context.Background()},
			{dir, context.Background()},
			{filepath.Join(real, "under-a-file"), context.Background()},
			{real, cancelled},
		} {
			s := AWSProfile{Path: c.path, Profile: "x"}
			err := s.Deliver(c.ctx, testKeyID, good)
			if err == nil {
				t.Fatalf("Deliver to %s accepted", c.path)
			}
			checkNoLeak(t, err.Error(), []byte(content))
			if _, _, err := (AWSProfile{Path: c.path, Profile: "y"}).Current(c.ctx); err != nil {
				checkNoLeak(t, err.Error(), []byte(content))
			}
		}
	})

	t.Run("current", func(t *testing.T) {
		t.Parallel()
		for _, content := range []string{
			"[y]\naws_secret_access_key = " + plantedOld + "\n",                                // no profile
			"[x]\naws_secret_access_key = " + plantedOld + "\n",                                // no key id
			"[x]\naws_access_key_id = AKIA\n[z]\naws_secret_access_key = " + plantedOld + "\n", // no secret
			"[x]\naws_access_key_id = AKIA\naws_secret_access_key =\n  a = " + plantedOld + "\n",
			"[profile x]\naws_secret_access_key = " + plantedOld + "\n",
		} {
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := AWSProfile{Path: p, Profile: "x"}.Current(context.Background())
			if err == nil {
				t.Fatalf("Current accepted %q", content)
			}
			checkNoLeak(t, err.Error(), []byte(content))
		}
	})
}

// FuzzAWSProfileEdit: any file, profile and key either edits correctly or
// fails; it never panics, and an error never holds the secret or a line of
// the file.
func FuzzAWSProfileEdit(f *testing.F) {
	for _, c := range editCases {
		f.Add([]byte(c.in), c.profile, testKeyID, "s3cr3t")
	}
	for _, c := range refusalCases {
		f.Add([]byte(c.in), c.profile, testKeyID, "s3cr3t")
	}
	f.Add([]byte("[a]\r\n  k = v\r\n\tx = \r\n [x] \r\n"), "x", "AKIA", "abc/+=")
	f.Fuzz(func(t *testing.T, data []byte, profile, keyID, secret string) {
		// A marker around the secret that no fixed message text contains.
		secret = "Zq" + secret + "9Qz"
		out, err := setAWSKey(data, profile, keyID, []byte(secret))
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, secret) && !strings.Contains(profile, secret) && !bytes.Contains(data, []byte(secret)) {
				t.Fatalf("error holds the secret: %s", msg)
			}
			headers := map[string]bool{}
			for _, ln := range splitLines(string(data)) {
				if name, ok := sectionHeader(pyStrip(ln.text)); ok {
					headers[name] = true
				}
			}
			for _, ln := range splitLines(string(data)) {
				l := pyStrip(ln.text)
				if len(l) >= 16 && !strings.HasPrefix(l, "[") && !headers[l] && !strings.Contains(profile, l) && strings.Contains(msg, l) {
					t.Fatalf("error quotes a line of the file: %s", msg)
				}
			}
			return
		}
		checkEdit(t, data, out, profile, keyID, secret)
		again, err := setAWSKey(out, profile, keyID, []byte(secret))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second edit not a no-op: %v\n%q\n%q", err, out, again)
		}
	})
}

// checkEdit checks an edit independently of verifyEdit: by values, and by
// bytes for everything outside the edited key lines.
func checkEdit(t *testing.T, in, out []byte, profile, keyID, secret string) {
	t.Helper()
	before, err := parseINI(in)
	if err != nil {
		t.Fatalf("edit of a file parseINI refuses: %v", err)
	}
	after, err := parseINI(out)
	if err != nil {
		t.Fatalf("edited file does not parse: %v\n%q", err, out)
	}
	isTarget := func(name string) bool {
		a, ok := aliasOf(name)
		return name == profile || ok && a == profile
	}
	p := after.byName[profile]
	if p == nil {
		t.Fatalf("no [%s] after the edit:\n%q", profile, out)
	}
	if o := after.lookup(p, keyAccessKeyID); o == nil || o.value() != keyID {
		t.Fatalf("key id not set:\n%q", out)
	}
	if o := after.lookup(p, keySecretAccessKey); o == nil || o.value() != secret {
		t.Fatalf("secret not set:\n%q", out)
	}
	if after.lookup(p, keySessionToken) != nil || after.lookup(p, keySecurityToken) != nil {
		t.Fatalf("token left:\n%q", out)
	}
	if !sameOptions(before.defaults, after.defaults) {
		t.Fatalf("[DEFAULT] changed:\n%q\n%q", in, out)
	}
	for _, s := range before.sections {
		if !isTarget(s.name) && !sameOptions(s, after.byName[s.name]) {
			t.Fatalf("section [%s] changed:\n%q\n%q", s.name, in, out)
		}
	}
	// Bytes: with the key and token lines (and their continuations) taken
	// out, both files must be the same lines, but for the new section, the
	// blank line before it and a line ending added to the old last line.
	b, a := keptLines(before, isTarget), keptLines(after, isTarget)
	if before.byName[profile] == nil {
		if len(a) < 1 || a[len(a)-1].text != "["+profile+"]" {
			t.Fatalf("new section not at the end:\n%q", out)
		}
		a = a[:len(a)-1]
		if len(a) == len(b)+1 && pyStrip(a[len(a)-1].text) == "" {
			a = a[:len(a)-1]
		}
	}
	if len(a) != len(b) {
		t.Fatalf("lines outside the keys differ:\n%q\n%q", in, out)
	}
	for i := range b {
		// An empty LF line that now follows a lone-CR line (a key line
		// between them was removed) must become CRLF or it would vanish.
		crMerge := b[i].text == "" && b[i].eol == "\n" && a[i].eol == "\r\n" && i > 0 && a[i-1].eol == "\r"
		if a[i].text != b[i].text || (a[i].eol != b[i].eol && !(i == len(b)-1 && b[i].eol == "") && !crMerge) {
			t.Fatalf("line %q%q became %q%q:\n%q\n%q", b[i].text, b[i].eol, a[i].text, a[i].eol, in, out)
		}
	}
}

// keptLines is the file without the credential key and token lines of the
// target sections (their values are what an edit changes).
func keptLines(f *iniFile, isTarget func(string) bool) []iniLine {
	drop := map[int]bool{}
	for _, s := range f.sections {
		if !isTarget(s.name) {
			continue
		}
		for _, o := range s.options {
			switch o.key {
			case keyAccessKeyID, keySecretAccessKey, keySessionToken, keySecurityToken:
				drop[o.line] = true
				for _, c := range o.cont {
					drop[c] = true
				}
			}
		}
	}
	var out []iniLine
	for i, ln := range f.lines {
		if !drop[i] {
			out = append(out, ln)
		}
	}
	return out
}
