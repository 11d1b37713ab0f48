// Package collectors holds what every evidence collector produces: findings
// and credentials, in the shape `scan --json` prints (tourniquet.scan/v1) and
// `import` reads back. The collectors themselves live in sub-packages.
package collectors

import "time"

// ScanSchema names the JSON document a scan prints.
const ScanSchema = "tourniquet.scan/v1"

// Result is one scan of one target.
type Result struct {
	Schema      string       `json:"schema"`
	Host        HostInfo     `json:"host"`
	Packs       []string     `json:"packs"`
	Window      Window       `json:"window"`
	Verdict     string       `json:"verdict"`
	Findings    []Finding    `json:"findings"`
	Credentials []Credential `json:"credentials"`
	Stats       Stats        `json:"stats"`
	Errors      []string     `json:"errors,omitempty"`
	// Nodes are a cluster target's nodes (kind "cluster" only).
	Nodes []Node `json:"nodes,omitempty"`
}

// Node is one node of a cluster, with the verdict the cluster's evidence
// gives it. The node's own files are read by a host scan of the node (the
// node DaemonSet), recorded as a host of the same name.
type Node struct {
	Name    string   `json:"name"`
	Verdict string   `json:"verdict"`
	Basis   []string `json:"basis"`
}

// HostInfo names the target.
type HostInfo struct {
	// Kind is "host" (or empty), "ci" (github:ORG) or "cluster".
	Kind      string    `json:"kind,omitempty"`
	Name      string    `json:"name"`
	Root      string    `json:"root"`
	ScannedAt time.Time `json:"scanned_at"`
}

// Window is the host's compromised window. Start nil means no evidence of
// compromise; Open means an executable artefact remains.
type Window struct {
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
	Open  bool       `json:"open"`
	Basis []string   `json:"basis"`
}

// Finding is one IOC hit.
type Finding struct {
	ID         string     `json:"id"`
	Pack       string     `json:"pack"`
	Rule       string     `json:"rule"`
	Severity   string     `json:"severity"`
	Path       string     `json:"path"`
	Detail     string     `json:"detail"`
	ObservedAt *time.Time `json:"observed_at"`
	SHA256     string     `json:"sha256,omitempty"`
	Excerpt    string     `json:"excerpt,omitempty"`
	Confidence string     `json:"confidence,omitempty"`
}

// Credential is a secret found on the target, as fingerprint and hint only.
type Credential struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Path        string     `json:"path"`
	Fingerprint string     `json:"fingerprint"`
	Hint        string     `json:"hint"`
	ModifiedAt  *time.Time `json:"modified_at"`
	Exposure    string     `json:"exposure"`
	Reason      string     `json:"reason"`
	Owner       string     `json:"owner,omitempty"`
	Detail      string     `json:"detail,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// Stats describe the work done, for progress and for the record.
type Stats struct {
	Files        int64 `json:"files"`
	Dirs         int64 `json:"dirs"`
	FilesRead    int64 `json:"files_read"`
	BytesRead    int64 `json:"bytes_read"`
	Environments int   `json:"environments"`
	Skipped      int64 `json:"skipped"`
	DurationMS   int64 `json:"duration_ms"`
}
