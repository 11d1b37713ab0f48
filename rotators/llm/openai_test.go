package llm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

const (
	oaiOld   = "sk-proj-PLANTEDoldOPENAIkey0123456789abcdefWXYZ"
	oaiNew   = "sk-proj-PLANTEDnewOPENAIkey9876543210fedcbaQRST"
	oaiAdmin = "sk-admin-PLANTEDadminKEY0123456789abcdefghij"
)

// openaiEnv is an OpenAI organization with project proj_app holding the
// exposed user key (with usage inside the window) and another key.
func openaiEnv(t *testing.T, prism *llmtest.Prism) (*env, *llmtest.OpenAI, string) {
	f := llmtest.NewOpenAI(t, prism)
	f.AddAdminKey(oaiAdmin)
	f.AddProject("proj_other")
	f.AddProject("proj_app")
	f.AddUserKey("proj_other", "sk-proj-UNRELATEDkey000000000000000000000000", "other", time.Now().Add(-90*24*time.Hour))
	oldID := f.AddUserKey("proj_app", oaiOld, "backend", time.Now().Add(-60*24*time.Hour))
	f.AddUsage("proj_app", oldID, "gpt-4o", time.Now().Add(-24*time.Hour), 42, 12000, 3000)
	e := newEnv(t, "openai-api-key", "OPENAI_API_KEY", oaiOld)
	e.baseURLs["openai"] = f.URL
	e.getenv[openaiAdminEnv] = oaiAdmin
	e.secrets = append(e.secrets, oaiAdmin)
	return e, f, oldID
}

// TestOpenAIServiceAccountRotation: with an admin key and no key supplied,
// the run creates a service-account key, verifies it (through a propagation
// delay), delivers it into the .env line, deletes the exposed key, proves it
// refused, and records the usage evidence.
func TestOpenAIServiceAccountRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, oldID := openaiEnv(t, nil)
	f.Propagation = 2
	pb := mustFind(t, "llm-openai-key")
	eng := e.engine("")
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "10s"})
	if err != nil || state != store.RunDone {
		t.Fatalf("run = %s, %v", state, err)
	}
	newKey := e.envValue("OPENAI_API_KEY")
	if !strings.HasPrefix(newKey, "sk-svcacct-") || !f.KeyWorks(newKey) {
		t.Fatalf("the .env holds %q, not a working service-account key", newKey)
	}
	e.assertFileKept("OPENAI_API_KEY", newKey)
	if f.KeyWorks(oaiOld) {
		t.Error("the exposed key still works")
	}
	if _, ok := f.Keys("proj_app")[oldID]; ok {
		t.Error("the exposed key was not deleted")
	}
	if sas := f.ServiceAccounts("proj_app"); len(sas) != 1 || sas[0] != "tourniquet-"+id {
		t.Errorf("service accounts %v, want exactly tourniquet-%s", sas, id)
	}
	states := e.stepStates(id)
	for _, s := range []string{"plan", "evidence", "create", "verify-new", "deliver", "delete-old", "verify-old-revoked"} {
		if states[s] != store.StepDone {
			t.Errorf("step %s is %s", s, states[s])
		}
	}
	r := e.run(id)
	for _, s := range r.Steps {
		if s.Name == "create-manual" || s.Name == "delete-old-manual" {
			if !strings.Contains(string(s.Result), "not_needed") {
				t.Errorf("manual step %s was not skipped: %s", s.Name, s.Result)
			}
		}
	}
	fs, _ := e.st.Findings(ctx, "default")
	found := false
	for _, fd := range fs {
		if fd.Rule == "provider-key-usage" && strings.Contains(fd.Detail, "42 requests") {
			found = true
		}
	}
	if !found {
		t.Errorf("usage evidence not recorded: %+v", fs)
	}
	assertDeletedAfterDelivered(t, f.Calls())
	e.assertAudit()
	e.assertNoSecretInDB(newKey)
}

// assertDeletedAfterDelivered: the delete call comes after the new key's
// first accepted /models call.
func assertDeletedAfterDelivered(t *testing.T, calls []string) {
	t.Helper()
	del, create := -1, -1
	for i, c := range calls {
		if strings.HasPrefix(c, "DELETE ") && strings.Contains(c, "/api_keys/") && del < 0 {
			del = i
		}
		if c == "POST /organization/projects/proj_app/service_accounts" && create < 0 {
			create = i
		}
	}
	if del < 0 {
		t.Fatal("the exposed key was never deleted")
	}
	if create >= 0 && create > del {
		t.Errorf("deleted (call %d) before the replacement was created (call %d)", del, create)
	}
}

// TestOpenAIManualWithoutAdmin: no admin key; the operator supplies the new
// key; the run pauses for the operator to delete the exposed key in the
// dashboard, then proves it refused.
func TestOpenAIManualWithoutAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, oldID := openaiEnv(t, nil)
	delete(e.getenv, openaiAdminEnv)
	f.AddUserKey("proj_app", oaiNew, "backend-2", time.Now())
	pb := mustFind(t, "llm-openai-key")
	eng := e.engine(oaiNew)
	eng.Yes = false
	eng.Confirm = map[string]bool{}
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "1s"})
	if err != nil || state != store.RunAwaitingApproval {
		t.Fatalf("run = %s, %v; want a pause for the manual delete", state, err)
	}
	if got := e.stepStates(id)["delete-old-manual"]; got != store.StepAwaitingApproval {
		t.Fatalf("paused at the wrong step: %v", e.stepStates(id))
	}
	e.assertFileKept("OPENAI_API_KEY", oaiNew) // delivered before the pause
	// The operator confirms without deleting: the proof step refuses.
	eng.Confirm["delete-old-manual"] = true
	state, err = eng.Resume(ctx, id)
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "still works") {
		t.Fatalf("confirming without deleting: %s, %v", state, err)
	}
	// The operator deletes it in the dashboard, and resumes.
	f.RemoveKey(oaiOld)
	_ = oldID
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	e.assertNoSecretInDB()
}

// TestOpenAIAmbiguousHint: two keys share the visible prefix and suffix and
// the file no longer holds the key: the plan names both and stops.
func TestOpenAIAmbiguousHint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, _ := openaiEnv(t, nil)
	f.AddUserKey("proj_other", "sk-projXXotherKEYsameTAIL00000000000000WXYZ", "twin", time.Now())
	// The file changed: only the recorded hint is left to match on.
	if err := writeFile(e.envFile, "OPENAI_API_KEY=sk-proj-somethingelse00000000000000000000\n"); err != nil {
		t.Fatal(err)
	}
	_, state, err := e.engine("").Start(ctx, "default", mustFind(t, "llm-openai-key"), e.credID, map[string]any{"dotenv_path": e.dir + "/x.env", "dotenv_var": "K"})
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "openai_key_id") {
		t.Fatalf("ambiguous match: %s, %v", state, err)
	}
}

// TestOpenAIAgainstPrism runs every OpenAI request the client can send
// through Prism serving OpenAI's official description: the automated flow,
// the supplied-key flow, deleting a service account's key, and usage paging.
func TestOpenAIAgainstPrism(t *testing.T) {
	t.Parallel()
	prism := llmtest.StartPrism(t)
	ctx := context.Background()
	// Negative control: a Prism that does not validate would pass anything.
	if err := prism.Validate("GET", "/organization/projects/p/api_keys?owner_project_access=bogus", http.Header{"Authorization": {"Bearer x"}}, nil); err == nil {
		t.Fatal("Prism accepted an invalid request: it is not validating")
	}
	cases := []struct {
		name   string
		supply bool
		saOld  bool
	}{{"service-account replacement", false, false}, {"supplied key", true, false}, {"exposed service-account key", false, true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, f, _ := openaiEnv(t, prism)
			newKey := ""
			if c.supply {
				f.AddUserKey("proj_app", oaiNew, "backend-2", time.Now())
				newKey = oaiNew
			}
			if c.saOld {
				f.RemoveKey(oaiOld)
				f.AddServiceAccountKey("proj_app", "legacy-sa", oaiOld, time.Now().Add(-30*24*time.Hour))
			}
			id, state, err := e.engine(newKey).Start(ctx, "default", mustFind(t, "llm-openai-key"), e.credID, map[string]any{"verify_timeout": "5s"})
			if err != nil || state != store.RunDone {
				t.Fatalf("run = %s, %v", state, err)
			}
			_ = id
			if f.KeyWorks(oaiOld) {
				t.Error("the exposed key still works")
			}
			for _, v := range f.Violations() {
				t.Errorf("request not valid against OpenAI's description: %s", v)
			}
			if len(f.Calls()) == 0 {
				t.Error("no request reached the fake")
			}
		})
	}
	// The client's calls one by one, straight at Prism (its example answers
	// exercise the parsers on the description's own shapes).
	p := New(Options{BaseURLs: map[string]string{"openai": prism.URL}})
	c := &openaiHTTP{p: p, base: prism.URL, key: redactNew(oaiAdmin)}
	if _, err := c.Projects(ctx); err != nil {
		t.Errorf("projects: %v", err)
	}
	if _, err := c.ProjectKeys(ctx, "proj_abc"); err != nil {
		t.Errorf("project keys: %v", err)
	}
	if _, err := c.ServiceAccounts(ctx, "proj_abc"); err != nil {
		t.Errorf("service accounts: %v", err)
	}
	if _, _, _, err := c.CreateServiceAccount(ctx, "proj_abc", "tourniquet-r-test"); err != nil {
		t.Errorf("create service account: %v", err)
	}
	if err := c.DeleteProjectKey(ctx, "proj_abc", "key_abc"); err != nil {
		t.Errorf("delete key: %v", err)
	}
	if err := c.DeleteServiceAccount(ctx, "proj_abc", "svc_acct_abc"); err != nil {
		t.Errorf("delete service account: %v", err)
	}
	if _, err := c.UsageCompletions(ctx, "proj_abc", "key_abc", time.Now().Add(-72*time.Hour), time.Now()); err != nil {
		t.Errorf("usage: %v", err)
	}
	rc := testRC(t, "openai-api-key", oaiOld)
	rc.Params["api_base"] = prism.URL
	if ok, _, err := openai.check(ctx, p, rc, redactNew(oaiNew)); err != nil || !ok {
		t.Errorf("GET /models: %v %v", ok, err)
	}
	if t.Failed() {
		t.Logf("prism output:\n%s", prism.Output())
	}
}
