package store

import (
	"context"

	"github.com/tourniquet-ir/tourniquet/collectors"
)

// RecordScan writes one scan into the incident, with its audit events, in
// one transaction: a scan is recorded whole or not at all, and a re-scan
// updates rather than duplicates.
func (s *Store) RecordScan(ctx context.Context, incident string, res *collectors.Result) error {
	return s.Update(ctx, func(tx *Tx) error {
		inc, err := tx.EnsureIncident(ctx, incident)
		if err != nil {
			return err
		}
		return tx.recordScan(ctx, incident, inc, res, nil)
	})
}

// recordScan writes the scan's target, findings, credentials and nodes,
// and the scan.finished event (with extra's fields).
func (tx *Tx) recordScan(ctx context.Context, incident string, inc int64, res *collectors.Result, extra map[string]any) error {
	scanned := res.Host.ScannedAt
	kind := res.Host.Kind
	if kind == "" {
		kind = "host"
	}
	hostID, err := tx.UpsertHost(ctx, inc, Host{
		Kind: kind, Name: res.Host.Name, Root: res.Host.Root, ScannedAt: &scanned,
		WindowStart: res.Window.Start, WindowEnd: res.Window.End, WindowOpen: res.Window.Open,
		WindowBasis: res.Window.Basis, Verdict: res.Verdict, Packs: res.Packs,
	})
	if err != nil {
		return err
	}
	if kind == "cluster" {
		nodes := make([]ClusterNode, 0, len(res.Nodes))
		for _, n := range res.Nodes {
			nodes = append(nodes, ClusterNode{Name: n.Name, Verdict: n.Verdict, Basis: n.Basis})
		}
		if err := tx.ReplaceClusterNodes(ctx, hostID, nodes); err != nil {
			return err
		}
	}
	var ids []string
	newFindings, newCreds := 0, 0
	for _, f := range res.Findings {
		ids = append(ids, f.ID)
		isNew, err := tx.UpsertFinding(ctx, hostID, Finding{
			ID: f.ID, Pack: f.Pack, Rule: f.Rule, Severity: f.Severity, Path: f.Path, Detail: f.Detail,
			ObservedAt: f.ObservedAt, SHA256: f.SHA256, Excerpt: f.Excerpt, Confidence: f.Confidence,
		})
		if err != nil {
			return err
		}
		if isNew {
			newFindings++
			if _, err := tx.Audit(ctx, incident, "finding.recorded", f.ID, map[string]any{
				"host": res.Host.Name, "pack": f.Pack, "rule": f.Rule, "severity": f.Severity, "path": f.Path, "sha256": f.SHA256,
			}); err != nil {
				return err
			}
		}
	}
	gone, err := tx.MarkFindingsGone(ctx, hostID, ids)
	if err != nil {
		return err
	}
	for _, c := range res.Credentials {
		isNew, err := tx.UpsertCredential(ctx, hostID, Credential{
			ID: c.ID, Kind: c.Kind, Path: c.Path, Fingerprint: c.Fingerprint, Hint: c.Hint, ModifiedAt: c.ModifiedAt,
			Owner: c.Owner, Exposure: c.Exposure, Reason: c.Reason, Detail: c.Detail, Note: c.Note,
		})
		if err != nil {
			return err
		}
		if isNew {
			newCreds++
			if _, err := tx.Audit(ctx, incident, "credential.recorded", c.ID, map[string]any{
				"host": res.Host.Name, "kind": c.Kind, "path": c.Path, "fingerprint": c.Fingerprint, "hint": c.Hint, "exposure": c.Exposure,
			}); err != nil {
				return err
			}
		}
	}
	data := map[string]any{
		"root": res.Host.Root, "packs": res.Packs, "verdict": res.Verdict, "window": res.Window,
		"findings": len(res.Findings), "new_findings": newFindings, "findings_gone": gone,
		"credentials": len(res.Credentials), "new_credentials": newCreds, "stats": res.Stats,
	}
	for k, v := range extra {
		data[k] = v
	}
	_, err = tx.Audit(ctx, incident, "scan.finished", res.Host.Name, data)
	return err
}
