package packs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxPackSize bounds a pack file: packs are data written by people, and a
// larger file is a mistake or an attack on the parser.
const MaxPackSize = 4 << 20

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Error is a pack problem at a place in a file.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one pack, in file order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Builtin returns the packs compiled into the binary, sorted by ID.
func Builtin() ([]*Pack, error) {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil, fmt.Errorf("read builtin packs: %w", err)
	}
	var out []*Pack
	for _, e := range entries {
		b, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read builtin pack %s: %w", e.Name(), err)
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

// LoadFile reads and validates a user pack. It refuses non-regular files and
// anything larger than MaxPackSize.
func LoadFile(name string) (*Pack, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open pack: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat pack %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{File: name, Msg: "not a regular file"}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPackSize+1))
	if err != nil {
		return nil, fmt.Errorf("read pack %s: %w", name, err)
	}
	return Parse(name, b)
}

// Resolve turns --pack arguments (a built-in ID or a file path) into packs.
// With no arguments it returns every built-in pack.
func Resolve(refs []string) ([]*Pack, error) {
	builtin, err := Builtin()
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return builtin, nil
	}
	byID := make(map[string]*Pack, len(builtin))
	for _, p := range builtin {
		byID[p.ID] = p
	}
	var out []*Pack
	seen := map[string]string{}
	for _, ref := range refs {
		p, ok := byID[ref]
		if !ok {
			if _, statErr := os.Stat(ref); statErr != nil && !strings.ContainsAny(ref, "/.") {
				return nil, fmt.Errorf("unknown pack %q: not a built-in pack ID (see `tourniquet packs list`) and no such file", ref)
			}
			p, err = LoadFile(ref)
			if err != nil {
				return nil, err
			}
		}
		if prev, dup := seen[p.ID]; dup {
			if prev == p.Origin {
				continue
			}
			return nil, fmt.Errorf("pack ID %q given twice (%s and %s)", p.ID, prev, p.Origin)
		}
		seen[p.ID] = p.Origin
		out = append(out, p)
	}
	return out, nil
}

// Parse decodes and validates one pack. file names the source in errors.
// It never panics on any input.
func Parse(file string, data []byte) (p *Pack, err error) {
	if len(data) > MaxPackSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes", MaxPackSize)}
	}
	defer func() {
		// The YAML library has panicked on hostile input in the past; a bad
		// pack must be an error, never a crash.
		if r := recover(); r != nil {
			p, err = nil, &Error{File: file, Msg: fmt.Sprintf("malformed YAML: %v", r)}
		}
	}()

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty pack"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; a pack file holds exactly one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if err := checkAliases(file, &root); err != nil {
		return nil, err
	}

	// Unknown keys and semantic problems are reported together, so that an
	// author fixes a pack in one round: the strict pass only collects the
	// unknown-key errors, the lenient pass fills the struct.
	var unknown Errors
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if n := badTime(&root); n != nil {
		return nil, &Error{File: file, Line: n.Line, Msg: fmt.Sprintf("%q is not an RFC 3339 time (like 2026-03-24T10:39:24Z)", n.Value)}
	}
	if err := strict.Decode(&Pack{}); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, yamlError(file, err)
		}
		for _, msg := range te.Errors {
			if e := lineError(file, msg); strings.HasPrefix(e.Msg, "unknown key") {
				unknown = append(unknown, e)
			}
		}
	}
	p = &Pack{}
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(p); err != nil {
		return nil, yamlError(file, err)
	}
	p.Origin = file
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	setLines(p, doc)
	if errs := append(unknown, validate(file, p, doc)...); len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return p, nil
}

// badTime finds the first start/end value that is not an RFC 3339 time: the
// YAML library reports those errors without a line.
func badTime(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if (k.Value == "start" || k.Value == "end") && v.Kind == yaml.ScalarNode {
				if _, err := time.Parse(time.RFC3339, v.Value); err != nil {
					return v
				}
			}
		}
	}
	for _, c := range n.Content {
		if b := badTime(c); b != nil {
			return b
		}
	}
	return nil
}

// checkAliases refuses YAML aliases: packs have no need for them and they are
// the way to make a tiny file expand without bound.
func checkAliases(file string, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return &Error{File: file, Line: n.Line, Msg: "YAML aliases are not allowed in packs"}
	}
	for _, c := range n.Content {
		if err := checkAliases(file, c); err != nil {
			return err
		}
	}
	return nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
var notFoundRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

// yamlError turns the YAML library's errors into file:line errors.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var out Errors
		for _, msg := range te.Errors {
			out = append(out, lineError(file, msg))
		}
		if len(out) > 0 {
			return out
		}
	}
	return lineError(file, err.Error())
}

func lineError(file, msg string) *Error {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if nf := notFoundRE.FindStringSubmatch(text); nf != nil {
		text = fmt.Sprintf("unknown key %q", nf[1])
	}
	return &Error{File: file, Line: line, Msg: text}
}

// child returns the value node under key in a mapping node.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// setLines records each rule's line so that later messages (and `packs show`)
// can point into the file.
func setLines(p *Pack, doc *yaml.Node) {
	for i := range p.Windows {
		p.Windows[i].Line = lineOf(item(child(doc, "windows"), i))
	}
	for _, r := range p.rules() {
		r.meta.Line = lineOf(item(child(doc, r.section), r.index))
	}
}

type ruleRef struct {
	section string
	index   int
	meta    *Meta
}

// rules lists every rule's Meta with its section, in file order per section.
func (p *Pack) rules() []ruleRef {
	var out []ruleRef
	for i := range p.Packages {
		out = append(out, ruleRef{"packages", i, &p.Packages[i].Meta})
	}
	for i := range p.Files {
		out = append(out, ruleRef{"files", i, &p.Files[i].Meta})
	}
	for i := range p.Persistence {
		out = append(out, ruleRef{"persistence", i, &p.Persistence[i].Meta})
	}
	for i := range p.Network {
		out = append(out, ruleRef{"network", i, &p.Network[i].Meta})
	}
	for i := range p.Strings {
		out = append(out, ruleRef{"strings", i, &p.Strings[i].Meta})
	}
	for i := range p.Kubernetes {
		out = append(out, ruleRef{"kubernetes", i, &p.Kubernetes[i].Meta})
	}
	for i := range p.KubeAudit {
		out = append(out, ruleRef{"kube_audit", i, &p.KubeAudit[i].Meta})
	}
	for i := range p.CI {
		out = append(out, ruleRef{"ci", i, &p.CI[i].Meta})
	}
	return out
}

// RuleCount is the number of rules in the pack.
func (p *Pack) RuleCount() int { return len(p.rules()) }

// Rule finds a rule's Meta by ID.
func (p *Pack) Rule(id string) (*Meta, bool) {
	for _, r := range p.rules() {
		if r.meta.ID == id {
			return r.meta, true
		}
	}
	return nil, false
}

// NamedWindow finds a window by ID.
func (p *Pack) NamedWindow(id string) (*NamedWindow, bool) {
	for i := range p.Windows {
		if p.Windows[i].ID == id {
			return &p.Windows[i], true
		}
	}
	return nil, false
}

var (
	packIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,63}$`)
	ruleIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	sha1RE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	actionRE = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
)

type validator struct {
	file string
	errs Errors
}

func (v *validator) add(n *yaml.Node, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: lineOf(n), Msg: fmt.Sprintf(format, args...)})
}

func validate(file string, p *Pack, doc *yaml.Node) Errors {
	v := &validator{file: file}
	if p.Schema != SchemaV1 {
		v.add(orNode(child(doc, "schema"), doc), "schema must be %q, got %q", SchemaV1, p.Schema)
	}
	if !packIDRE.MatchString(p.ID) {
		v.add(orNode(child(doc, "id"), doc), "id %q must be lower-case letters, digits, '.' or '-' (2-64 chars)", p.ID)
	}
	if p.Version < 1 {
		v.add(orNode(child(doc, "version"), doc), "version must be a positive integer")
	}
	if strings.TrimSpace(p.Title) == "" {
		v.add(orNode(child(doc, "title"), doc), "title is required")
	}
	wn := child(doc, "window")
	if p.Window.Start.IsZero() {
		v.add(orNode(wn, doc), "window.start is required (RFC 3339 time)")
	} else if p.Window.End != nil && p.Window.End.Before(p.Window.Start) {
		v.add(wn, "window.end is before window.start")
	}

	windows := map[string]bool{}
	for i, w := range p.Windows {
		n := item(child(doc, "windows"), i)
		switch {
		case !ruleIDRE.MatchString(w.ID):
			v.add(n, "window id %q is not a valid identifier", w.ID)
		case windows[w.ID]:
			v.add(n, "window id %q is used twice", w.ID)
		}
		windows[w.ID] = true
		if w.Start.IsZero() {
			v.add(n, "window %q: start is required", w.ID)
		} else if w.End != nil && w.End.Before(w.Start) {
			v.add(n, "window %q: end is before start", w.ID)
		}
		if strings.TrimSpace(w.Source) == "" {
			v.add(n, "window %q: source is required", w.ID)
		}
		if !w.Confidence.Valid() {
			v.add(n, "window %q: confidence %q is not one of confirmed, single_source, single_source_low_trust, inferred, conflicting", w.ID, w.Confidence)
		}
	}

	ids := map[string]bool{}
	for _, r := range p.rules() {
		n := item(child(doc, r.section), r.index)
		m := r.meta
		where := fmt.Sprintf("%s rule %q", r.section, m.ID)
		switch {
		case !ruleIDRE.MatchString(m.ID):
			v.add(n, "%s[%d]: id %q is not a valid identifier", r.section, r.index, m.ID)
		case ids[m.ID]:
			v.add(n, "%s: id is used twice in this pack", where)
		}
		ids[m.ID] = true
		if strings.TrimSpace(m.Source) == "" {
			v.add(n, "%s: source is required (where the fact comes from)", where)
		}
		if !m.Confidence.Valid() {
			v.add(n, "%s: confidence %q is not one of confirmed, single_source, single_source_low_trust, inferred, conflicting", where, m.Confidence)
		}
		if !m.Severity.Valid() {
			v.add(n, "%s: severity %q is not one of critical, high, medium, low, info", where, m.Severity)
		}
		if strings.TrimSpace(m.Title) == "" {
			v.add(n, "%s: title is required", where)
		}
		if m.Window != "" && !windows[m.Window] {
			v.add(n, "%s: window %q is not defined under windows", where, m.Window)
		}
	}

	for i, r := range p.Packages {
		n := item(child(doc, "packages"), i)
		if r.Ecosystem == "" || r.Name == "" || len(r.Versions) == 0 {
			v.add(n, "packages rule %q: ecosystem, name and versions are required", r.ID)
		}
		for ver, h := range r.VerifiedSafeSHA256 {
			if !sha256RE.MatchString(h) {
				v.add(n, "packages rule %q: verified_safe_sha256[%s] is not 64 lower-case hex digits", r.ID, ver)
			}
		}
	}
	for i, r := range p.Files {
		n := item(child(doc, "files"), i)
		if !r.Role.Valid() {
			v.add(n, "files rule %q: role %q is not one of trigger, payload, artefact, backdoor, staging, state", r.ID, r.Role)
		}
		if len(r.Names) == 0 && len(r.Paths) == 0 && len(r.SHA256) == 0 {
			v.add(n, "files rule %q: needs names, paths or sha256", r.ID)
		}
		for _, h := range r.SHA256 {
			if !sha256RE.MatchString(h) {
				v.add(n, "files rule %q: sha256 %q is not 64 lower-case hex digits", r.ID, h)
			}
		}
		v.paths(n, "files", r.ID, r.Paths)
		for _, name := range r.Names {
			if name == "" || strings.Contains(name, "/") {
				v.add(n, "files rule %q: name %q must be a bare file name", r.ID, name)
			}
		}
	}
	for i, r := range p.Persistence {
		n := item(child(doc, "persistence"), i)
		switch r.Kind {
		case "systemd-user", "systemd-system", "cron", "shell-rc", "file":
		default:
			v.add(n, "persistence rule %q: kind %q is not one of systemd-user, systemd-system, cron, shell-rc, file", r.ID, r.Kind)
		}
		if len(r.Paths) == 0 && len(r.Markers) == 0 {
			v.add(n, "persistence rule %q: needs paths or markers", r.ID)
		}
		if r.MinMarkers < 0 || r.MinMarkers > len(r.Markers) {
			v.add(n, "persistence rule %q: min_markers must be between 0 and the number of markers", r.ID)
		}
		v.paths(n, "persistence", r.ID, r.Paths)
	}
	for i, r := range p.Network {
		n := item(child(doc, "network"), i)
		switch r.Type {
		case "domain", "ip", "url", "header", "user_agent":
		default:
			v.add(n, "network rule %q: type %q is not one of domain, ip, url, header, user_agent", r.ID, r.Type)
		}
		if len(r.Values) == 0 {
			v.add(n, "network rule %q: values are required", r.ID)
		}
		for _, val := range r.Values {
			if strings.TrimSpace(val) == "" {
				v.add(n, "network rule %q: empty value", r.ID)
			}
		}
	}
	for i, r := range p.Strings {
		n := item(child(doc, "strings"), i)
		switch r.Scope {
		case "pth", "python", "any":
		default:
			v.add(n, "strings rule %q: scope %q is not one of pth, python, any", r.ID, r.Scope)
		}
		if len(r.Values) == 0 {
			v.add(n, "strings rule %q: values are required", r.ID)
		}
		for _, val := range r.Values {
			if len(val) < 4 {
				v.add(n, "strings rule %q: value %q is shorter than 4 bytes and would match everywhere", r.ID, val)
			}
		}
		if r.MinValues < 0 || r.MinValues > len(r.Values) {
			v.add(n, "strings rule %q: min_values must be between 0 and the number of values", r.ID)
		}
	}
	for i, r := range p.Kubernetes {
		n := item(child(doc, "kubernetes"), i)
		switch r.Kind {
		case "Pod", "DaemonSet", "Deployment", "Job", "Event":
		default:
			v.add(n, "kubernetes rule %q: kind %q is not one of Pod, DaemonSet, Deployment, Job, Event", r.ID, r.Kind)
		}
		if len(r.NamePatterns) == 0 && len(r.Images) == 0 && len(r.HostPaths) == 0 && r.Privileged == nil && len(r.MessagePatterns) == 0 {
			v.add(n, "kubernetes rule %q: needs at least one of name_patterns, images, host_paths, privileged, message_patterns", r.ID)
		}
		for _, pat := range append(append([]string{}, r.NamePatterns...), r.MessagePatterns...) {
			if _, err := path.Match(pat, ""); err != nil {
				v.add(n, "kubernetes rule %q: bad pattern %q: %v", r.ID, pat, err)
			}
		}
	}
	for i, r := range p.KubeAudit {
		n := item(child(doc, "kube_audit"), i)
		if len(r.Verbs) == 0 || r.Resource == "" {
			v.add(n, "kube_audit rule %q: verbs and resource are required", r.ID)
		}
	}
	for i, r := range p.CI {
		n := item(child(doc, "ci"), i)
		if !actionRE.MatchString(r.Action) {
			v.add(n, "ci rule %q: action %q must be owner/repo", r.ID, r.Action)
		}
		if len(r.Refs) == 0 && len(r.Ranges) == 0 && !r.AnyTag && len(r.Unpinned) == 0 && len(r.BadSHAs) == 0 {
			v.add(n, "ci rule %q: needs refs, ranges, any_tag, unpinned or bad_shas", r.ID)
		}
		for sha := range r.BadSHAs {
			if !sha1RE.MatchString(sha) {
				v.add(n, "ci rule %q: bad_shas key %q is not a full 40-hex commit SHA", r.ID, sha)
			}
		}
		for _, rg := range r.Ranges {
			if _, ok := ParseVersion(rg.From); !ok {
				v.add(n, "ci rule %q: range from %q is not a version", r.ID, rg.From)
			}
			if _, ok := ParseVersion(rg.To); !ok {
				v.add(n, "ci rule %q: range to %q is not a version", r.ID, rg.To)
			}
		}
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	return v.errs
}

func (v *validator) paths(n *yaml.Node, section, id string, paths []string) {
	for _, p := range paths {
		ok := strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "<site-packages>/")
		if !ok {
			v.add(n, "%s rule %q: path %q must start with /, ~/ or <site-packages>/", section, id, p)
			continue
		}
		if strings.Contains(p, "..") {
			v.add(n, "%s rule %q: path %q must not contain ..", section, id, p)
		}
		if _, err := path.Match(p, ""); err != nil {
			v.add(n, "%s rule %q: bad glob %q: %v", section, id, p, err)
		}
	}
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// RuleInfo is a rule's Meta with the section it is in.
type RuleInfo struct {
	Section string
	Meta    *Meta
}

// Rules lists every rule in section order.
func (p *Pack) Rules() []RuleInfo {
	refs := p.rules()
	out := make([]RuleInfo, len(refs))
	for i, r := range refs {
		out[i] = RuleInfo{Section: r.section, Meta: r.meta}
	}
	return out
}
