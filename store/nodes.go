package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// ClusterNode is one node of a cluster target and the verdict the cluster's
// evidence gives it.
type ClusterNode struct {
	Name    string   `json:"name"`
	Verdict string   `json:"verdict"`
	Basis   []string `json:"basis"`
}

// ReplaceClusterNodes sets a cluster target's nodes to exactly nodes.
func (tx *Tx) ReplaceClusterNodes(ctx context.Context, hostID int64, nodes []ClusterNode) error {
	if _, err := tx.tx.ExecContext(ctx, "DELETE FROM cluster_nodes WHERE host_id = ?", hostID); err != nil {
		return fmt.Errorf("record cluster nodes: %w", err)
	}
	for _, n := range nodes {
		basis, err := json.Marshal(nonNil(n.Basis))
		if err != nil {
			return fmt.Errorf("record node %s: %w", n.Name, err)
		}
		verdict := n.Verdict
		if verdict == "" {
			verdict = VerdictUnknown
		}
		if _, err := tx.tx.ExecContext(ctx, "INSERT INTO cluster_nodes (host_id, name, verdict, basis) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			hostID, n.Name, verdict, string(basis)); err != nil {
			return fmt.Errorf("record node %s: %w", n.Name, err)
		}
	}
	return nil
}

// ClusterNodes lists the incident's cluster nodes by target row id, each
// cluster's nodes by name.
func (s *Store) ClusterNodes(ctx context.Context, incident string) (map[int64][]ClusterNode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT n.host_id, n.name, n.verdict, n.basis
		FROM cluster_nodes n JOIN hosts h ON h.id = n.host_id JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ? ORDER BY n.host_id, n.name`, incident)
	if err != nil {
		return nil, fmt.Errorf("list cluster nodes: %w", err)
	}
	defer rows.Close()
	out := map[int64][]ClusterNode{}
	for rows.Next() {
		var id int64
		var n ClusterNode
		var basis string
		if err := rows.Scan(&id, &n.Name, &n.Verdict, &basis); err != nil {
			return nil, fmt.Errorf("list cluster nodes: %w", err)
		}
		_ = json.Unmarshal([]byte(basis), &n.Basis)
		out[id] = append(out[id], n)
	}
	return out, rows.Err()
}
