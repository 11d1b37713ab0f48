package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tourniquet": func() { main() },
		// seed-audit DB N appends N events, as scans would.
		"seed-audit": func() { os.Exit(seedAudit(os.Args[1], os.Args[2])) },
		// seed-incident DB [hostile] records the post-mortem's generated
		// incident (3 hosts, a cluster, 40 credentials, 12 runs).
		"seed-incident": func() { os.Exit(seedIncident(os.Args[1:])) },
		// tamper-audit DB SQL edits the log behind the store's back.
		"tamper-audit": func() { os.Exit(tamperAudit(os.Args[1], os.Args[2])) },
		// build-image DIR ARCHIVE writes a test host image.
		"build-image": func() {
			if err := hostimage.BuildFile(os.Args[1], os.Args[2]); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		},
	})
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_STATE_HOME", e.WorkDir+"/state")
			e.Setenv("NO_COLOR", "1")
			images, err := filepath.Abs("../../collectors/host/testdata/images")
			if err != nil {
				return err
			}
			e.Setenv("IMAGES", images)
			return nil
		},
	})
}

func seedAudit(path, n string) int {
	count, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.EnsureIncident(ctx, "default"); err != nil {
			return err
		}
		for i := 1; i < count; i++ {
			if _, err := tx.Audit(ctx, "default", "test.event", "seed", map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func seedIncident(args []string) int {
	st, _, err := postmortemtest.Open(context.Background(), args[0], postmortemtest.Options{Hostile: len(args) > 1 && args[1] == "hostile"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := st.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func tamperAudit(path, query string) int {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	for _, q := range []string{"DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete", query} {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// TestEveryCommandTeaches holds the contract that --help shows an example for
// every command a user can run.
func TestEveryCommandTeaches(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&app{getenv: func(string) string { return "" }})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no example in --help", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%q has no short description", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// TestContractCommandsExist checks every command of ARCHITECTURE.md's CLI
// contract is wired.
func TestContractCommandsExist(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&app{getenv: func(string) string { return "" }})
	for _, path := range [][]string{
		{"scan"}, {"exposure"}, {"export"}, {"import"},
		{"playbook", "list"}, {"playbook", "show"}, {"playbook", "run"}, {"playbook", "resume"}, {"playbook", "status"},
		{"gateway", "serve"}, {"gateway", "import-litellm"}, {"gateway", "keys", "create"}, {"gateway", "status"},
		{"audit", "verify"}, {"packs", "list"}, {"packs", "show"},
	} {
		c, rest, err := root.Find(path)
		if err != nil || len(rest) != 0 || c.Name() != path[len(path)-1] {
			t.Errorf("command %v not found (%v)", path, err)
		}
	}
}
