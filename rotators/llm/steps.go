package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// The shared steps. Every provider's playbook uses them in this order:
// plan, (evidence), create or create-manual, verify-new, deliver,
// (revoke by API) or revoke-manual, verify-old-revoked. The old key is never
// touched before the new one is verified and delivered: the revoke steps
// refuse to run otherwise.

// planAction checks, without changing anything, that the new key has a sink
// and whether the exposed key still works.
type planAction struct {
	p *Provider
	s *service
}

func (a planAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: check whether the exposed %s key %s still works and where the new key will be delivered", a.s.title, rc.Credential.Hint), nil
}

func (a planAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	ss := a.p.sinks(rc)
	if len(ss) == 0 {
		return nil, errors.New(noSinkHelp)
	}
	res := rotators.Result{"sinks": describeSinks(ss), "console": a.s.console}
	rc.Vars["old_hint"] = rc.Credential.Hint
	old, ok := a.p.oldKey(rc)
	if !ok {
		res["old_key"] = "not readable here (the file changed since the scan); its revocation is checked with --old-secret-from"
		return res, nil
	}
	works, detail, err := a.s.check(ctx, a.p, rc, old)
	if err != nil && !errors.Is(err, rotators.ErrAuth) {
		return nil, err
	}
	res["old_key_works"] = works
	if detail != "" {
		res["old_key_detail"] = detail
	}
	rc.Vars["old_works"] = works
	return res, nil
}

// Preview runs the read-only plan for a dry run (no findings are recorded).
func (a planAction) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a planAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only: run again
}

// manualGate makes a manual step skip itself when its work was done another
// way: the engine asks a step's registered action whether it is Needed
// before pausing for the human (a manual step names it in `action:`).
type manualGate struct {
	why    string
	needed func(rc *rotators.RunContext) (bool, string)
}

func (g manualGate) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	n, why := g.needed(rc)
	return n, why, nil
}
func (g manualGate) Describe(context.Context, *rotators.RunContext) (string, error) {
	return g.why, nil
}
func (g manualGate) Do(context.Context, *rotators.RunContext) (rotators.Result, error) {
	return rotators.Result{}, nil
}
func (g manualGate) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return rotators.Result{}, true, nil
}

// createManualGate: the operator creates the key in the provider's console,
// unless this run created one or the key was already supplied.
func createManualGate(title string) manualGate {
	return manualGate{why: "you create the new " + title + " key", needed: func(rc *rotators.RunContext) (bool, string) {
		if rc.Var("new_source") == "created" {
			return false, "the new key was created through the API"
		}
		if rc.Inputs != nil {
			if _, ok := rc.Inputs.Get(inNewSecret); ok {
				return false, "the new key was supplied (--secret-from or the console's prompt)"
			}
		}
		if v, _ := rc.Vars["verified"].(bool); v {
			return false, "the new key is already verified"
		}
		return true, ""
	}}
}

// revokeManualGate: the operator revokes the exposed key in the console,
// unless an API step did.
func revokeManualGate(title string) manualGate {
	return manualGate{why: "you revoke the exposed " + title + " key", needed: func(rc *rotators.RunContext) (bool, string) {
		if v, _ := rc.Vars["old_revoked_by_api"].(bool); v {
			return false, "the exposed key was revoked through the API"
		}
		return true, ""
	}}
}

// verifyNewAction proves the new key works before anything depends on it,
// retrying while the provider propagates a fresh key.
type verifyNewAction struct {
	p *Provider
	s *service
	// rewindTo names the create step when the key is made by this run.
	rewindTo string
}

func (a verifyNewAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: call %s with the new key until it is accepted (the old key %s is untouched)", a.s.title, rc.Credential.Hint), nil
}

func (a verifyNewAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	key, source, ok := a.p.newKey(ctx, rc)
	if !ok {
		if a.rewindTo != "" && rc.Var("new_source") == "created" {
			return nil, &rotators.Rewind{To: a.rewindTo, Reason: "the key this run created was lost before it was delivered (the process stopped); it is removed and created again"}
		}
		return nil, fmt.Errorf("no new %s key: create one (%s), then resume with --secret-from FILE|env:VAR (in the console, paste it when starting the rotation)", a.s.title, a.s.console)
	}
	if key.Fingerprint() == rc.Credential.Fingerprint {
		return nil, fmt.Errorf("the key supplied is the exposed key %s itself: create a new one (%s)", rc.Credential.Hint, a.s.console)
	}
	deadline := time.Now().Add(verifyTimeout(rc))
	for attempt := 1; ; attempt++ {
		works, detail, err := a.s.check(ctx, a.p, rc, key)
		if err != nil && !errors.Is(err, rotators.ErrAuth) {
			return nil, err
		}
		if works {
			rc.Vars["new_fp"] = key.Fingerprint()
			rc.Vars["new_hint"] = key.Hint()
			rc.Vars["verified"] = true
			if source != "sink" && rc.Var("new_source") == "" {
				rc.Vars["new_source"] = source
			}
			res := rotators.Result{"verified": key.Hint(), "attempts": attempt}
			if detail != "" {
				res["detail"] = detail
			}
			return res, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the new %s key %s is refused by the provider (%s): check it was copied whole and belongs to the right project, then resume", a.s.title, key.Hint(), orUnknown(detail))
		}
		rc.Note("the new key %s is not accepted yet (attempt %d); retrying", key.Hint(), attempt)
		if err := sleep(ctx, a.p.o.Poll); err != nil {
			return nil, err
		}
	}
}

func (a verifyNewAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only
}

// deliverAction writes the verified new key to every sink and reads it back.
// unverified allows delivering first where the key can only be verified
// once its consumer has it (a LiteLLM master key, read by the proxy at
// start).
type deliverAction struct {
	p          *Provider
	unverified bool
}

func (a deliverAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	ss := a.p.sinks(rc)
	if len(ss) == 0 {
		return "", errors.New(noSinkHelp)
	}
	return "write the new key to " + describeSinks(ss) + " (atomically; everything else kept), then read it back", nil
}

func (a deliverAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if v, _ := rc.Vars["verified"].(bool); !v && !a.unverified {
		return nil, errors.New("refusing to deliver a key that was not verified")
	}
	ss := a.p.sinks(rc)
	if len(ss) == 0 {
		return nil, errors.New(noSinkHelp)
	}
	// Hold the exposed key in memory before its file is rewritten: the last
	// step proves it refused.
	_, _ = a.p.oldKey(rc)
	key, _, ok := a.p.newKey(ctx, rc)
	if !ok {
		if res, done, err := a.Reconcile(ctx, rc); err != nil || done {
			return res, err
		}
		if rc.Var("new_source") == "created" {
			return nil, &rotators.Rewind{To: "create", Reason: "the new key was lost before it was delivered (the process stopped)"}
		}
		return nil, errors.New("the new key is no longer in memory (the process stopped): resume with --secret-from FILE|env:VAR")
	}
	var to []string
	for _, s := range ss {
		if err := s.Deliver(ctx, rc.Credential.Fingerprint, key); err != nil {
			return nil, fmt.Errorf("deliver to %s: %w", s.Describe(), scrubErr(err, key))
		}
		got, err := s.Current(ctx)
		if err != nil || got.Fingerprint() != key.Fingerprint() {
			return nil, fmt.Errorf("%s does not read back the new key after delivery", s.Describe())
		}
		to = append(to, s.Describe())
	}
	rc.Vars["delivered_fp"] = key.Fingerprint()
	return rotators.Result{"delivered": key.Hint(), "to": to}, nil
}

// Reconcile: delivered when every sink reads back the verified key.
func (a deliverAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	want := rc.Var("new_fp")
	ss := a.p.sinks(rc)
	if want == "" || len(ss) == 0 {
		return nil, false, nil
	}
	var to []string
	for _, s := range ss {
		v, err := s.Current(ctx)
		if err != nil || v.Fingerprint() != want {
			return nil, false, nil
		}
		to = append(to, s.Describe())
	}
	rc.Vars["delivered_fp"] = want
	return rotators.Result{"delivered": rc.Var("new_hint"), "to": to}, true, nil
}

// verifyOldRevokedAction proves the exposed key is refused now.
type verifyOldRevokedAction struct {
	p *Provider
	s *service
}

func (a verifyOldRevokedAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: call %s with the exposed key %s until it is refused", a.s.title, rc.Credential.Hint), nil
}

func (a verifyOldRevokedAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if rc.Var("delivered_fp") == "" {
		return nil, errors.New("refusing to judge the exposed key before the new one is delivered")
	}
	old, ok := a.p.oldKey(rc)
	if !ok && a.s.revokedByAdmin != nil {
		deadline := time.Now().Add(verifyTimeout(rc))
		for attempt := 1; ; attempt++ {
			revoked, can, detail, err := a.s.revokedByAdmin(ctx, a.p, rc)
			if err != nil {
				return nil, err
			}
			if !can {
				break
			}
			if revoked {
				rc.Vars["old_refused"] = true
				return rotators.Result{"old_refused": rc.Credential.Hint, "proof": detail, "attempts": attempt}, nil
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the exposed %s key %s is still active (%s): revoke it (%s) and resume", a.s.title, rc.Credential.Hint, detail, a.s.console)
			}
			if err := sleep(ctx, a.p.o.Poll); err != nil {
				return nil, err
			}
		}
	}
	if !ok {
		if rc.Param("old_check") == "skip" {
			return rotators.Result{"old_refused": "not checked (--param old_check=skip)"}, nil
		}
		return nil, fmt.Errorf("the exposed key %s is no longer readable here (it was replaced in its file): resume with --old-secret-from FILE|env:VAR to prove it is revoked, or --param old_check=skip", rc.Credential.Hint)
	}
	deadline := time.Now().Add(verifyTimeout(rc))
	for attempt := 1; ; attempt++ {
		works, detail, err := a.s.check(ctx, a.p, rc, old)
		if err != nil && !errors.Is(err, rotators.ErrAuth) {
			return nil, err
		}
		if !works {
			rc.Vars["old_refused"] = true
			return rotators.Result{"old_refused": rc.Credential.Hint, "attempts": attempt}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the exposed %s key %s still works (%s): revoke it (%s) and resume", a.s.title, rc.Credential.Hint, orUnknown(detail), a.s.console)
		}
		rc.Note("the exposed key %s is still accepted (attempt %d): revocation may take a moment; retrying", rc.Credential.Hint, attempt)
		if err := sleep(ctx, a.p.o.Poll); err != nil {
			return nil, err
		}
	}
}

func (a verifyOldRevokedAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// scrubErr rewrites an error's text without the secrets.
func scrubErr(err error, secrets ...redact.Secret) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if c := scrub(s, secrets...); c != s {
		return errors.New(c)
	}
	return err
}

// simpleCheck builds a check from one request: 2xx accepted, 401/403 (or
// what refused says) refused, anything else classified.
func simpleCheck(s *service, op, method, path string, auth func(*http.Request, string), refused func(status int, body []byte) bool) func(context.Context, *Provider, *rotators.RunContext, redact.Secret) (bool, string, error) {
	return func(ctx context.Context, p *Provider, rc *rotators.RunContext, key redact.Secret) (bool, string, error) {
		base, err := p.serviceBase(rc, s)
		if err != nil {
			return false, "", err
		}
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			return false, "", fmt.Errorf("%s: %w", op, err)
		}
		auth(req, string(key.Reveal()))
		status, body, err := p.do(ctx, req)
		return checkResult(op, status, body, err, refused, key)
	}
}

func bearer(r *http.Request, key string) { r.Header.Set("Authorization", "Bearer "+key) }

// checkResult turns a verification answer into (accepted, detail, error).
func checkResult(op string, status int, body []byte, err error, refused func(int, []byte) bool, key redact.Secret) (bool, string, error) {
	if err != nil {
		return false, "", classify(op, 0, nil, err, key)
	}
	if status >= 200 && status < 300 {
		return true, "", nil
	}
	if status == 401 || status == 403 || (refused != nil && refused(status, body)) {
		return false, fmt.Sprintf("HTTP %d: %s", status, scrub(errorMessage(body), key)), nil
	}
	return false, "", classify(op, status, body, nil, key)
}

// firstJSONString finds the first string value under key anywhere in a JSON
// document (bounded depth), or "".
func firstJSONString(body []byte, key string) string {
	if len(body) == 0 || (body[0] != '{' && body[0] != '[' && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))) {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var walk func(v any, depth int) string
	walk = func(v any, depth int) string {
		if depth > 8 {
			return ""
		}
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t[key].(string); ok {
				return s
			}
			ks := make([]string, 0, len(t))
			for k := range t {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			for _, k := range ks {
				if s := walk(t[k], depth+1); s != "" {
					return s
				}
			}
		case []any:
			for _, e := range t {
				if s := walk(e, depth+1); s != "" {
					return s
				}
			}
		}
		return ""
	}
	return walk(v, 0)
}

// hintMatch reports whether a provider's redacted form of a key ("sk-abc...def",
// "sk-ant-api03-R2D...igAA") can be the credential: against the full key when
// this machine can still read it (exact), else against the recorded hint
// (prefix and the last characters).
func hintMatch(redacted string, full redact.Secret, hint string) (match bool, exact bool) {
	pre, suf, ok := splitRedacted(redacted)
	if !ok {
		return false, false
	}
	if v := string(full.Reveal()); v != "" {
		return strings.HasPrefix(v, pre) && strings.HasSuffix(v, suf) && len(pre)+len(suf) < len(v), true
	}
	hp, ht, ok := splitRedacted(hint)
	if !ok || ht == "" || suf == "" {
		return false, false
	}
	n := min(len(ht), len(suf))
	if n < 3 || ht[len(ht)-n:] != suf[len(suf)-n:] {
		return false, false
	}
	if !strings.HasPrefix(pre, hp) && !strings.HasPrefix(hp, pre) {
		return false, false
	}
	return true, false
}

// splitRedacted cuts "prefix...suffix" (also "…" or "***").
func splitRedacted(s string) (string, string, bool) {
	for _, sep := range []string{"...", "…", "***"} {
		if i := strings.Index(s, sep); i >= 0 {
			return s[:i], strings.TrimLeft(s[i+len(sep):], ".*"), true
		}
	}
	return "", "", false
}
