package postmortem_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// TestGoldens renders the generated incident in every format.
func TestGoldens(t *testing.T) {
	t.Parallel()
	rep := build(t, generated(t, postmortemtest.Options{}))
	for _, f := range postmortem.Formats {
		t.Run(string(f), func(t *testing.T) {
			checkGolden(t, "generated"+f.Ext(), render(t, rep, f))
		})
	}
}

// TestAcceptanceIncident holds the generated incident to the acceptance
// shape, and the report to what it must say about it.
func TestAcceptanceIncident(t *testing.T) {
	t.Parallel()
	rep := build(t, generated(t, postmortemtest.Options{}))
	s := rep.Summary
	if s.TargetsByKind["host"] != postmortemtest.Hosts || s.TargetsByKind["cluster"] != postmortemtest.Clusters {
		t.Errorf("targets by kind = %v, want 3 hosts and 1 cluster", s.TargetsByKind)
	}
	if s.Credentials != postmortemtest.Credentials || len(rep.Credentials) != postmortemtest.Credentials {
		t.Errorf("credentials = %d (%d in the ledger), want 40", s.Credentials, len(rep.Credentials))
	}
	if s.Runs != postmortemtest.Runs || len(rep.Runs) != postmortemtest.Runs {
		t.Errorf("runs = %d, want 12", s.Runs)
	}
	if !rep.Integrity.Chain.Verified || rep.Integrity.Chain.HeadSeq == 0 || rep.Integrity.IncidentEvents == 0 {
		t.Errorf("integrity = %+v", rep.Integrity.Chain)
	}
	// Every rotated credential names its run, time and approvers; the
	// AWS ones carry the CloudTrail evidence their run recorded.
	rotated := 0
	for _, c := range rep.Credentials {
		if c.Rotation != store.RotationRotated {
			continue
		}
		rotated++
		if c.RotationRun == "" || c.RotatedAt == nil {
			t.Errorf("rotated credential %s has no run or time: %+v", c.ID, c)
		}
		if c.Kind == "aws-access-key" && (c.Misuse.Status != "found" || len(c.Misuse.Findings) == 0 || !strings.Contains(c.Misuse.Summary, "203.0.113.7")) {
			t.Errorf("AWS credential %s: misuse = %+v, want the CloudTrail finding and the evidence step's source IP", c.ID, c.Misuse)
		}
		if len(c.ApprovedBy) == 0 {
			t.Errorf("rotated credential %s: no approver recorded", c.ID)
		}
	}
	if rotated != s.ExposedByRotation[store.RotationRotated] || rotated == 0 {
		t.Errorf("%d rotated credentials in the ledger, summary says %d", rotated, s.ExposedByRotation[store.RotationRotated])
	}
	kinds := map[string]int{}
	for _, it := range rep.OpenItems {
		kinds[it.Kind]++
	}
	for _, k := range []string{"rotate", "approve", "manual_step", "resume", "failed_run", "open_window"} {
		if kinds[k] == 0 {
			t.Errorf("no open item of kind %s (got %v)", k, kinds)
		}
	}
}

// TestMarkdownReadsAsDraft checks the usual post-mortem sections are there,
// in order, filled from the record, with the human parts clearly marked.
func TestMarkdownReadsAsDraft(t *testing.T) {
	t.Parallel()
	rep := build(t, generated(t, postmortemtest.Options{}))
	md := render(t, rep, postmortem.Markdown)
	var headings []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "## ") {
			headings = append(headings, strings.TrimPrefix(l, "## "))
		}
	}
	want := []string{"Summary", "Impact", "Timeline", "Root cause and trigger", "Detection", "Response", "What went well", "What went badly", "Action items", "Evidence integrity"}
	if strings.Join(headings, "|") != strings.Join(want, "|") {
		t.Errorf("sections = %q, want %q", headings, want)
	}
	if n := strings.Count(md, "> **✍ To complete:**"); n != len(rep.Prompts) || n < 8 {
		t.Errorf("%d prompts for people, want one per prompt (%d)", n, len(rep.Prompts))
	}
	for _, must := range []string{
		"### Credential ledger", "### Playbook runs", "### Open items (from the record)",
		"web-01", "prod-eks", "AKIA…0001", "alice (--confirm)", "litellm 1.82.7", // hosts, the cluster, a hint, an approver, the root cause
		"Findings by pack and severity", rep.Integrity.Chain.HeadHash, rep.Integrity.ContentSHA256,
		"tourniquet playbook resume", "**use recorded**",
	} {
		if !strings.Contains(md, must) {
			t.Errorf("the draft does not mention %q", must)
		}
	}
	for _, never := range []string{"TODO", "<nil>", "%!", "0001-01-01", "map["} {
		if strings.Contains(md, never) {
			t.Errorf("the draft contains %q", never)
		}
	}
}

// TestTimesketchLines checks each line is one event Timesketch imports.
func TestTimesketchLines(t *testing.T) {
	t.Parallel()
	rep := build(t, generated(t, postmortemtest.Options{}))
	out := render(t, rep, postmortem.Timesketch)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		for _, k := range []string{"message", "datetime", "timestamp_desc"} {
			if s, _ := ev[k].(string); s == "" {
				t.Errorf("line %d: no %s", n, k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, ev["datetime"].(string)); err != nil {
			t.Errorf("line %d: datetime: %v", n, err)
		}
		if ev["chain_head_hash"] != rep.Integrity.Chain.HeadHash {
			t.Errorf("line %d: chain head %v, want %s", n, ev["chain_head_hash"], rep.Integrity.Chain.HeadHash)
		}
	}
	if n != len(rep.Timeline)+1 {
		t.Errorf("%d lines, want the export line and %d timeline entries", n, len(rep.Timeline))
	}
}

// TestEveryFormatCarriesTheChainHead: head hash and counts in all four.
func TestEveryFormatCarriesTheChainHead(t *testing.T) {
	t.Parallel()
	rep := build(t, generated(t, postmortemtest.Options{}))
	for _, f := range postmortem.Formats {
		out := render(t, rep, f)
		for _, must := range []string{rep.Integrity.Chain.HeadHash, rep.Integrity.EventsDigest, rep.Integrity.ContentSHA256} {
			if !strings.Contains(out, must) {
				t.Errorf("%s export lacks %s", f, must)
			}
		}
	}
}

// TestBuildIsDeterministic: the same record gives the same bytes.
func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	st := generated(t, postmortemtest.Options{})
	a, b := build(t, st), build(t, st)
	for _, f := range postmortem.Formats {
		if render(t, a, f) != render(t, b, f) {
			t.Errorf("%s differs between two builds of the same record", f)
		}
	}
}

// TestSchemaDocumented fails when the JSON grows a member SCHEMA.md does
// not describe.
func TestSchemaDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	rep := build(t, generated(t, postmortemtest.Options{}))
	var v any
	if err := json.Unmarshal([]byte(render(t, rep, postmortem.JSON)), &v); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	var walk func(prefix string, v any, mapKeys bool)
	walk = func(prefix string, v any, mapKeys bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := prefix + "." + k
				if mapKeys {
					p = prefix + ".*"
				}
				if !mapKeys {
					paths[strings.TrimPrefix(p, ".")] = true
				}
				walk(p, c, isMap(strings.TrimPrefix(p, ".")))
			}
		case []any:
			for _, c := range x {
				walk(prefix+"[]", c, false)
			}
		}
	}
	walk("", v, false)
	var missing []string
	for p := range paths {
		if !strings.Contains(string(doc), "`"+p+"`") {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("SCHEMA.md does not document:\n%s", strings.Join(missing, "\n"))
	}
}

// isMap names the members whose keys are data (kinds, packs), not schema.
func isMap(p string) bool {
	return regexp.MustCompile(`(by_kind|by_severity|by_exposure|by_rotation|by_state|by_pack(\.\*)?|findings_by_severity|events_by_kind|sections)$`).MatchString(p)
}

// TestExportFile writes atomically with mode 0600 and records the export.
func TestExportFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := generated(t, postmortemtest.Options{})
	path := filepath.Join(t.TempDir(), "pm.md")
	rep, err := postmortem.ExportFile(ctx, st, options(t), postmortem.Markdown, path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 0600", fi.Mode().Perm())
	}
	evs, err := st.AuditEvents(ctx, rep.Integrity.Chain.HeadSeq, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != postmortem.ExportEventKind || evs[0].Subject != path ||
		!bytes.Contains(evs[0].Data, []byte(rep.Integrity.ContentSHA256)) || !bytes.Contains(evs[0].Data, []byte(`"format":"md"`)) {
		t.Errorf("export event = %+v", evs)
	}
	// A symbolic link is refused, not followed.
	link := filepath.Join(t.TempDir(), "link.md")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := postmortem.ExportFile(ctx, st, options(t), postmortem.Markdown, link); err == nil {
		t.Error("exporting over a symbolic link succeeded")
	}
}
