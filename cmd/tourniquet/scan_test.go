package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
)

// The fake secrets planted in the compromised image.
var plantedSecrets = []string{
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
	"sk-proj-FAKEfakeFAKEfake0123456789abcdefghijklmnopqrstuvwxyzT3BlbkFJfakefakefake",
	"sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefghijklmnopqrstuvwxyz",
	"ghp_FAKEfakeFAKEfake0123456789abcdefghij",
	"ghp_FAKEroot0123456789abcdefghijklmnopqr",
	"FakePgPassw0rdForTests",
	"ZmFrZS1zaWduYXR1cmUtZm9yLXRlc3Rz",
	"b3BlbnNzaC1rZXktdjEAAAAA", // the private key body's opening
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, IOStreams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// TestScanRecordsNoSecretAndNoDuplicates scans the compromised image twice
// into one database, then checks the second scan added no rows and no
// finding events, and that no planted secret reached stdout, stderr, the
// database, its WAL or its shared memory.
func TestScanRecordsNoSecretAndNoDuplicates(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := hostimage.BuildFile(root, "../../collectors/host/testdata/images/compromised.txtar"); err != nil {
		t.Fatal(err)
	}
	// The planted values really are in the image.
	if b, _ := os.ReadFile(filepath.Join(root, "home/dev/.env")); !bytes.Contains(b, []byte(plantedSecrets[2])) {
		t.Fatal("fixture lost its planted secret")
	}
	db := filepath.Join(t.TempDir(), "t.db")
	var outputs []string
	counts := func() map[string]int {
		conn, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		m := map[string]int{}
		for _, q := range []string{"hosts", "findings", "credentials", "audit_log"} {
			var n int
			if err := conn.QueryRow("SELECT count(*) FROM " + q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			m[q] = n
		}
		return m
	}
	code, out, errs := runCLI(t, "--db", db, "scan", "--root", root, "--json")
	if code != exitFound {
		t.Fatalf("first scan exit %d, stderr %s", code, errs)
	}
	outputs = append(outputs, out, errs)
	first := counts()
	code, out, errs = runCLI(t, "--db", db, "scan", "--root", root)
	if code != exitFound {
		t.Fatalf("second scan exit %d, stderr %s", code, errs)
	}
	outputs = append(outputs, out, errs)
	second := counts()
	if first["hosts"] != 1 || first["findings"] == 0 || first["credentials"] != 9 {
		t.Errorf("first scan recorded %v", first)
	}
	for _, k := range []string{"hosts", "findings", "credentials"} {
		if first[k] != second[k] {
			t.Errorf("re-scan changed %s: %d -> %d", k, first[k], second[k])
		}
	}
	if second["audit_log"] != first["audit_log"]+1 {
		t.Errorf("re-scan added %d audit events, want 1 (scan.finished)", second["audit_log"]-first["audit_log"])
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if b, err := os.ReadFile(p); err == nil {
			outputs = append(outputs, string(b))
		}
	}
	for _, secret := range plantedSecrets {
		for i, o := range outputs {
			if strings.Contains(o, secret) {
				t.Errorf("planted secret %.12s… found in output %d", secret, i)
			}
		}
	}
}
