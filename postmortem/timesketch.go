package postmortem

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Timesketch's JSONL import wants, per line, a JSON object with "message",
// "datetime" (ISO 8601) and "timestamp_desc"; every other member is an
// attribute. "timestamp" (microseconds since the epoch) is given as well.

// tsDatetime is ISO 8601 with microseconds and a numeric offset, the shape
// Timesketch's documentation uses.
const tsDatetime = "2006-01-02T15:04:05.000000-07:00"

var timestampDesc = map[string]string{
	"window.start":       "Window Start",
	"window.end":         "Window End",
	"finding.observed":   "Evidence Time",
	"credential.written": "Content Modification Time",
}

// WriteTimesketch writes one line per timeline entry (every entry, key or
// detail), preceded by a line describing the export itself with the audit
// chain's head and counts. Strings are shown as in the other human formats
// (control and bidi characters made visible): Timesketch displays them.
func WriteTimesketch(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	findings := make(map[string]*Finding, len(rep.Findings.Items))
	for i := range rep.Findings.Items {
		findings[rep.Findings.Items[i].ID] = &rep.Findings.Items[i]
	}
	creds := make(map[string]*Credential, len(rep.Credentials))
	for i := range rep.Credentials {
		creds[rep.Credentials[i].ID] = &rep.Credentials[i]
	}
	runs := make(map[string]*Run, len(rep.Runs))
	for i := range rep.Runs {
		runs[rep.Runs[i].ID] = &rep.Runs[i]
	}
	in := rep.Integrity
	head := map[string]any{
		"message": fmt.Sprintf("Tourniquet post-mortem export of incident %s: audit chain head event %d (%s), %d events, %s; %d events of this incident, digest %s",
			display(rep.Incident), in.Chain.HeadSeq, in.Chain.HeadHash, in.Chain.Events, verifiedWord(in.Chain.Verified), in.IncidentEvents, in.EventsDigest),
		"datetime":              rep.GeneratedAt.UTC().Format(tsDatetime),
		"timestamp":             rep.GeneratedAt.UnixMicro(),
		"timestamp_desc":        "Export Time",
		"data_type":             "tourniquet:export",
		"incident":              display(rep.Incident),
		"schema":                Schema,
		"chain_head_seq":        in.Chain.HeadSeq,
		"chain_head_hash":       in.Chain.HeadHash,
		"chain_events":          in.Chain.Events,
		"chain_verified":        in.Chain.Verified,
		"incident_events":       in.IncidentEvents,
		"events_digest":         in.EventsDigest,
		"report_content_sha256": in.ContentSHA256,
		"tag":                   []string{"tourniquet", "export"},
	}
	if err := enc.Encode(head); err != nil {
		return fmt.Errorf("timesketch: %w", err)
	}
	for _, e := range rep.Timeline {
		desc := timestampDesc[e.Kind]
		if e.Source == "audit" {
			desc = "Recorded Time"
		}
		tags := []string{"tourniquet", e.Source}
		if e.Key {
			tags = append(tags, "key")
		}
		line := map[string]any{
			"message":         display(e.Message),
			"datetime":        e.At.UTC().Format(tsDatetime),
			"timestamp":       e.At.UnixMicro(),
			"timestamp_desc":  desc,
			"data_type":       "tourniquet:" + e.Source + ":" + e.Kind,
			"incident":        display(rep.Incident),
			"event_kind":      e.Kind,
			"source":          e.Source,
			"key_event":       e.Key,
			"chain_head_hash": in.Chain.HeadHash,
			"tag":             tags,
		}
		if e.Target != "" {
			line["target"] = display(e.Target)
		}
		if e.Subject != "" {
			line["subject"] = display(e.Subject)
		}
		if e.AuditSeq > 0 {
			line["audit_seq"], line["audit_hash"] = e.AuditSeq, e.AuditHash
		}
		if f := findings[e.Subject]; f != nil && e.Kind == "finding.observed" {
			line["pack"], line["rule"], line["severity"], line["path"] = display(f.Pack), display(f.Rule), f.Severity, display(f.Path)
			if f.SHA256 != "" {
				line["sha256"] = f.SHA256
			}
			if f.Confidence != "" {
				line["confidence"] = display(f.Confidence)
			}
		}
		if c := creds[e.Subject]; c != nil {
			credAttrs(line, c)
		}
		runID, _, _ := strings.Cut(e.Subject, "/")
		if r := runs[runID]; r != nil {
			line["run_id"], line["playbook"] = display(r.ID), display(r.Playbook)
			if c := creds[r.CredentialID]; c != nil {
				credAttrs(line, c)
			}
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("timesketch: %w", err)
		}
	}
	return bw.Flush()
}

func credAttrs(line map[string]any, c *Credential) {
	line["credential_id"], line["credential_kind"], line["credential_hint"] = display(c.ID), display(c.Kind), display(c.Hint)
	line["credential_fingerprint"], line["exposure"], line["rotation"] = c.Fingerprint, c.Exposure, c.Rotation
	if _, ok := line["path"]; !ok {
		line["path"] = display(c.Path)
	}
}
