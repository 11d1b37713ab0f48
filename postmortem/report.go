// Package postmortem exports what happened in an incident, from the recorded
// state and the audit chain, never from memory: a Markdown draft of the
// post-mortem, the same content as JSON (tourniquet.postmortem/v1, see
// SCHEMA.md), a self-contained HTML page with the timeline drawn, and
// Timesketch JSONL. Every export carries the audit chain's head and counts,
// and VerifyExport checks an exported JSON against the live chain.
//
// Build assembles one Report; each format renders that Report (one file per
// format), so the four exports cannot disagree. No secret value ever reaches
// a Report: the store holds fingerprints and hints only, step results and
// request bodies are not exported, and the planted-secret test proves it.
package postmortem

import "time"

// Schema names the JSON document.
const Schema = "tourniquet.postmortem/v1"

// Report is the post-mortem's content. Its JSON form is the documented
// schema; field order is the reading order of the Markdown.
type Report struct {
	Schema      string    `json:"schema"`
	Incident    string    `json:"incident"`
	GeneratedAt time.Time `json:"generated_at"`
	Generator   string    `json:"generator"`
	Summary     Summary   `json:"summary"`
	Packs       []Pack    `json:"packs"`
	Targets     []Target  `json:"targets"`
	Findings    Findings  `json:"findings"`
	// Credentials is the ledger: every credential of the incident, the
	// exposed ones first.
	Credentials  []Credential    `json:"credentials"`
	Runs         []Run           `json:"runs"`
	Gateway      Gateway         `json:"gateway"`
	Timeline     []TimelineEntry `json:"timeline"`
	OpenItems    []OpenItem      `json:"open_items"`
	Observations Observations    `json:"observations"`
	// Prompts are what the tool cannot know: sections left for people.
	Prompts   []Prompt  `json:"prompts"`
	Integrity Integrity `json:"integrity"`
}

// Summary is the incident in numbers.
type Summary struct {
	// Verdict is the worst target verdict: compromised, was_compromised,
	// unknown or clean.
	Verdict         string         `json:"verdict"`
	Targets         int            `json:"targets"`
	TargetsByKind   map[string]int `json:"targets_by_kind"`
	AffectedTargets int            `json:"affected_targets"`
	OpenWindows     int            `json:"open_windows"`
	// WindowStart is the earliest window start of any target; WindowEnd the
	// latest end, nil while any window is open.
	WindowStart *time.Time `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	WindowOpen  bool       `json:"window_open"`
	Findings    int        `json:"findings"`
	// FindingsOpen counts findings a later scan still saw (not gone).
	FindingsOpen       int            `json:"findings_open"`
	FindingsBySeverity map[string]int `json:"findings_by_severity"`
	Credentials        int            `json:"credentials"`
	ByExposure         map[string]int `json:"credentials_by_exposure"`
	// ExposedByRotation counts exposed credentials by rotation status.
	ExposedByRotation map[string]int `json:"exposed_by_rotation"`
	Runs              int            `json:"runs"`
	RunsByState       map[string]int `json:"runs_by_state"`
	// FirstEvidence is the earliest dated evidence on any target.
	FirstEvidence *time.Time `json:"first_evidence"`
	// Detected is when the first finding was recorded (the first scan that
	// hit); nil when nothing was found.
	Detected *time.Time `json:"detected"`
	// LastRotation is when the last exposed credential's rotation finished;
	// Contained is true when every exposed credential is rotated and no
	// window is open.
	LastRotation *time.Time `json:"last_rotation"`
	Contained    bool       `json:"contained"`
}

// Pack is an IOC pack the incident's targets were scanned with.
type Pack struct {
	ID          string       `json:"id"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	WindowStart *time.Time   `json:"window_start,omitempty"`
	WindowEnd   *time.Time   `json:"window_end,omitempty"`
	BadVersions []BadVersion `json:"bad_versions"`
	References  []Reference  `json:"references"`
	// Known is false for a pack this build does not carry (a user's pack
	// file): only its ID is known.
	Known bool `json:"known"`
}

// BadVersion is a compromised release a pack names.
type BadVersion struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Trigger   string `json:"trigger,omitempty"`
}

// Reference is a public source.
type Reference struct {
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// Target is a scanned host, cluster, CI account or cloud account.
type Target struct {
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Root        string     `json:"root"`
	Verdict     string     `json:"verdict"`
	ScannedAt   *time.Time `json:"scanned_at"`
	WindowStart *time.Time `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	WindowOpen  bool       `json:"window_open"`
	WindowBasis []string   `json:"window_basis"`
	Packs       []string   `json:"packs"`
	// FindingsBySeverity counts the target's findings still present.
	FindingsBySeverity map[string]int `json:"findings_by_severity"`
	Credentials        int            `json:"credentials"`
	Exposed            int            `json:"exposed"`
	// Earliest is the target's earliest dated finding: the trigger as far
	// as the record tells.
	Earliest *FindingRef `json:"earliest,omitempty"`
}

// FindingRef points at one finding.
type FindingRef struct {
	ID         string     `json:"id"`
	Rule       string     `json:"rule"`
	Path       string     `json:"path"`
	Detail     string     `json:"detail"`
	ObservedAt *time.Time `json:"observed_at"`
}

// Findings are the IOC hits, counted by pack and severity.
type Findings struct {
	// ByPack maps pack -> severity -> count.
	ByPack map[string]map[string]int `json:"by_pack"`
	Items  []Finding                 `json:"items"`
}

// Finding is one IOC hit. Excerpts are not exported: they are file
// content, and a post-mortem needs the fact, not the bytes.
type Finding struct {
	ID         string     `json:"id"`
	Target     string     `json:"target"`
	TargetKind string     `json:"target_kind"`
	Pack       string     `json:"pack"`
	Rule       string     `json:"rule"`
	Severity   string     `json:"severity"`
	Path       string     `json:"path"`
	Detail     string     `json:"detail"`
	ObservedAt *time.Time `json:"observed_at"`
	SHA256     string     `json:"sha256,omitempty"`
	Confidence string     `json:"confidence,omitempty"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Gone       bool       `json:"gone"`
}

// Credential is one line of the ledger: fingerprint and hint, never the
// value.
type Credential struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Hint        string     `json:"hint"`
	Fingerprint string     `json:"fingerprint"`
	Target      string     `json:"target"`
	TargetKind  string     `json:"target_kind"`
	Path        string     `json:"path"`
	Owner       string     `json:"owner"`
	Exposure    string     `json:"exposure"`
	Reason      string     `json:"reason"`
	Rotation    string     `json:"rotation"`
	ModifiedAt  *time.Time `json:"modified_at"`
	FirstSeen   time.Time  `json:"first_seen"`
	// Window is the target's window the exposure was judged against.
	WindowStart *time.Time `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	WindowOpen  bool       `json:"window_open"`
	Misuse      Misuse     `json:"misuse"`
	// Runs are the playbook runs for this credential, oldest first.
	Runs []string `json:"runs"`
	// RotationRun is the run that rotated it (or the latest one).
	RotationRun string     `json:"rotation_run,omitempty"`
	RotatedAt   *time.Time `json:"rotated_at"`
	ApprovedBy  []string   `json:"approved_by"`
}

// Misuse is what the record says about use of an exposed credential.
type Misuse struct {
	// Status: "checked" (a run's evidence step looked), "found" (provider
	// evidence of use was recorded), "not_checked".
	Status string `json:"status"`
	// Summary is the evidence step's outcome in a few words.
	Summary  string   `json:"summary,omitempty"`
	Findings []string `json:"findings"`
}

// Run is one playbook run.
type Run struct {
	ID              string     `json:"id"`
	Playbook        string     `json:"playbook"`
	PlaybookVersion int        `json:"playbook_version"`
	CredentialID    string     `json:"credential_id"`
	CredentialHint  string     `json:"credential_hint"`
	State           string     `json:"state"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	Error           string     `json:"error,omitempty"`
	Steps           []Step     `json:"steps"`
}

// Step is one step of a run: its state and who approved it, not its data.
type Step struct {
	Index       int        `json:"index"`
	Name        string     `json:"name"`
	Title       string     `json:"title"`
	Kind        string     `json:"kind"`
	Destructive bool       `json:"destructive"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	ApprovedBy  string     `json:"approved_by,omitempty"`
	StartedAt   *time.Time `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Error       string     `json:"error,omitempty"`
}

// Gateway is the embedded gateway's part, from the audit chain.
type Gateway struct {
	Requests       int64           `json:"requests"`
	FailedRequests int64           `json:"failed_requests"`
	RequestBatches int             `json:"request_batches"`
	FirstRequest   *time.Time      `json:"first_request"`
	LastRequest    *time.Time      `json:"last_request"`
	Switches       []GatewayChange `json:"switches"`
	CanaryFailures []GatewayChange `json:"canary_failures"`
}

// GatewayChange is a route switch or a failed canary.
type GatewayChange struct {
	At      time.Time `json:"at"`
	Route   string    `json:"route"`
	NewKey  string    `json:"new_key,omitempty"`
	NewHint string    `json:"new_hint,omitempty"`
	OldKey  string    `json:"old_key,omitempty"`
	Error   string    `json:"error,omitempty"`
	Seq     int64     `json:"audit_seq"`
}

// TimelineEntry is one dated event. Source "evidence" entries come from
// what scans found (file times, history); "audit" entries are events of the
// chain, with their sequence number and hash so that VerifyExport can check
// each against the live chain.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Source  string    `json:"source"`
	Kind    string    `json:"kind"`
	Target  string    `json:"target,omitempty"`
	Subject string    `json:"subject,omitempty"`
	Message string    `json:"message"`
	// Key entries tell the story (Markdown and HTML show them); the others
	// are detail (JSON and Timesketch carry every entry).
	Key       bool   `json:"key"`
	AuditSeq  int64  `json:"audit_seq,omitempty"`
	AuditHash string `json:"audit_hash,omitempty"`
}

// OpenItem is something still to do, from the record.
type OpenItem struct {
	Kind    string `json:"kind"` // rotate, approve, manual_step, resume, failed_run, open_window, unknown_exposure
	Subject string `json:"subject"`
	Target  string `json:"target,omitempty"`
	Text    string `json:"text"`
	Command string `json:"command,omitempty"`
}

// Observations are facts for "what went well" and "what went badly",
// computed from the record; people add the judgement.
type Observations struct {
	Well  []string `json:"went_well"`
	Badly []string `json:"went_badly"`
}

// Prompt is a section the tool cannot write.
type Prompt struct {
	Section string `json:"section"`
	Prompt  string `json:"prompt"`
}

// Integrity ties the export to the audit chain.
type Integrity struct {
	// Chain is the whole log's state when the export was built.
	Chain Chain `json:"chain"`
	// IncidentEvents counts this incident's events up to the head, by kind.
	IncidentEvents int            `json:"incident_events"`
	EventsByKind   map[string]int `json:"events_by_kind"`
	// EventsDigest is "sha256:" + hex(sha256 of the incident's event hashes,
	// in sequence order, each followed by "\n").
	EventsDigest string `json:"events_digest"`
	// Sections holds "sha256:" + hex(sha256(canonical JSON)) of every other
	// top-level member of the report.
	Sections map[string]string `json:"sections"`
	// ContentSHA256 is "sha256:" + hex(sha256(canonical JSON of the whole
	// report with this member set to "")). The export's audit event
	// (export.created) records it, so an edited file no longer matches.
	ContentSHA256 string `json:"content_sha256"`
}

// Chain is the audit log's head.
type Chain struct {
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Events   int64  `json:"events"`
	Verified bool   `json:"verified"`
	// FirstBad names where the chain breaks, when it does.
	FirstBad string `json:"first_bad,omitempty"`
}
