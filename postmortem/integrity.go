package postmortem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// seal fills the integrity digests: one per top-level section, then the
// whole report's. Digests are over canonical JSON (store.CanonicalJSON:
// sorted keys, no white space), so the file's indentation does not matter
// and VerifyExport recomputes them from the parsed file.
func seal(rep *Report) error {
	rep.Integrity.Sections, rep.Integrity.ContentSHA256 = nil, ""
	doc, err := toDoc(rep)
	if err != nil {
		return err
	}
	secs, err := sectionDigests(doc)
	if err != nil {
		return err
	}
	rep.Integrity.Sections = secs
	if doc, err = toDoc(rep); err != nil {
		return err
	}
	rep.Integrity.ContentSHA256, err = contentDigest(doc)
	return err
}

func toDoc(rep *Report) (map[string]any, error) {
	raw, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("post-mortem: encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("post-mortem: encode: %w", err)
	}
	return doc, nil
}

func digestOf(v any) (string, error) {
	c, err := store.CanonicalJSON(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func sectionDigests(doc map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(doc))
	for k, v := range doc {
		if k == "integrity" {
			continue
		}
		d, err := digestOf(v)
		if err != nil {
			return nil, fmt.Errorf("post-mortem: digest %s: %w", k, err)
		}
		out[k] = d
	}
	return out, nil
}

// contentDigest digests the document with integrity.content_sha256 blank,
// without changing doc.
func contentDigest(doc map[string]any) (string, error) {
	shallow := make(map[string]any, len(doc))
	for k, v := range doc {
		shallow[k] = v
	}
	if integ, ok := doc["integrity"].(map[string]any); ok {
		c := make(map[string]any, len(integ))
		for k, v := range integ {
			c[k] = v
		}
		c["content_sha256"] = ""
		shallow["integrity"] = c
	}
	return digestOf(shallow)
}

// MaxExportBytes bounds what VerifyExport reads: an export of 100k findings
// is some tens of MiB.
const MaxExportBytes = 64 << 20

// maxDepth bounds the nesting VerifyExport accepts (the schema nests five
// levels).
const maxDepth = 64

// ErrNotExport is wrapped by VerifyExport when the file is not a readable
// tourniquet.postmortem/v1 document (as opposed to one that differs from
// the chain).
var ErrNotExport = errors.New("not a tourniquet.postmortem/v1 export")

// Check is one comparison of the export with the live chain.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Verification is the outcome of VerifyExport.
type Verification struct {
	OK          bool      `json:"ok"`
	Incident    string    `json:"incident"`
	GeneratedAt time.Time `json:"generated_at"`
	HeadSeq     int64     `json:"head_seq"`
	HeadHash    string    `json:"head_hash"`
	Checks      []Check   `json:"checks"`
	// Differences lists every difference found, most telling first.
	Differences []string `json:"differences"`
}

func (v *Verification) check(name string, ok bool, format string, args ...any) {
	v.Checks = append(v.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	if !ok {
		v.OK = false
	}
}

func (v *Verification) differ(format string, args ...any) {
	v.Differences = append(v.Differences, fmt.Sprintf(format, args...))
}

// Auditor is what VerifyExport reads: the live chain.
type Auditor interface {
	WalkAudit(ctx context.Context, fn func(*store.AuditEvent) error) error
}

// maxListed bounds how many timeline differences are spelled out.
const maxListed = 20

// VerifyExport checks an exported JSON (read from r, at most
// MaxExportBytes) against the live chain: the chain is intact; the
// export's head event is in it with the same hash (nothing rewritten or cut
// off since); the incident's events up to the head have the recorded count,
// kinds and digest; every audit entry of the timeline matches its event;
// and an export.created event records this exact content. It returns an
// error wrapping ErrNotExport for a file it cannot read as an export, and
// a Verification (OK false, with the differences) for one that differs.
func VerifyExport(ctx context.Context, src Auditor, r io.Reader) (*Verification, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxExportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read export: %w", err)
	}
	if len(data) > MaxExportBytes {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrNotExport, MaxExportBytes>>20)
	}
	doc, exp, err := parseExport(data)
	if err != nil {
		return nil, err
	}
	v := &Verification{OK: true, Incident: exp.Incident, GeneratedAt: exp.GeneratedAt, HeadSeq: exp.Integrity.Chain.HeadSeq,
		HeadHash: exp.Integrity.Chain.HeadHash, Checks: []Check{}, Differences: []string{}}

	// The content as it is now, against the digests the file carries.
	content, err := contentDigest(doc)
	if err != nil {
		return nil, err
	}
	secs, err := sectionDigests(doc)
	if err != nil {
		return nil, err
	}
	contentOK := content == exp.Integrity.ContentSHA256
	if !contentOK {
		v.differ("the file's content digest is %s but its content hashes to %s: it was edited after export", exp.Integrity.ContentSHA256, content)
	}
	for _, name := range changedSections(exp.Integrity.Sections, secs) {
		v.differ("section %q does not match the digest the file records for it", name)
	}

	// One walk of the live chain.
	type ref struct {
		idx int
		e   TimelineEntry
	}
	refs := map[int64][]ref{}
	for i, e := range exp.Timeline {
		if e.AuditSeq > 0 {
			refs[e.AuditSeq] = append(refs[e.AuditSeq], ref{i, e})
		}
	}
	head := exp.Integrity.Chain
	var liveHead *store.AuditEvent
	var recorded []exportEvent
	var timelineDiffs []string
	matched := 0
	w := newChainWalker(exp.Incident, head.HeadSeq)
	w.onAny = func(ev *store.AuditEvent) {
		if ev.Seq == head.HeadSeq {
			c := *ev
			liveHead = &c
		}
		if ev.Kind == ExportEventKind && ev.Incident == exp.Incident {
			var d exportEvent
			if json.Unmarshal(ev.Data, &d) == nil && (d.ContentSHA256 == exp.Integrity.ContentSHA256 || d.HeadSeq == head.HeadSeq) {
				d.Seq, d.At = ev.Seq, ev.At
				recorded = append(recorded, d)
			}
		}
		for _, rf := range refs[ev.Seq] {
			if diffs := entryDiffs(rf.e, ev); len(diffs) > 0 {
				for _, d := range diffs {
					timelineDiffs = append(timelineDiffs, fmt.Sprintf("timeline entry %d (audit event %d): %s", rf.idx+1, ev.Seq, d))
				}
			} else {
				matched++
			}
		}
		delete(refs, ev.Seq)
	}
	if err := src.WalkAudit(ctx, w.add); err != nil {
		return nil, fmt.Errorf("verify export: %w", err)
	}
	live := w.chainState()

	if live.Verified {
		v.check("chain", true, "the live chain is intact: %d events, head %d %s", live.Events, live.HeadSeq, live.HeadHash)
	} else {
		v.check("chain", false, "the live chain is broken at %s", live.FirstBad)
		v.differ("the live chain is broken at %s", live.FirstBad)
	}

	switch {
	case head.HeadSeq == 0:
		v.check("head", live.Events >= 0, "the export was made from an empty chain")
	case liveHead == nil:
		v.check("head", false, "the live chain has %d events; the export's head is event %d", live.Events, head.HeadSeq)
		v.differ("event %d, the export's chain head, is not in the live chain (it has %d events): events were removed from its end, or this is another database", head.HeadSeq, live.Events)
	case liveHead.Hash != head.HeadHash:
		v.check("head", false, "event %d has hash %s in the live chain, %s in the export", head.HeadSeq, liveHead.Hash, head.HeadHash)
		v.differ("event %d's hash differs (export %s, live chain %s): the chain up to the export's head was rewritten, or this is another database", head.HeadSeq, head.HeadHash, liveHead.Hash)
	default:
		v.check("head", true, "event %d is in the live chain with the same hash; %s appended since", head.HeadSeq, plural(live.HeadSeq-head.HeadSeq, "event was", "events were"))
	}

	eventsOK := w.events == exp.Integrity.IncidentEvents && w.sum() == exp.Integrity.EventsDigest
	if eventsOK {
		v.check("events", true, "incident %q: %d events up to the head, digest %s", exp.Incident, w.events, w.sum())
	} else {
		v.check("events", false, "incident %q up to the head: live chain %d events (digest %s), export %d (digest %s)", exp.Incident, w.events, w.sum(),
			exp.Integrity.IncidentEvents, exp.Integrity.EventsDigest)
		if w.events != exp.Integrity.IncidentEvents {
			v.differ("the incident has %d events up to the head in the live chain, the export says %d", w.events, exp.Integrity.IncidentEvents)
		}
		if w.sum() != exp.Integrity.EventsDigest {
			v.differ("the digest of the incident's events differs: live chain %s, export %s", w.sum(), exp.Integrity.EventsDigest)
		}
	}
	for _, k := range unionKeys(w.kinds, exp.Integrity.EventsByKind) {
		if w.kinds[k] != exp.Integrity.EventsByKind[k] {
			v.differ("%s events: live chain %d, export %d", k, w.kinds[k], exp.Integrity.EventsByKind[k])
		}
	}

	missing := make([]int64, 0, len(refs))
	for seq := range refs {
		missing = append(missing, seq)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	for _, seq := range missing {
		for _, rf := range refs[seq] {
			timelineDiffs = append(timelineDiffs, fmt.Sprintf("timeline entry %d names audit event %d, which the live chain does not hold", rf.idx+1, seq))
		}
	}
	if len(timelineDiffs) == 0 {
		v.check("timeline", true, "%d timeline entries match their audit events", matched)
	} else {
		v.check("timeline", false, "%d timeline entries match their audit events, %d differences", matched, len(timelineDiffs))
		for i, d := range timelineDiffs {
			if i == maxListed {
				v.differ("… and %d more timeline differences", len(timelineDiffs)-maxListed)
				break
			}
			v.differ("%s", d)
		}
	}

	var rec *exportEvent
	for i := range recorded {
		if recorded[i].ContentSHA256 == exp.Integrity.ContentSHA256 {
			rec = &recorded[i]
			break
		}
	}
	switch {
	case rec != nil && contentOK:
		v.check("content", true, "content %s is what export event %d recorded (format %s, %s)", content, rec.Seq, rec.Format, rec.At.UTC().Format(time.RFC3339))
	case rec != nil:
		v.check("content", false, "export event %d recorded content %s; the file's content hashes to %s", rec.Seq, rec.ContentSHA256, content)
		for _, name := range changedSections(rec.Sections, secs) {
			v.differ("section %q differs from what export event %d recorded", name, rec.Seq)
		}
	case len(recorded) > 0:
		r0 := recorded[0]
		v.check("content", false, "no export event records content %s; export event %d at the same head recorded %s", exp.Integrity.ContentSHA256, r0.Seq, r0.ContentSHA256)
		for _, name := range changedSections(r0.Sections, secs) {
			v.differ("section %q differs from what export event %d recorded", name, r0.Seq)
		}
	default:
		v.check("content", false, "no export event in the live chain records content %s", exp.Integrity.ContentSHA256)
		v.differ("no export event records this export: it was not written by `tourniquet export` from this database, or its head was edited")
	}
	if !v.OK && len(v.Differences) == 0 {
		v.differ("see the failed checks")
	}
	return v, nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// exportEvent is the data of an export.created event.
type exportEvent struct {
	Format        string            `json:"format"`
	ContentSHA256 string            `json:"content_sha256"`
	Sections      map[string]string `json:"sections"`
	HeadSeq       int64             `json:"head_seq"`
	HeadHash      string            `json:"head_hash"`
	Seq           int64             `json:"-"`
	At            time.Time         `json:"-"`
}

func entryDiffs(e TimelineEntry, ev *store.AuditEvent) []string {
	var out []string
	if e.AuditHash != ev.Hash {
		out = append(out, fmt.Sprintf("hash: export says %s, chain says %s", e.AuditHash, ev.Hash))
	}
	if e.Kind != ev.Kind {
		out = append(out, fmt.Sprintf("kind: export says %q, chain says %q", e.Kind, ev.Kind))
	}
	if e.Subject != ev.Subject {
		out = append(out, fmt.Sprintf("subject: export says %q, chain says %q", e.Subject, ev.Subject))
	}
	if !e.At.Equal(ev.At) {
		out = append(out, fmt.Sprintf("time: export says %s, chain says %s", e.At.UTC().Format(time.RFC3339Nano), ev.At.UTC().Format(time.RFC3339Nano)))
	}
	return out
}

func changedSections(want, got map[string]string) []string {
	var out []string
	for _, k := range unionKeys(want, got) {
		w, okW := want[k]
		g, okG := got[k]
		switch {
		case okW && !okG:
			out = append(out, k+" (removed)")
		case !okW && okG:
			out = append(out, k+" (added)")
		case w != g:
			out = append(out, k)
		}
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return sortedKeys(seen)
}

// parseExport reads the document strictly (one object, no duplicate keys,
// bounded nesting: a parser that kept the first duplicate would show
// different content from one that kept the last) and decodes the members
// the check needs.
func parseExport(data []byte) (map[string]any, *Report, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := strictValue(dec, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotExport, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: data after the JSON document", ErrNotExport)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: not a JSON object", ErrNotExport)
	}
	if s, _ := doc["schema"].(string); s != Schema {
		return nil, nil, fmt.Errorf("%w: schema is %q", ErrNotExport, doc["schema"])
	}
	if _, ok := doc["integrity"].(map[string]any); !ok {
		return nil, nil, fmt.Errorf("%w: no integrity member", ErrNotExport)
	}
	// Only the members the check reads are decoded into the struct; the
	// digests cover everything, known or not.
	var exp Report
	var part struct {
		Incident    string          `json:"incident"`
		GeneratedAt time.Time       `json:"generated_at"`
		Timeline    []TimelineEntry `json:"timeline"`
		Integrity   Integrity       `json:"integrity"`
	}
	if err := json.Unmarshal(data, &part); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotExport, err)
	}
	exp.Incident, exp.GeneratedAt, exp.Timeline, exp.Integrity = part.Incident, part.GeneratedAt, part.Timeline, part.Integrity
	if exp.Incident == "" {
		return nil, nil, fmt.Errorf("%w: no incident", ErrNotExport)
	}
	return doc, &exp, nil
}

func strictValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				val, err := strictValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = val
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				val, err := strictValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}
