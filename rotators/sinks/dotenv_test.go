package sinks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

const (
	envOld = "sk-proj-OLDexposedKEY0123456789abcdefABCD"
	envNew = "sk-proj-NEWrotatedKEY9876543210fedcbaWXYZ"
)

func TestEditDotenvKeepsEverythingElse(t *testing.T) {
	t.Parallel()
	fp := redact.Fingerprint([]byte(envOld))
	cases := []struct {
		name, in, want string
		changed        []string
	}{
		{"plain", "A=1\nOPENAI_API_KEY=" + envOld + "\nB=2\n", "A=1\nOPENAI_API_KEY=" + envNew + "\nB=2\n", []string{"OPENAI_API_KEY"}},
		{"double quotes", "OPENAI_API_KEY=\"" + envOld + "\"\n", "OPENAI_API_KEY=\"" + envNew + "\"\n", []string{"OPENAI_API_KEY"}},
		{"single quotes", "OPENAI_API_KEY='" + envOld + "'\n", "OPENAI_API_KEY='" + envNew + "'\n", []string{"OPENAI_API_KEY"}},
		{"export and spaces", "export  OPENAI_API_KEY =  " + envOld + "   # prod key\n", "export  OPENAI_API_KEY =  " + envNew + "   # prod key\n", []string{"OPENAI_API_KEY"}},
		{"crlf", "# c\r\nOPENAI_API_KEY=" + envOld + "\r\nX=y\r\n", "# c\r\nOPENAI_API_KEY=" + envNew + "\r\nX=y\r\n", []string{"OPENAI_API_KEY"}},
		{"no final newline", "OPENAI_API_KEY=" + envOld, "OPENAI_API_KEY=" + envNew, []string{"OPENAI_API_KEY"}},
		{"second name for the same key", "OPENAI_API_KEY=" + envOld + "\nLITELLM_OPENAI=\"" + envOld + "\"\n", "OPENAI_API_KEY=" + envNew + "\nLITELLM_OPENAI=\"" + envNew + "\"\n", []string{"OPENAI_API_KEY", "LITELLM_OPENAI"}},
		{"commented copy kept", "# OPENAI_API_KEY=" + envOld + "\nOPENAI_API_KEY=" + envOld + "\n", "# OPENAI_API_KEY=" + envOld + "\nOPENAI_API_KEY=" + envNew + "\n", []string{"OPENAI_API_KEY"}},
		{"multi-line value elsewhere", "CERT=\"a\nb\"\nOPENAI_API_KEY=" + envOld + "\n", "CERT=\"a\nb\"\nOPENAI_API_KEY=" + envNew + "\n", []string{"OPENAI_API_KEY"}},
		{"already new", "OPENAI_API_KEY=" + envNew + "\n", "OPENAI_API_KEY=" + envNew + "\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, changed, err := EditDotenv([]byte(c.in), "OPENAI_API_KEY", fp, []byte(envNew))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
			if strings.Join(changed, ",") != strings.Join(c.changed, ",") {
				t.Errorf("changed %v, want %v", changed, c.changed)
			}
		})
	}
}

func TestEditDotenvRefusals(t *testing.T) {
	t.Parallel()
	fp := redact.Fingerprint([]byte(envOld))
	cases := []struct {
		name, in, newVal string
		want             error
	}{
		{"missing var", "OTHER=" + envOld + "\n", envNew, ErrVarNotFound},
		{"changed since scan", "OPENAI_API_KEY=sk-somethingelse0123456789\n", envNew, ErrValueChanged},
		{"unterminated quote hides it", "OPENAI_API_KEY=\"" + envOld + "\n", envNew, ErrVarNotFound},
		{"unsafe new value", "OPENAI_API_KEY=" + envOld + "\n", "has space", ErrUnsafeValue},
		{"quote in new value", "OPENAI_API_KEY=" + envOld + "\n", "ab\"cd", ErrUnsafeValue},
		{"empty new value", "OPENAI_API_KEY=" + envOld + "\n", "", ErrUnsafeValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := EditDotenv([]byte(c.in), "OPENAI_API_KEY", fp, []byte(c.newVal))
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), envOld) || strings.Contains(err.Error(), "sk-") {
				t.Errorf("error quotes a value: %v", err)
			}
		})
	}
}

func TestDotenvReplaceFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	content := "# app settings\nDEBUG=false\nOPENAI_API_KEY=" + envOld + "\n"
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	d := Dotenv{Path: p, Var: "OPENAI_API_KEY"}
	changed, err := d.Replace(ctx, redact.Fingerprint([]byte(envOld)), redact.NewSecretString(envNew))
	if err != nil || len(changed) != 1 {
		t.Fatalf("replace: %v %v", changed, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != strings.Replace(content, envOld, envNew, 1) {
		t.Errorf("file:\n%s", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	cur, err := d.Current(ctx)
	if err != nil || string(cur.Reveal()) != envNew {
		t.Errorf("current: %v", err)
	}
	// Again: nothing to do, nothing written.
	st1, _ := os.Stat(p)
	if _, err := d.Replace(ctx, redact.Fingerprint([]byte(envOld)), redact.NewSecretString(envNew)); err != nil {
		t.Fatalf("second replace: %v", err)
	}
	st2, _ := os.Stat(p)
	if !os.SameFile(st1, st2) {
		t.Error("an idempotent replace rewrote the file")
	}
}

func TestDotenvRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "real.env")
	if err := os.WriteFile(target, []byte("OPENAI_API_KEY="+envOld+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".env")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	_, err := Dotenv{Path: link, Var: "OPENAI_API_KEY"}.Replace(context.Background(), redact.Fingerprint([]byte(envOld)), redact.NewSecretString(envNew))
	if !errors.Is(err, atomicfile.ErrSymlink) {
		t.Fatalf("err %v, want ErrSymlink", err)
	}
	if b, _ := os.ReadFile(target); !bytes.Contains(b, []byte(envOld)) {
		t.Error("the symlink's target was changed")
	}
}

func TestDotenvCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := filepath.Join(t.TempDir(), ".env")
	_ = os.WriteFile(p, []byte("OPENAI_API_KEY="+envOld+"\n"), 0o600)
	d := Dotenv{Path: p, Var: "OPENAI_API_KEY"}
	if _, err := d.Replace(ctx, redact.Fingerprint([]byte(envOld)), redact.NewSecretString(envNew)); !errors.Is(err, context.Canceled) {
		t.Errorf("replace: %v", err)
	}
	if _, err := d.Current(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("current: %v", err)
	}
}

// FuzzDotenvEdit: on any file, an edit either refuses or changes exactly the
// value spans that held the old value (every other byte kept, the same
// assignments in the same order), reads back the new value, and is
// idempotent.
func FuzzDotenvEdit(f *testing.F) {
	for _, s := range []string{
		"A=1\nOPENAI_API_KEY=" + envOld + "\n",
		"export K='v v'\n# c\nK2=\"a\\\"b\"\n",
		"X=\"unterminated\nY=ok # c\r\n",
		"K=`tick`\nK=plain\n",
		"=novar\n  \t\nexport\texport=1\n",
	} {
		f.Add([]byte(s), "K")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		before := parseDotenvAssigns(data)
		old := ""
		for _, a := range before {
			if a.name == name && a.value != "" {
				old = a.value
			}
		}
		if old == "" && len(before) > 0 {
			name, old = before[0].name, before[0].value
		}
		if old == "" {
			return
		}
		fp := redact.Fingerprint([]byte(old))
		newVal := []byte("sk-FUZZnewVALUE0123456789")
		out, _, err := EditDotenv(data, name, fp, newVal)
		if err != nil {
			return
		}
		after := parseDotenvAssigns(out)
		if len(after) != len(before) {
			t.Fatalf("%d assignments before, %d after:\n%q\n%q", len(before), len(after), data, out)
		}
		prevIn, prevOut := 0, 0
		for i := range before {
			a, b := before[i], after[i]
			if a.name != b.name {
				t.Fatalf("assignment %d renamed %q -> %q", i, a.name, b.name)
			}
			if !bytes.Equal(data[prevIn:a.start], out[prevOut:b.start]) {
				t.Fatalf("bytes between values changed:\n%q\n%q", data[prevIn:a.start], out[prevOut:b.start])
			}
			want := a.value
			if a.value == old {
				want = string(newVal)
			}
			if b.value != want {
				t.Fatalf("assignment %s reads %q, want %q", a.name, b.value, want)
			}
			if b.value == a.value && !bytes.Equal(data[a.start:a.end], out[b.start:b.end]) {
				t.Fatalf("an untouched value changed")
			}
			prevIn, prevOut = a.end, b.end
		}
		if !bytes.Equal(data[prevIn:], out[prevOut:]) {
			t.Fatalf("tail changed")
		}
		again, _, err := EditDotenv(out, name, fp, newVal)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v", err)
		}
	})
}
