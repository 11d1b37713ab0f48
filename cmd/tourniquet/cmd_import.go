package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

func newImportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "import BUNDLE.json...",
		Short: "Merge scans from other hosts into the incident",
		Long: `Record scans made on other machines (the output of ` + "`tourniquet scan --json`" + `,
collected over ssh, Ansible or a node DaemonSet's logs) into the incident, each under
its own host with its own window, verdict, findings and credentials.

A file may hold one scan or several concatenated; "-" reads standard input. Bundles
are untrusted: each is bounded in size, checked against the tourniquet.scan/v1
contract and has its text escaped; a bad one is refused whole and the others are
still imported.

Importing is idempotent: a scan the incident already holds (same target and scan
time), or one older than the target's recorded scan, changes nothing, not even the
audit chain. A newer scan of a host replaces its record as a re-scan would.

Exit status: 0 every bundle imported or already recorded, 2 a bundle was refused.`,
		Example: `  # Collected with: ssh web-01 tourniquet scan --json --no-record > web-01.json
  tourniquet import web-01.json web-02.json

  # A whole fleet's output, then what leaked
  tourniquet import fleet/*.json && tourniquet exposure --only exposed

  # Straight from a node DaemonSet's logs
  kubectl logs -n tourniquet pod/tourniquet-node-scan-x7k2p | tourniquet import -`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return a.importBundles(cmd.Context(), args) },
	}
}

// importResult is one scan of one bundle file and what importing it did.
type importResult struct {
	File        string     `json:"file"`
	Kind        string     `json:"kind,omitempty"`
	Host        string     `json:"host,omitempty"`
	Root        string     `json:"root,omitempty"`
	ScannedAt   *time.Time `json:"scanned_at,omitempty"`
	Outcome     string     `json:"outcome"` // imported, already_recorded, older_than_recorded, refused
	Verdict     string     `json:"verdict,omitempty"`
	Findings    int        `json:"findings"`
	Credentials int        `json:"credentials"`
	Error       string     `json:"error,omitempty"`
}

const outcomeRefused = "refused"

func (a *app) importBundles(ctx context.Context, files []string) error {
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	var results []importResult
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rs, err := a.importFile(ctx, st, name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rs = []importResult{{File: name, Outcome: outcomeRefused, Error: err.Error()}}
		}
		results = append(results, rs...)
	}
	refused := 0
	for _, r := range results {
		if r.Outcome == outcomeRefused {
			refused++
		}
	}
	if a.json {
		if err := a.printJSON(struct {
			Schema   string         `json:"schema"`
			Incident string         `json:"incident"`
			Bundles  []importResult `json:"bundles"`
		}{"tourniquet.import/v1", a.incident, results}); err != nil {
			return err
		}
	} else {
		a.printImport(results, st)
	}
	if refused > 0 {
		return withCode(exitUsage, fmt.Errorf("import: %d of %d scans refused", refused, len(results)))
	}
	return nil
}

// importFile reads one bundle file (or "-") and imports every scan in it,
// each in its own transaction: a scan the store refuses is reported as such.
// A file that does not decode is refused whole (the error).
func (a *app) importFile(ctx context.Context, st *store.Store, name string) ([]importResult, error) {
	data, err := readBundle(name, a.io.In)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	scans, err := collectors.DecodeBundles(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	source := filepath.Base(name)
	var out []importResult
	for _, res := range scans {
		scanned := res.Host.ScannedAt.UTC()
		r := importResult{File: name, Kind: orHost(res.Host.Kind), Host: res.Host.Name, Root: res.Host.Root, ScannedAt: &scanned,
			Verdict: res.Verdict, Findings: len(res.Findings), Credentials: len(res.Credentials)}
		outcome, err := st.ImportScan(ctx, a.incident, res, digest, source)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.Outcome, r.Error = outcomeRefused, err.Error()
		} else {
			r.Outcome = string(outcome)
		}
		out = append(out, r)
	}
	return out, nil
}

// readBundle reads a regular file (or stdin for "-") up to the bundle bound;
// FIFOs and devices are refused (they could block forever).
func readBundle(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", name, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("read bundle %s: not a regular file", name)
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, collectors.MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", name, err)
	}
	if len(data) > collectors.MaxBundleSize {
		return nil, fmt.Errorf("read bundle %s: %w: larger than %d bytes", name, collectors.ErrBundle, collectors.MaxBundleSize)
	}
	return data, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orHost(kind string) string {
	if kind == "" {
		return "host"
	}
	return kind
}

func (a *app) printImport(results []importResult, st *store.Store) {
	s := sanitize.Terminal
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Outcome]++
		file := s(r.File)
		if r.Outcome == outcomeRefused {
			a.outf("%s: refused: %s\n", file, sanitize.Truncate(r.Error, 300))
			continue
		}
		target := fmt.Sprintf("%s %s (root %s, scanned %s)", r.Kind, r.Host, r.Root, r.ScannedAt.Format(time.RFC3339))
		switch store.ImportOutcome(r.Outcome) {
		case store.Imported:
			a.outf("%s: %s: imported: %s, %d findings, %d credentials\n", file, target, strings.ToUpper(r.Verdict), r.Findings, r.Credentials)
		case store.AlreadyRecorded:
			a.outf("%s: %s: already recorded, nothing changed\n", file, target)
		case store.OlderThanRecorded:
			a.outf("%s: %s: older than the recorded scan of this target, which is kept\n", file, target)
		}
	}
	a.outf("\n%d %s: %d imported, %d already recorded, %d older than recorded, %d refused. Incident %s in %s.\n",
		len(results), plural(len(results), "scan", "scans"), counts[string(store.Imported)], counts[string(store.AlreadyRecorded)], counts[string(store.OlderThanRecorded)],
		counts[outcomeRefused], s(a.incident), s(st.Path()))
}
