package packs

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// researchJSON is the sourced fact sheet the built-in packs were written from,
// relative to this package's directory. Tests that need it skip when absent.
const researchJSON = "../../../shared/iocs/litellm-teampcp-2026-03.json"

func builtinByID(t *testing.T) map[string]*Pack {
	t.Helper()
	ps, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin(): %v", err)
	}
	m := make(map[string]*Pack, len(ps))
	for _, p := range ps {
		m[p.ID] = p
	}
	return m
}

func mustPack(t *testing.T, m map[string]*Pack, id string) *Pack {
	t.Helper()
	p, ok := m[id]
	if !ok {
		t.Fatalf("built-in pack %q missing", id)
	}
	return p
}

func ciRules(p *Pack, action string) []CIRule {
	var out []CIRule
	for _, r := range p.CI {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func inAnyRange(rules []CIRule, ref string) bool {
	for _, r := range rules {
		for _, rg := range r.Ranges {
			if rg.Contains(ref) {
				return true
			}
		}
	}
	return false
}

func TestBuiltinPacksLoad(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin(): %v", err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if p.RuleCount() == 0 {
			t.Errorf("%s: no rules", p.ID)
		}
		if !strings.HasPrefix(p.Origin, "builtin:") {
			t.Errorf("%s: origin %q, want builtin:<file>", p.ID, p.Origin)
		}
		if want := "builtin:" + p.ID + ".yaml"; p.Origin != want {
			t.Errorf("%s: file %q should be named after the pack ID (%s)", p.ID, p.Origin, want)
		}
	}
	want := []string{"canisterworm-2026-03", "kics-action-2026-03", "litellm-2026-03", "trivy-action-2026-03"}
	if !slices.Equal(ids, want) {
		t.Fatalf("built-in pack IDs = %v, want %v", ids, want)
	}
}

func TestBuiltinKeyFacts(t *testing.T) {
	packs := builtinByID(t)
	litellm := mustPack(t, packs, "litellm-2026-03")
	trivy := mustPack(t, packs, "trivy-action-2026-03")
	kics := mustPack(t, packs, "kics-action-2026-03")
	canister := mustPack(t, packs, "canisterworm-2026-03")
	trivyAction := ciRules(trivy, "aquasecurity/trivy-action")
	setupTrivy := ciRules(trivy, "aquasecurity/setup-trivy")

	tests := []struct {
		name string
		ok   func() bool
	}{
		{"litellm 1.82.7 and 1.82.8 are bad pypi versions", func() bool {
			for _, r := range litellm.Packages {
				if r.Ecosystem == "pypi" && r.Name == "litellm" &&
					slices.Contains(r.Versions, "1.82.7") && slices.Contains(r.Versions, "1.82.8") &&
					r.Triggers["1.82.7"] != "" && r.Triggers["1.82.8"] != "" &&
					r.LastClean == "1.82.6" && r.FirstClean == "1.83.0" {
					return true
				}
			}
			return false
		}},
		{"litellm verified-safe list holds 1.82.6", func() bool {
			for _, r := range litellm.Packages {
				if r.Name == "litellm" && r.VerifiedSafeSHA256["1.82.6"] == "164a3ef3e19f309e3cabc199bef3d2045212712fefdfa25fc7f75884a5b5b205" {
					return true
				}
			}
			return false
		}},
		{"litellm_init.pth trigger with its sha256 and size", func() bool {
			for _, r := range litellm.Files {
				if r.Role == RoleTrigger && slices.Contains(r.Names, "litellm_init.pth") &&
					slices.Contains(r.SHA256, "71e35aef03099cd1f2d6446734273025a163597de93912df321ef118bf135238") &&
					r.Size == 34628 {
					return true
				}
			}
			return false
		}},
		{"litellm sysmon user unit covers /root", func() bool {
			for _, r := range litellm.Persistence {
				if r.Kind == "systemd-user" && slices.Contains(r.Paths, "/root/.config/systemd/user/sysmon.service") &&
					slices.Contains(r.Markers, "System Telemetry Service") {
					return true
				}
			}
			return false
		}},
		{"litellm node-setup-* pods in kube-system", func() bool {
			for _, r := range litellm.Kubernetes {
				if r.Kind == "Pod" && r.Namespace == "kube-system" && slices.Contains(r.NamePatterns, "node-setup-*") {
					return true
				}
			}
			return false
		}},
		{"litellm pack holds no trivy-variant or CanisterWorm paths", func() bool {
			for _, r := range litellm.Files {
				for _, p := range r.Paths {
					if p == "~/.config/sysmon.py" || strings.Contains(p, "pgmon") {
						return false
					}
				}
			}
			for _, r := range litellm.Persistence {
				for _, p := range r.Paths {
					if p == "~/.config/sysmon.py" || strings.Contains(p, "pgmon") {
						return false
					}
				}
			}
			for _, r := range litellm.Kubernetes {
				for _, p := range r.NamePatterns {
					if strings.Contains(p, "host-provisioner") {
						return false
					}
				}
			}
			return true
		}},
		{"canisterworm host-provisioner DaemonSets and their shape, confirmed", func() bool {
			names, shape := false, false
			for _, r := range canister.Kubernetes {
				if r.Kind == "DaemonSet" && slices.Contains(r.NamePatterns, "host-provisioner-iran") && slices.Contains(r.NamePatterns, "host-provisioner-std") {
					names = r.Confidence == Confirmed
				}
				if r.Kind == "DaemonSet" && slices.Contains(r.Containers, "kamikaze") && slices.Contains(r.HostPaths, "/") {
					shape = r.Confidence == Confirmed
				}
			}
			return names && shape && canister.Window.Start.Equal(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
		}},
		{"canisterworm node backdoor units and the ICP C2", func() bool {
			units, c2 := false, false
			for _, r := range canister.Persistence {
				units = units || slices.Contains(r.Paths, "/etc/systemd/system/internal-monitor.service") && slices.Contains(r.Paths, "/var/lib/pgmon/pgmon.py")
			}
			for _, r := range canister.Network {
				c2 = c2 || slices.Contains(r.Values, "tdtqy-oyaaa-aaaae-af2dq-cai.raw.icp0.io")
			}
			return units && c2
		}},
		{"trivy-action 0.35.0 is a safe ref", func() bool {
			for _, r := range trivyAction {
				if slices.Contains(r.SafeRefs, "0.35.0") && slices.Contains(r.SafeRefs, "57a97c7e7821a5776cebc9bb87c984fa69cba8f1") {
					return true
				}
			}
			return false
		}},
		{"trivy-action 0.35.0 is not in the bad range", func() bool { return !inAnyRange(trivyAction, "0.35.0") }},
		{"trivy-action 0.0.1 is in the bad range", func() bool { return inAnyRange(trivyAction, "0.0.1") }},
		{"trivy-action 0.20.0 is in the bad range", func() bool { return inAnyRange(trivyAction, "0.20.0") }},
		{"trivy-action 0.34.2 is in the bad range", func() bool { return inAnyRange(trivyAction, "0.34.2") }},
		{"trivy-action re-created v0.20.0 is not in the bad range", func() bool { return !inAnyRange(trivyAction, "v0.20.0") }},
		{"trivy-action 0.34.3 is not in the bad range", func() bool { return !inAnyRange(trivyAction, "0.34.3") }},
		{"trivy-action unpinned master/main", func() bool {
			for _, r := range trivyAction {
				if slices.Contains(r.Unpinned, "master") && slices.Contains(r.Unpinned, "main") {
					return true
				}
			}
			return false
		}},
		{"setup-trivy v0.2.0 and v0.2.6 are in the bad range", func() bool {
			return inAnyRange(setupTrivy, "v0.2.0") && inAnyRange(setupTrivy, "v0.2.6")
		}},
		{"setup-trivy bare 0.2.3 and v0.2.7 are not in the bad range", func() bool {
			return !inAnyRange(setupTrivy, "0.2.3") && !inAnyRange(setupTrivy, "v0.2.7")
		}},
		{"setup-trivy 8afa9b9f is confirmed, the other six single source", func() bool {
			var confirmed, single int
			for _, r := range setupTrivy {
				switch r.Confidence {
				case Confirmed:
					if _, ok := r.BadSHAs["8afa9b9f9183b4e00c46e2b82d34047e3c177bd0"]; ok {
						confirmed++
					}
				case SingleSource:
					single += len(r.BadSHAs)
				}
			}
			return confirmed == 1 && single == 6
		}},
		{"trivy entrypoint.sh payload hash", func() bool {
			for _, r := range trivy.Files {
				if r.Role == RolePayload && slices.Contains(r.SHA256, "18a24f83e807479438dcab7a1804c51a00dafc1d526698a66e0640d1e5dd671a") && r.Size == 17592 {
					return true
				}
			}
			return false
		}},
		{"kics-github-action any tag, confirmed", func() bool {
			for _, r := range ciRules(kics, "Checkmarx/kics-github-action") {
				if r.AnyTag && r.Confidence == Confirmed {
					return true
				}
			}
			return false
		}},
		{"kics registry SHAs are not marked confirmed", func() bool {
			n := 0
			for _, r := range ciRules(kics, "Checkmarx/kics-github-action") {
				if len(r.BadSHAs) > 0 {
					n++
					if r.Confidence == Confirmed {
						return false
					}
				}
			}
			return n > 0
		}},
		{"ast-github-action 2.3.28", func() bool {
			for _, r := range ciRules(kics, "Checkmarx/ast-github-action") {
				if slices.Contains(r.Refs, "2.3.28") {
					return true
				}
			}
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok() {
				t.Error("fact missing or wrong")
			}
		})
	}
}

// TestTrivyActionBadSHAsMatchResearch checks that every malicious trivy-action
// commit in the research is in the pack, with its tag, and nothing else.
func TestTrivyActionBadSHAsMatchResearch(t *testing.T) {
	b, err := os.ReadFile(researchJSON)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("research file %s not present", researchJSON)
	}
	if err != nil {
		t.Fatal(err)
	}
	var research struct {
		CI struct {
			TrivyAction struct {
				MaliciousCommits map[string]string `json:"malicious_commits"`
			} `json:"trivy_action"`
		} `json:"ci_iocs"`
	}
	if err := json.Unmarshal(b, &research); err != nil {
		t.Fatalf("parse %s: %v", researchJSON, err)
	}
	want := research.CI.TrivyAction.MaliciousCommits
	if len(want) == 0 {
		t.Fatalf("%s: no ci_iocs.trivy_action.malicious_commits", researchJSON)
	}

	trivy := mustPack(t, builtinByID(t), "trivy-action-2026-03")
	got := map[string]string{}
	for _, r := range ciRules(trivy, "aquasecurity/trivy-action") {
		for sha, tag := range r.BadSHAs {
			if _, dup := got[sha]; dup {
				t.Errorf("SHA %s listed twice", sha)
			}
			got[sha] = tag
		}
	}
	if len(got) != len(want) {
		t.Errorf("trivy-action bad SHAs: pack has %d, research has %d", len(got), len(want))
	}
	for sha, tag := range want {
		if tag == "?" { // unknown in the research; "" in the pack
			tag = ""
		}
		gotTag, ok := got[sha]
		switch {
		case !ok:
			t.Errorf("research SHA %s (tag %q) missing from the pack", sha, tag)
		case gotTag != tag:
			t.Errorf("SHA %s: pack tag %q, research tag %q", sha, gotTag, tag)
		}
	}
	for sha := range got {
		if _, ok := want[sha]; !ok {
			t.Errorf("pack SHA %s is not in the research", sha)
		}
	}
}

func TestBuiltinRulesWellFormed(t *testing.T) {
	for id, p := range builtinByID(t) {
		t.Run(id, func(t *testing.T) {
			for _, w := range p.Windows {
				if !w.Confidence.Valid() {
					t.Errorf("window %s: confidence %q", w.ID, w.Confidence)
				}
			}
			for _, r := range p.rules() {
				m := r.meta
				if !m.Confidence.Valid() {
					t.Errorf("%s rule %s: confidence %q is not valid", r.section, m.ID, m.Confidence)
				}
				if !m.Severity.Valid() {
					t.Errorf("%s rule %s: severity %q is not valid", r.section, m.ID, m.Severity)
				}
				if len(strings.TrimSpace(m.Source)) < 10 {
					t.Errorf("%s rule %s: source %q says too little", r.section, m.ID, m.Source)
				}
				if m.Confidence != Confirmed && strings.TrimSpace(m.Note) == "" && m.Confidence != SingleSource {
					t.Errorf("%s rule %s: %s rule needs a note saying why", r.section, m.ID, m.Confidence)
				}
				if m.Window == "" {
					continue
				}
				// A rule's window must lie inside the pack's global window.
				w, ok := p.NamedWindow(m.Window)
				if !ok {
					t.Errorf("%s rule %s: window %s not defined", r.section, m.ID, m.Window)
					continue
				}
				if w.Start.Before(p.Window.Start) {
					t.Errorf("%s rule %s: window %s starts before the pack window", r.section, m.ID, w.ID)
				}
				if p.Window.End != nil && (w.End == nil || w.End.After(*p.Window.End)) {
					t.Errorf("%s rule %s: window %s ends after the pack window", r.section, m.ID, w.ID)
				}
			}
		})
	}
}

// TestREADMEExamplePackLoads keeps the complete example in README.md valid.
func TestREADMEExamplePackLoads(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## A complete small pack")
	if i < 0 {
		t.Fatal(`README.md has no "## A complete small pack" section`)
	}
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	if start < 0 {
		t.Fatal("no yaml block in the example section")
	}
	s = s[start+len("```yaml\n"):]
	end := strings.Index(s, "```")
	if end < 0 {
		t.Fatal("unterminated yaml block in the example section")
	}
	p, err := Parse("README.md example", []byte(s[:end]))
	if err != nil {
		t.Fatalf("example pack does not load: %v", err)
	}
	if p.RuleCount() == 0 {
		t.Error("example pack has no rules")
	}
}
