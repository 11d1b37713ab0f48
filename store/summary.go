package store

import (
	"context"
	"fmt"
)

// Summary is what the console's first screen shows: counts only, computed
// by SQLite, so that the first frame does not wait for 100k findings.
type Summary struct {
	Incident string
	Hosts    []HostSummary
	// Severity counts open (not gone) findings.
	Severity map[string]int
	// Exposure counts credentials by exposure; Rotation counts the exposed
	// ones by rotation status.
	Exposure map[string]int
	Rotation map[string]int
	// Waiting are runs paused for an approval or a manual step.
	Waiting     []WaitingRun
	RunsActive  int
	AuditEvents int64
}

// HostSummary is one target with its verdict and worst findings; a
// cluster's with its nodes.
type HostSummary struct {
	Host
	Critical, High, Other int
	Nodes                 []ClusterNode
}

// WaitingRun is a run paused at a step.
type WaitingRun struct {
	RunID, Playbook, Step, CredentialID string
}

// Summary computes the incident's summary.
func (s *Store) Summary(ctx context.Context, incident string) (Summary, error) {
	sum := Summary{Incident: incident, Severity: map[string]int{}, Exposure: map[string]int{}, Rotation: map[string]int{}}
	hosts, err := s.Hosts(ctx, incident)
	if err != nil {
		return sum, err
	}
	nodes, err := s.ClusterNodes(ctx, incident)
	if err != nil {
		return sum, err
	}
	counts := map[int64]*HostSummary{}
	for _, h := range hosts {
		sum.Hosts = append(sum.Hosts, HostSummary{Host: h, Nodes: nodes[h.ID]})
	}
	for i := range sum.Hosts {
		counts[sum.Hosts[i].ID] = &sum.Hosts[i]
	}
	rows, err := s.r.QueryContext(ctx, `SELECT f.host_id, f.severity, count(*) FROM findings f
		JOIN hosts h ON h.id = f.host_id JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ? AND f.gone = 0 GROUP BY f.host_id, f.severity`, incident)
	if err != nil {
		return sum, fmt.Errorf("summary: %w", err)
	}
	for rows.Next() {
		var hid int64
		var sev string
		var n int
		if err := rows.Scan(&hid, &sev, &n); err != nil {
			rows.Close()
			return sum, fmt.Errorf("summary: %w", err)
		}
		sum.Severity[sev] += n
		if h := counts[hid]; h != nil {
			switch sev {
			case "critical":
				h.Critical += n
			case "high":
				h.High += n
			default:
				h.Other += n
			}
		}
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT c.exposure, c.rotation, count(*) FROM credentials c
		JOIN hosts h ON h.id = c.host_id JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ? GROUP BY c.exposure, c.rotation`, incident)
	if err != nil {
		return sum, fmt.Errorf("summary: %w", err)
	}
	for rows.Next() {
		var exp, rot string
		var n int
		if err := rows.Scan(&exp, &rot, &n); err != nil {
			rows.Close()
			return sum, fmt.Errorf("summary: %w", err)
		}
		sum.Exposure[exp] += n
		if exp == Exposed {
			sum.Rotation[rot] += n
		}
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT r.id, r.playbook, COALESCE(r.credential_id, ''), r.state,
			COALESCE((SELECT name FROM playbook_steps st WHERE st.run_id = r.id AND st.state = 'awaiting_approval' ORDER BY idx LIMIT 1), '')
		FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id WHERE i.name = ? AND r.state IN ('awaiting_approval', 'running', 'paused')
		ORDER BY r.updated_at DESC`, incident)
	if err != nil {
		return sum, fmt.Errorf("summary: %w", err)
	}
	for rows.Next() {
		var w WaitingRun
		var state string
		if err := rows.Scan(&w.RunID, &w.Playbook, &w.CredentialID, &state, &w.Step); err != nil {
			rows.Close()
			return sum, fmt.Errorf("summary: %w", err)
		}
		if state == RunAwaitingApproval {
			sum.Waiting = append(sum.Waiting, w)
		} else {
			sum.RunsActive++
		}
	}
	rows.Close()
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM audit_log`).Scan(&sum.AuditEvents); err != nil {
		return sum, fmt.Errorf("summary: %w", err)
	}
	return sum, nil
}
