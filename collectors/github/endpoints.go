package github

import (
	"net/http"
	"strings"
)

// Endpoint is one GitHub REST operation Tourniquet may send. Endpoints is
// the whole list: the client's transport refuses any API request that
// matches none of them, and the Prism test sends every one of them to
// GitHub's official OpenAPI description and fails on a validation error. A
// new call therefore starts here.
type Endpoint struct {
	// ID is the operationId in GitHub's OpenAPI description
	// (@octokit/openapi), which the spec test checks against Method and Path.
	ID     string
	Method string
	// Path is the description's template; "{path}" (repos/get-content)
	// matches the rest of the URL path, other parameters one segment.
	Path string
	// Anonymous endpoints are sent without a token (credentials/revoke
	// refuses authenticated requests with 403).
	Anonymous bool
	// Spec names the description that has the operation when it is not
	// api.github.com.json (the audit log is GitHub Enterprise Cloud only).
	Spec string
	// Use says who sends it, for the README and the report.
	Use string
}

// Endpoints is every GitHub API request the project can send.
var Endpoints = []Endpoint{
	// Identity and scopes of the token in use (and of a new token, in verify steps).
	{ID: "users/get-authenticated", Method: http.MethodGet, Path: "/user", Use: "scan: whose token, which scopes; github-token verify"},

	// Evidence.
	{ID: "repos/list-for-org", Method: http.MethodGet, Path: "/orgs/{org}/repos", Use: "scan --github-org: every repository"},
	{ID: "repos/list-for-user", Method: http.MethodGet, Path: "/users/{username}/repos", Use: "scan --github-user (another user): public repositories"},
	{ID: "repos/list-for-authenticated-user", Method: http.MethodGet, Path: "/user/repos", Use: "scan --github-user (the token's own user): owned repositories, private included"},
	{ID: "repos/get-content", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/contents/{path}", Use: "scan: .github/workflows listing and files (also at a run's head SHA)"},
	{ID: "actions/list-workflow-runs-for-repo", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/runs", Use: "scan: runs inside the pack windows"},
	{ID: "actions/download-workflow-run-logs", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/runs/{run_id}/logs", Use: "scan: a run's logs (302 to a zip)"},
	{ID: "actions/list-jobs-for-workflow-run", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", Use: "scan: jobs of a run whose zip is unavailable"},
	{ID: "actions/download-job-logs-for-workflow-run", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs", Use: "scan: one job's log (302 to text)"},
	{ID: "actions/list-repo-secrets", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/secrets", Use: "scan: repository secrets a run could read"},
	{ID: "actions/list-repo-organization-secrets", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/organization-secrets", Use: "scan: organization secrets shared with the repository"},
	{ID: "repos/get-all-environments", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/environments", Use: "scan: environments whose secrets a run could read"},
	{ID: "actions/list-environment-secrets", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/environments/{environment_name}/secrets", Use: "scan: environment secrets"},
	{ID: "repos/list-deploy-keys", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/keys", Use: "scan: deploy keys with creation dates; deploy-key playbook"},
	{ID: "users/list-public-ssh-keys-for-authenticated-user", Method: http.MethodGet, Path: "/user/keys", Use: "scan: the user's SSH keys with creation dates; ssh-key playbook"},
	{ID: "orgs/get-audit-log", Method: http.MethodGet, Path: "/orgs/{org}/audit-log", Spec: "ghec", Use: "scan --github-org: audit log (Enterprise Cloud plans only)"},

	// Rotation.
	{ID: "credentials/revoke", Method: http.MethodPost, Path: "/credentials/revoke", Anonymous: true, Use: "github-token: revoke the exposed token"},
	{ID: "repos/create-deploy-key", Method: http.MethodPost, Path: "/repos/{owner}/{repo}/keys", Use: "deploy-key: add the new key"},
	{ID: "repos/get-deploy-key", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/keys/{key_id}", Use: "deploy-key: verify the new key"},
	{ID: "repos/delete-deploy-key", Method: http.MethodDelete, Path: "/repos/{owner}/{repo}/keys/{key_id}", Use: "deploy-key: remove a lost or the old key"},
	{ID: "users/create-public-ssh-key-for-authenticated-user", Method: http.MethodPost, Path: "/user/keys", Use: "ssh-key: add the new key"},
	{ID: "users/get-public-ssh-key-for-authenticated-user", Method: http.MethodGet, Path: "/user/keys/{key_id}", Use: "ssh-key: verify the new key"},
	{ID: "users/delete-public-ssh-key-for-authenticated-user", Method: http.MethodDelete, Path: "/user/keys/{key_id}", Use: "ssh-key: remove a lost or the old key"},
	{ID: "actions/get-repo-public-key", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/secrets/public-key", Use: "actions-secret and sinks: the key new values are sealed with"},
	{ID: "actions/get-repo-secret", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/actions/secrets/{secret_name}", Use: "actions-secret: updated_at before and after the write"},
	{ID: "actions/create-or-update-repo-secret", Method: http.MethodPut, Path: "/repos/{owner}/{repo}/actions/secrets/{secret_name}", Use: "actions-secret and sinks: write the sealed value"},
	{ID: "actions/get-environment-public-key", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key", Use: "actions-secret (environment)"},
	{ID: "actions/get-environment-secret", Method: http.MethodGet, Path: "/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}", Use: "actions-secret (environment)"},
	{ID: "actions/create-or-update-environment-secret", Method: http.MethodPut, Path: "/repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}", Use: "actions-secret (environment)"},
	{ID: "actions/get-org-public-key", Method: http.MethodGet, Path: "/orgs/{org}/actions/secrets/public-key", Use: "actions-secret (organization)"},
	{ID: "actions/get-org-secret", Method: http.MethodGet, Path: "/orgs/{org}/actions/secrets/{secret_name}", Use: "actions-secret (organization)"},
	{ID: "actions/create-or-update-org-secret", Method: http.MethodPut, Path: "/orgs/{org}/actions/secrets/{secret_name}", Use: "actions-secret (organization)"},
}

// EndpointByID returns the endpoint with an operationId.
func EndpointByID(id string) (Endpoint, bool) {
	for _, e := range Endpoints {
		if e.ID == id {
			return e, true
		}
	}
	return Endpoint{}, false
}

// MatchEndpoint finds the endpoint a request is for: method and path (below
// the API base path, unescaped). Literal segments win over parameters, so
// .../secrets/public-key is never taken for a secret named public-key.
func MatchEndpoint(method, path string) (Endpoint, bool) {
	segs := splitPath(path)
	best, bestScore := Endpoint{}, -1
	for _, e := range Endpoints {
		if e.Method != method {
			continue
		}
		if score, ok := matchTemplate(splitPath(e.Path), segs); ok && score > bestScore {
			best, bestScore = e, score
		}
	}
	return best, bestScore >= 0
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchTemplate reports whether segs fit the template and how many literal
// segments matched.
func matchTemplate(tmpl, segs []string) (int, bool) {
	score := 0
	for i, t := range tmpl {
		if t == "{path}" && i == len(tmpl)-1 {
			// The content path: one or more segments.
			if len(segs) <= i {
				return 0, false
			}
			for _, s := range segs[i:] {
				if s == "" || s == "." || s == ".." {
					return 0, false
				}
			}
			return score, true
		}
		if i >= len(segs) || segs[i] == "" {
			return 0, false
		}
		if strings.HasPrefix(t, "{") {
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		score++
	}
	return score, len(segs) == len(tmpl)
}
