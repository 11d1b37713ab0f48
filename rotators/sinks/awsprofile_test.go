package sinks

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

const (
	testKeyID  = "AKIANEWNEWNEW0000001"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYNEWNEWNEW1"
)

// editCases: the file before, the profile, the file after, byte for byte.
var editCases = []struct {
	name, in, profile, want string
}{
	{
		name:    "replace in place",
		profile: "default",
		in: "[default]\n" +
			"aws_access_key_id = AKIAOLDOLDOLDOLD0000\n" +
			"aws_secret_access_key = oldsecret/OLD+old\n" +
			"region = eu-west-1\n",
		want: "[default]\n" +
			"aws_access_key_id = " + testKeyID + "\n" +
			"aws_secret_access_key = " + testSecret + "\n" +
			"region = eu-west-1\n",
	},
	{
		name:    "append to existing section",
		profile: "default",
		in: "[default]\n" +
			"region = eu-west-1\n" +
			"output = json\n" +
			"\n" +
			"# the other one\n" +
			"[other]\n" +
			"aws_access_key_id = AKIAOTHER\n",
		want: "[default]\n" +
			"region = eu-west-1\n" +
			"output = json\n" +
			"aws_access_key_id = " + testKeyID + "\n" +
			"aws_secret_access_key = " + testSecret + "\n" +
			"\n" +
			"# the other one\n" +
			"[other]\n" +
			"aws_access_key_id = AKIAOTHER\n",
	},
	{
		name:    "one key present, the other appended",
		profile: "ci",
		in:      "[ci]\naws_secret_access_key=old\nregion=x\n[z]\n",
		want:    "[ci]\naws_secret_access_key=" + testSecret + "\nregion=x\naws_access_key_id = " + testKeyID + "\n[z]\n",
	},
	{
		name:    "new section at the end",
		profile: "new",
		in:      "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n",
		want: "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n" +
			"\n[new]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "new section after a trailing blank line",
		profile: "new",
		in:      "[a]\nk = v\n\n",
		want:    "[a]\nk = v\n\n[new]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "empty file",
		profile: "default",
		in:      "",
		want:    "[default]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "no trailing newline, append to section",
		profile: "default",
		in:      "[default]\nregion = x",
		want:    "[default]\nregion = x\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "no trailing newline, replace last line",
		profile: "default",
		in:      "[default]\naws_secret_access_key = old\naws_access_key_id = OLD",
		want:    "[default]\naws_secret_access_key = " + testSecret + "\naws_access_key_id = " + testKeyID,
	},
	{
		name:    "no trailing newline, new section",
		profile: "b",
		in:      "[a]\nk = v",
		want:    "[a]\nk = v\n\n[b]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "CRLF file",
		profile: "default",
		in:      "[default]\r\naws_access_key_id = OLD\r\nregion = x\r\n\r\n[b]\r\nk = v\r\n",
		want: "[default]\r\naws_access_key_id = " + testKeyID + "\r\nregion = x\r\naws_secret_access_key = " + testSecret +
			"\r\n\r\n[b]\r\nk = v\r\n",
	},
	{
		name:    "CRLF file, new section",
		profile: "new",
		in:      "[a]\r\nk = v\r\n",
		want:    "[a]\r\nk = v\r\n\r\n[new]\r\naws_access_key_id = " + testKeyID + "\r\naws_secret_access_key = " + testSecret + "\r\n",
	},
	{
		name:    "comments, blank lines, spacing and delimiters preserved",
		profile: "default",
		in: "# top comment\n" +
			"; another\n" +
			"\n" +
			"[default]   \n" +
			"# comment in section\n" +
			"aws_access_key_id=OLD   \n" +
			"  ; indented comment\n" +
			"AWS_SECRET_ACCESS_KEY :  OLD2\t\n" +
			"\n" +
			"[prod]\n" +
			"aws_access_key_id = PROD # not a comment to botocore\n",
		want: "# top comment\n" +
			"; another\n" +
			"\n" +
			"[default]   \n" +
			"# comment in section\n" +
			"aws_access_key_id=" + testKeyID + "   \n" +
			"  ; indented comment\n" +
			"AWS_SECRET_ACCESS_KEY :  " + testSecret + "\t\n" +
			"\n" +
			"[prod]\n" +
			"aws_access_key_id = PROD # not a comment to botocore\n",
	},
	{
		name:    "an indented key line continues the key before it",
		profile: "i",
		in:      "[i]\naws_access_key_id = OLD\n\taws_secret_access_key = OLD\n",
		want:    "[i]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "session and security tokens removed with their continuation lines",
		profile: "temp",
		in: "[temp]\n" +
			"aws_access_key_id = ASIAOLD\n" +
			"aws_secret_access_key = old\n" +
			"aws_session_token = FwoGZXIvYXdzEBY\n" +
			"  continuedtoken\n" +
			"# kept\n" +
			"Aws_Security_Token=FwoGZXIvYXdzEBY\n" +
			"region = us-east-1\n",
		want: "[temp]\n" +
			"aws_access_key_id = " + testKeyID + "\n" +
			"aws_secret_access_key = " + testSecret + "\n" +
			"# kept\n" +
			"region = us-east-1\n",
	},
	{
		name:    "other profiles untouched",
		profile: "b",
		in: "[a]\naws_access_key_id = AKIAA\naws_secret_access_key = sa\naws_session_token = ta\n" +
			"\n[b]\naws_access_key_id = AKIAB\naws_secret_access_key = sb\naws_session_token = tb\n" +
			"\n[c]  ; trailing text after ] is ignored by botocore\n  aws_access_key_id = AKIAC\n  x =\n    nested = 1\n",
		want: "[a]\naws_access_key_id = AKIAA\naws_secret_access_key = sa\naws_session_token = ta\n" +
			"\n[b]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n" +
			"\n[c]  ; trailing text after ] is ignored by botocore\n  aws_access_key_id = AKIAC\n  x =\n    nested = 1\n",
	},
	{
		name:    "[profile x] form only: edited too, and [x] appended",
		profile: "x",
		in:      "[profile x]\naws_access_key_id = OLD\naws_secret_access_key = OLD\naws_session_token = T\nregion = r\n",
		want: "[profile x]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\nregion = r\n" +
			"\n[x]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "[profile x] and [x]: both edited",
		profile: "x",
		in:      "[x]\naws_access_key_id = OLD\naws_secret_access_key = OLD\n[profile x]\naws_access_key_id = OLD\n[profile xy]\naws_access_key_id = OLD\n",
		want: "[x]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n" +
			"[profile x]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n" +
			"[profile xy]\naws_access_key_id = OLD\n",
	},
	{
		name:    "key case as Python lower-cases it (Kelvin sign K)",
		profile: "k",
		in:      "[k]\nAWS_ACCESS_\u212aEY_ID = OLD\naws_secret_access_\u212aey = OLD\n",
		want:    "[k]\nAWS_ACCESS_\u212aEY_ID = " + testKeyID + "\naws_secret_access_\u212aey = " + testSecret + "\n",
	},
	{
		name:    "empty value and a nested block replaced",
		profile: "n",
		in:      "[n]\naws_access_key_id =\n    a = 1\n    b = 2\naws_secret_access_key=\nregion = r\n",
		want:    "[n]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key= " + testSecret + "\nregion = r\n",
	},
	{
		name:    "indented section: new keys indented like its last key",
		profile: "x",
		in:      "  [x]\n    region = a\n  [y]\n  k = v\n",
		want:    "  [x]\n    region = a\n    aws_access_key_id = " + testKeyID + "\n    aws_secret_access_key = " + testSecret + "\n  [y]\n  k = v\n",
	},
	{
		name:    "section with no keys before an indented header",
		profile: "x",
		in:      "[x]\n# nothing yet\n  [y]\n  k = v\n",
		want:    "[x]\n  aws_access_key_id = " + testKeyID + "\n  aws_secret_access_key = " + testSecret + "\n# nothing yet\n  [y]\n  k = v\n",
	},
	{
		name:    "[DEFAULT] keys are not a profile and stay",
		profile: "x",
		in:      "[DEFAULT]\nregion = r\naws_access_key_id = DEF\n[x]\nk = v\n",
		want:    "[DEFAULT]\nregion = r\naws_access_key_id = DEF\n[x]\nk = v\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
	{
		name:    "already delivered: unchanged",
		profile: "d",
		in:      "[d]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
		want:    "[d]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n",
	},
}

func TestSetAWSKey(t *testing.T) {
	t.Parallel()
	for _, c := range editCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := setAWSKey([]byte(c.in), c.profile, testKeyID, []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, c.want)
			}
		})
	}
}

// TestDeliverRealReader delivers each case to a file and reads the key back
// with the real AWS CLI.
func TestDeliverRealReader(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("aws")
	requirePeer(t, "the aws CLI", err)
	for _, c := range editCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			s := AWSProfile{Path: p, Profile: c.profile}
			if err := s.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret)); err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{keyAccessKeyID: testKeyID, keySecretAccessKey: testSecret} {
				got, err := awsGet(t, p, c.profile, key)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("aws configure get %s = %q, want %q", key, got, want)
				}
			}
			id, sec, err := s.Current(context.Background())
			if err != nil || id != testKeyID || string(sec.Reveal()) != testSecret {
				t.Errorf("Current = %q, %v", id, err)
			}
		})
	}
}

func TestDeliverCreatesFile0600AndDir0700(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "home", ".aws", "credentials")
	s := AWSProfile{Path: p, Profile: "default"}
	if err := s.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{p: 0o600, filepath.Dir(p): 0o700 | fs.ModeDir} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
		}
	}
	got, _ := os.ReadFile(p)
	if want := "[default]\naws_access_key_id = " + testKeyID + "\naws_secret_access_key = " + testSecret + "\n"; string(got) != want {
		t.Errorf("content %q", got)
	}
}

func TestDeliverKeepsModeAndIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, perm := range []fs.FileMode{0o600, 0o640} {
		p := filepath.Join(t.TempDir(), "credentials")
		if err := os.WriteFile(p, []byte("[default]\naws_access_key_id = OLD\n"), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		s := AWSProfile{Path: p, Profile: "default"}
		if err := s.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != perm {
			t.Errorf("mode %v, want %v", fi.Mode(), perm)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if err := s.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret)); err != nil {
			t.Fatal(err)
		}
		fi, _ = os.Stat(p)
		if fi.Sys().(*syscall.Stat_t).Ino != ino {
			t.Error("delivering the same key again rewrote the file")
		}
	}
}

func TestDeliverRefusesSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "real-credentials")
	const content = "[default]\naws_access_key_id = OLD\n"
	if err := os.WriteFile(real, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "credentials")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	err := AWSProfile{Path: link, Profile: "default"}.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret))
	if !errors.Is(err, atomicfile.ErrSymlink) {
		t.Fatalf("err = %v, want ErrSymlink", err)
	}
	if !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), link) {
		t.Errorf("unclear error: %v", err)
	}
	if got, _ := os.ReadFile(real); string(got) != content {
		t.Errorf("target changed: %q", got)
	}
}

func TestDeliverHonoursContext(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "credentials")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := AWSProfile{Path: p, Profile: "default"}.Deliver(ctx, testKeyID, redact.NewSecretString(testSecret))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file written despite the cancelled context")
	}
}

func TestCurrent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, profile string
		wantID, wantSec   string
		wantErr           error
		wantErrText       string
	}{
		{name: "plain", in: "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n", profile: "p", wantID: "AKIA1", wantSec: "s1"},
		{name: "from [DEFAULT] as botocore does", in: "[DEFAULT]\naws_secret_access_key = sd\n[p]\naws_access_key_id = AKIA1\n", profile: "p", wantID: "AKIA1", wantSec: "sd"},
		{name: "missing profile", in: "[q]\n", profile: "p", wantErr: ErrProfileNotFound},
		{name: "only [profile p]", in: "[profile p]\naws_access_key_id = A\naws_secret_access_key = s\n", profile: "p", wantErr: ErrProfileNotFound, wantErrText: "line 1 has [profile p]"},
		{name: "no secret", in: "[p]\naws_access_key_id = A\n", profile: "p", wantErrText: "line 1: the profile has no aws_secret_access_key"},
		{name: "nested value", in: "[p]\naws_access_key_id =\n  a = b\naws_secret_access_key = s\n", profile: "p", wantErrText: "line 2: aws_access_key_id is empty or spans several lines"},
		{name: "duplicate", in: "[p]\n[p]\n", profile: "p", wantErrText: "line 2: section [p] repeats the one at line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			id, sec, err := AWSProfile{Path: p, Profile: c.profile}.Current(context.Background())
			if c.wantErr != nil || c.wantErrText != "" {
				if err == nil || (c.wantErr != nil && !errors.Is(err, c.wantErr)) || !strings.Contains(err.Error(), c.wantErrText) {
					t.Fatalf("err = %v, want %v / %q", err, c.wantErr, c.wantErrText)
				}
				return
			}
			if err != nil || id != c.wantID || string(sec.Reveal()) != c.wantSec {
				t.Errorf("got %q %q %v", id, sec.Reveal(), err)
			}
		})
	}
}

// refusalCases are files Deliver must refuse, with the line the error names.
var refusalCases = []struct {
	name, in, profile, wantErr string
}{
	{"duplicate section", "[x]\naws_access_key_id = A\n\n[y]\n[x]\nregion = r\n", "x", "line 5: section [x] repeats the one at line 1; botocore rejects"},
	{"duplicate section elsewhere", "[a]\n[a]\n[x]\n", "x", "line 2: section [a] repeats"},
	{"duplicate key", "[x]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n", "x", "line 3: a key of section [x] repeats the one at line 2"},
	{"duplicate key across [DEFAULT] parts", "[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n[x]\n", "x", "line 4: a key of section [DEFAULT] repeats"},
	{"text before the first section", "aws_access_key_id = A\n[x]\n", "x", "line 1: text before the first [section]"},
	{"line without delimiter", "[x]\nthisisnotakeyvalue\n", "x", "line 2: neither a [section]"},
	{"key without name", "[x]\n= value\n", "x", "line 2: a key = value line without a key"},
	{"bad nested block", "[a]\ns3 =\n  not a pair\n[x]\n", "x", "line 2: an indented block"},
	{"invalid UTF-8", "[x]\r\nk = \xff\n", "x", "line 2: not valid UTF-8"},
	{"UTF-8 byte order mark", "\ufeff[x]\n", "x", "line 1: text before the first [section]"},
	{"session token in [DEFAULT]", "[DEFAULT]\naws_session_token = T\n[x]\n", "x", "line 2: [DEFAULT] gives every profile a aws_session_token"},
}

func TestDeliverRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range refusalCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			err := AWSProfile{Path: p, Profile: c.profile}.Deliver(context.Background(), testKeyID, redact.NewSecretString(testSecret))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if got, _ := os.ReadFile(p); string(got) != c.in {
				t.Errorf("file changed: %q", got)
			}
		})
	}
}

func TestArgumentChecks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, profile, keyID, secret, wantErr string
	}{
		{"empty profile", "", testKeyID, testSecret, "profile name is empty"},
		{"DEFAULT", "DEFAULT", testKeyID, testSecret, "[DEFAULT] is not a profile"},
		{"bracket", "a]b", testKeyID, testSecret, "bracket"},
		{"newline", "a\nb", testKeyID, testSecret, "line break"},
		{"outer space", " a", testKeyID, testSecret, "whitespace"},
		{"profile prefix", "profile x", testKeyID, testSecret, `starts with "profile "`},
		{"key id with space", "a", "AKIA X", testSecret, "access key id must be"},
		{"empty key id", "a", "", testSecret, "access key id must be"},
		{"secret with space", "a", testKeyID, "abc def", "secret access key must be"},
		{"secret with hash", "a", testKeyID, "abc#def", "secret access key must be"},
		{"empty secret", "a", testKeyID, "", "secret access key must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "credentials")
			err := AWSProfile{Path: p, Profile: c.profile}.Deliver(context.Background(), c.keyID, redact.NewSecretString(c.secret))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
		})
	}
	if _, err := setAWSKey(nil, "with space", testKeyID, []byte(testSecret)); err != nil {
		t.Errorf("a profile name with an inner space is valid: %v", err)
	}
}
