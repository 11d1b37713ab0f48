// Package packs defines IOC packs: the data that describes one compromise
// (bad package versions, files and hashes, persistence, network and cluster
// indicators, CI refs, time windows), so that the next incident is a new pack
// rather than a new program. See README.md in this directory for the format.
package packs

import (
	"time"
)

// SchemaV1 is the only pack schema this build reads.
const SchemaV1 = "tourniquet.pack/v1"

// Pack is one compromise described as data.
type Pack struct {
	Schema      string      `yaml:"schema" json:"schema"`
	ID          string      `yaml:"id" json:"id"`
	Version     int         `yaml:"version" json:"version"`
	Title       string      `yaml:"title" json:"title"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`
	Related     []string    `yaml:"related,omitempty" json:"related,omitempty"`
	References  []Reference `yaml:"references,omitempty" json:"references,omitempty"`
	// Window is the pack's global window: no host window starts before it.
	Window Window `yaml:"window" json:"window"`
	// Windows are named, narrower windows that rules refer to by ID.
	Windows     []NamedWindow     `yaml:"windows,omitempty" json:"windows,omitempty"`
	Packages    []PackageRule     `yaml:"packages,omitempty" json:"packages,omitempty"`
	Files       []FileRule        `yaml:"files,omitempty" json:"files,omitempty"`
	Persistence []PersistenceRule `yaml:"persistence,omitempty" json:"persistence,omitempty"`
	Network     []NetworkRule     `yaml:"network,omitempty" json:"network,omitempty"`
	Strings     []StringRule      `yaml:"strings,omitempty" json:"strings,omitempty"`
	Kubernetes  []KubeRule        `yaml:"kubernetes,omitempty" json:"kubernetes,omitempty"`
	KubeAudit   []KubeAuditRule   `yaml:"kube_audit,omitempty" json:"kube_audit,omitempty"`
	CI          []CIRule          `yaml:"ci,omitempty" json:"ci,omitempty"`

	// Origin is where the pack came from: "builtin:<file>" or a file path.
	Origin string `yaml:"-" json:"origin"`
}

// Reference is a public source the pack was written from.
type Reference struct {
	Title string `yaml:"title" json:"title"`
	URL   string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Window is a time range; a nil End means still open.
type Window struct {
	Start time.Time  `yaml:"start" json:"start"`
	End   *time.Time `yaml:"end,omitempty" json:"end,omitempty"`
}

// NamedWindow is a window with its provenance.
type NamedWindow struct {
	ID         string     `yaml:"id" json:"id"`
	Start      time.Time  `yaml:"start" json:"start"`
	End        *time.Time `yaml:"end,omitempty" json:"end,omitempty"`
	Meaning    string     `yaml:"meaning,omitempty" json:"meaning,omitempty"`
	Source     string     `yaml:"source" json:"source"`
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	// Alternatives records other values sources give for the same bound.
	Alternatives []string `yaml:"alternatives,omitempty" json:"alternatives,omitempty"`
	Line         int      `yaml:"-" json:"-"`
}

// Confidence is how well a fact is established, carried from the research.
type Confidence string

const (
	Confirmed            Confidence = "confirmed"
	SingleSource         Confidence = "single_source"
	SingleSourceLowTrust Confidence = "single_source_low_trust"
	Inferred             Confidence = "inferred"
	Conflicting          Confidence = "conflicting"
)

// Valid reports whether c is a known confidence level.
func (c Confidence) Valid() bool {
	switch c {
	case Confirmed, SingleSource, SingleSourceLowTrust, Inferred, Conflicting:
		return true
	}
	return false
}

// Severity of a finding a rule produces.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Rank orders severities: critical is 5, info 1, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Info:
		return 1
	}
	return 0
}

// Meta is what every rule carries: identity, provenance and weight.
type Meta struct {
	ID         string     `yaml:"id" json:"id"`
	Title      string     `yaml:"title" json:"title"`
	Severity   Severity   `yaml:"severity" json:"severity"`
	Source     string     `yaml:"source" json:"source"`
	Confidence Confidence `yaml:"confidence" json:"confidence"`
	Note       string     `yaml:"note,omitempty" json:"note,omitempty"`
	// Window names one of the pack's Windows this rule is bound to.
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
	Line   int    `yaml:"-" json:"-"`
}

// PackageRule names bad versions of a package in an ecosystem.
type PackageRule struct {
	Meta      `yaml:",inline"`
	Ecosystem string   `yaml:"ecosystem" json:"ecosystem"` // pypi, npm, ...
	Name      string   `yaml:"name" json:"name"`
	Versions  []string `yaml:"versions" json:"versions"`
	// Triggers says how each bad version runs its payload, for the reader.
	Triggers map[string]string `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	// LastClean and FirstClean bracket the bad versions.
	LastClean  string `yaml:"last_clean,omitempty" json:"last_clean,omitempty"`
	FirstClean string `yaml:"first_clean,omitempty" json:"first_clean,omitempty"`
	// VerifiedSafeSHA256 maps a version to a published known-good artefact hash.
	VerifiedSafeSHA256 map[string]string `yaml:"verified_safe_sha256,omitempty" json:"verified_safe_sha256,omitempty"`
}

// FileRole says what part a file plays in the compromise.
type FileRole string

const (
	RoleTrigger  FileRole = "trigger"  // runs the payload (a .pth)
	RolePayload  FileRole = "payload"  // carries it (an infected module)
	RoleArtefact FileRole = "artefact" // can install it (wheel, sdist)
	RoleBackdoor FileRole = "backdoor" // dropped later stage
	RoleStaging  FileRole = "staging"  // exfiltration leftovers
	RoleState    FileRole = "state"    // backdoor bookkeeping
)

// Valid reports whether r is a known role.
func (r FileRole) Valid() bool {
	switch r {
	case RoleTrigger, RolePayload, RoleArtefact, RoleBackdoor, RoleStaging, RoleState:
		return true
	}
	return false
}

// Executable reports whether a file in this role, while present, keeps a host
// compromised (it can run again).
func (r FileRole) Executable() bool {
	return r == RoleTrigger || r == RolePayload || r == RoleBackdoor
}

// FileRule matches files by name, path pattern, content hash or markers.
//
// Path patterns: "~/" is every home directory and /root; "<site-packages>/" is
// every site-packages or dist-packages directory of every Python environment;
// other paths are absolute inside the scanned root. "*" globs within one path
// element.
type FileRule struct {
	Meta    `yaml:",inline"`
	Role    FileRole `yaml:"role" json:"role"`
	Names   []string `yaml:"names,omitempty" json:"names,omitempty"`
	Paths   []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	SHA256  []string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	Size    int64    `yaml:"size,omitempty" json:"size,omitempty"`
	Markers []string `yaml:"markers,omitempty" json:"markers,omitempty"`
}

// PersistenceRule matches persistence artefacts: paths that must not exist,
// and unit/cron/rc text markers found wherever such files live.
type PersistenceRule struct {
	Meta  `yaml:",inline"`
	Kind  string   `yaml:"kind" json:"kind"` // systemd-user, systemd-system, cron, shell-rc, file
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	// Markers are text found in the unit (or cron line, rc file); a file of
	// Kind anywhere on the host that holds MinMarkers of them matches.
	Markers    []string `yaml:"markers,omitempty" json:"markers,omitempty"`
	MinMarkers int      `yaml:"min_markers,omitempty" json:"min_markers,omitempty"`
}

// NetworkRule is a network indicator searched for in history, configs and logs.
type NetworkRule struct {
	Meta   `yaml:",inline"`
	Type   string   `yaml:"type" json:"type"` // domain, ip, url, header, user_agent
	Values []string `yaml:"values" json:"values"`
}

// StringRule is a content marker (a YARA-like string) for files in Scope.
type StringRule struct {
	Meta   `yaml:",inline"`
	Scope  string   `yaml:"scope" json:"scope"` // pth, python, any
	Values []string `yaml:"values" json:"values"`
	// MinValues of Values must occur together (default 1).
	MinValues int `yaml:"min_values,omitempty" json:"min_values,omitempty"`
}

// KubeRule matches a Kubernetes object's shape. Every condition given must hold.
type KubeRule struct {
	Meta          `yaml:",inline"`
	Kind          string   `yaml:"kind" json:"kind"` // Pod, DaemonSet, Event
	Namespace     string   `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	NamePatterns  []string `yaml:"name_patterns,omitempty" json:"name_patterns,omitempty"`
	Images        []string `yaml:"images,omitempty" json:"images,omitempty"`
	Containers    []string `yaml:"containers,omitempty" json:"containers,omitempty"`
	Privileged    *bool    `yaml:"privileged,omitempty" json:"privileged,omitempty"`
	HostPID       *bool    `yaml:"host_pid,omitempty" json:"host_pid,omitempty"`
	HostNetwork   *bool    `yaml:"host_network,omitempty" json:"host_network,omitempty"`
	HostPaths     []string `yaml:"host_paths,omitempty" json:"host_paths,omitempty"`
	TolerateAll   *bool    `yaml:"tolerate_all,omitempty" json:"tolerate_all,omitempty"`
	RestartPolicy string   `yaml:"restart_policy,omitempty" json:"restart_policy,omitempty"`
	// MessagePatterns match Event messages that still name deleted objects.
	MessagePatterns []string `yaml:"message_patterns,omitempty" json:"message_patterns,omitempty"`
}

// KubeAuditRule matches API server audit log entries.
type KubeAuditRule struct {
	Meta              `yaml:",inline"`
	Verbs             []string `yaml:"verbs" json:"verbs"`
	Resource          string   `yaml:"resource" json:"resource"`
	Namespace         string   `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	ClusterWide       bool     `yaml:"cluster_wide,omitempty" json:"cluster_wide,omitempty"`
	UserPrefixes      []string `yaml:"user_prefixes,omitempty" json:"user_prefixes,omitempty"`
	UserAgentPrefixes []string `yaml:"user_agent_prefixes,omitempty" json:"user_agent_prefixes,omitempty"`
}

// VersionRange is an inclusive range of tags Prefix+From .. Prefix+To.
type VersionRange struct {
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to" json:"to"`
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}

// CIRule matches uses of a CI action (uses: owner/repo@ref).
type CIRule struct {
	Meta   `yaml:",inline"`
	Action string `yaml:"action" json:"action"` // owner/repo
	// Refs are exact bad refs; Ranges are bad tag ranges; AnyTag makes every
	// tag-like ref bad; Unpinned are branch refs that followed the attack.
	Refs     []string       `yaml:"refs,omitempty" json:"refs,omitempty"`
	Ranges   []VersionRange `yaml:"ranges,omitempty" json:"ranges,omitempty"`
	AnyTag   bool           `yaml:"any_tag,omitempty" json:"any_tag,omitempty"`
	Unpinned []string       `yaml:"unpinned,omitempty" json:"unpinned,omitempty"`
	// BadSHAs are known malicious commits (full 40-hex), with the tag they
	// were pushed to where known (empty string otherwise).
	BadSHAs map[string]string `yaml:"bad_shas,omitempty" json:"bad_shas,omitempty"`
	// SafeRefs are refs (tags or full or abbreviated SHAs) known good.
	SafeRefs []string `yaml:"safe_refs,omitempty" json:"safe_refs,omitempty"`
}
