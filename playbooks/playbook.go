// Package playbooks runs resumable rotation playbooks: ordered, named,
// idempotent steps whose every state change is recorded in SQLite (intent
// before acting, result after) and audited, so that a crash, a Ctrl-C or a
// provider outage is resumed, never repeated blindly.
package playbooks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SchemaV1 is the playbook file schema.
const SchemaV1 = "tourniquet.playbook/v1"

// Step types.
const (
	StepAction = "action" // calls a registered action
	StepVerify = "verify" // calls a registered action that proves the new credential works
	StepManual = "manual" // a human acts, then confirms (TUI, --yes or --confirm STEP)
	StepWait   = "wait"   // waits Wait before going on (propagation, cache expiry)
)

// Playbook is one credential kind's rotation, as data.
type Playbook struct {
	Schema string `yaml:"schema" json:"-"`
	ID     string `yaml:"id" json:"id"`
	// Kinds are the credential kinds this playbook rotates; the first is its
	// main kind.
	Kinds       []string `yaml:"kinds" json:"kinds"`
	Version     int      `yaml:"version" json:"version"`
	Title       string   `yaml:"title" json:"title"`
	Description string   `yaml:"description" json:"description"`
	// Automation is full (no human step), partial or manual.
	Automation string `yaml:"automation" json:"automation"`
	// Limits says plainly what the provider does not let us automate.
	Limits []string  `yaml:"limits,omitempty" json:"limits,omitempty"`
	Steps  []StepDef `yaml:"steps" json:"steps"`
}

// StepDef is one step of a playbook.
type StepDef struct {
	ID          string        `yaml:"id" json:"id"`
	Type        string        `yaml:"type" json:"type"`
	Action      string        `yaml:"action,omitempty" json:"action,omitempty"`
	Title       string        `yaml:"title" json:"title"`
	Description string        `yaml:"description,omitempty" json:"description,omitempty"`
	Destructive bool          `yaml:"destructive,omitempty" json:"destructive,omitempty"`
	Wait        time.Duration `yaml:"wait,omitempty" json:"wait,omitempty"`
	// Instructions tell the operator what to do in a manual step.
	Instructions string `yaml:"instructions,omitempty" json:"instructions,omitempty"`
	// Optional steps are skipped unless a run parameter enables them.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
	// Secret names an operator-supplied secret the step reads ("new_secret",
	// given with --secret-from or the console's hidden prompt);
	// SecretRequired says the run cannot go on without it.
	Secret         string `yaml:"secret,omitempty" json:"secret,omitempty"`
	SecretPrompt   string `yaml:"secret_prompt,omitempty" json:"secret_prompt,omitempty"`
	SecretRequired bool   `yaml:"secret_required,omitempty" json:"secret_required,omitempty"`
}

// NeedsSecret returns the first step that reads an operator-supplied secret.
func (p *Playbook) NeedsSecret() (StepDef, bool) {
	for _, s := range p.Steps {
		if s.Secret != "" {
			return s, true
		}
	}
	return StepDef{}, false
}

//go:embed builtin/*.yaml
var builtinFS embed.FS

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,63}$`)

// Builtin returns the embedded playbooks, sorted by ID.
func Builtin() ([]*Playbook, error) {
	ents, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil, fmt.Errorf("read builtin playbooks: %w", err)
	}
	var out []*Playbook
	for _, e := range ents {
		b, err := builtinFS.ReadFile("builtin/" + e.Name())
		if err != nil {
			return nil, err
		}
		p, err := Parse("builtin:"+e.Name(), b)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Find returns the built-in playbook with this ID.
func Find(id string) (*Playbook, error) {
	all, err := Builtin()
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.ID == id {
			return p, nil
		}
	}
	var ids []string
	for _, p := range all {
		ids = append(ids, p.ID)
	}
	return nil, fmt.Errorf("no playbook %q (have: %s)", id, strings.Join(ids, ", "))
}

// ForKind returns the built-in playbooks that rotate a credential kind.
func ForKind(kind string) ([]*Playbook, error) {
	all, err := Builtin()
	if err != nil {
		return nil, err
	}
	var out []*Playbook
	for _, p := range all {
		if p.Rotates(kind) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Kind is the playbook's main credential kind.
func (p *Playbook) Kind() string {
	if len(p.Kinds) == 0 {
		return ""
	}
	return p.Kinds[0]
}

// Rotates reports whether the playbook handles a credential kind.
func (p *Playbook) Rotates(kind string) bool {
	for _, k := range p.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Parse decodes and validates a playbook; unknown keys are errors.
func Parse(name string, data []byte) (*Playbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Playbook
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty playbook", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if p.Schema != SchemaV1 {
		bad("schema must be %q", SchemaV1)
	}
	if !idRE.MatchString(p.ID) {
		bad("id %q is not a valid identifier", p.ID)
	}
	if len(p.Kinds) == 0 || p.Title == "" || p.Version < 1 {
		bad("kinds, title and a positive version are required")
	}
	switch p.Automation {
	case "full", "partial", "manual":
	default:
		bad("automation must be full, partial or manual")
	}
	if len(p.Steps) == 0 {
		bad("a playbook needs steps")
	}
	seen := map[string]bool{}
	manual := false
	for i, s := range p.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, s.ID)
		if !idRE.MatchString(s.ID) || seen[s.ID] {
			bad("%s: id must be unique and lower-case", where)
		}
		seen[s.ID] = true
		if s.Title == "" {
			bad("%s: title is required", where)
		}
		switch s.Type {
		case StepAction, StepVerify:
			if s.Action == "" {
				bad("%s: %s steps name an action", where, s.Type)
			}
		case StepManual:
			manual = true
			if s.Instructions == "" {
				bad("%s: manual steps need instructions", where)
			}
		case StepWait:
			if s.Wait <= 0 {
				bad("%s: wait steps need a positive wait", where)
			}
		default:
			bad("%s: type must be action, verify, manual or wait", where)
		}
	}
	if p.Automation == "full" && manual {
		bad("automation is full but the playbook has manual steps")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(errs, "; "))
	}
	return &p, nil
}
