// Package github rotates GitHub credentials as playbook actions: tokens
// (revoked through POST /credentials/revoke, replaced by the operator,
// verified, delivered), deploy keys and user SSH keys (ed25519 generated
// here), and Actions secrets (sealed with the scope's public key). Calls go
// out with the operator's own token (GH_TOKEN, GITHUB_TOKEN or gh's
// hosts.yml on this machine), never with one read from a scanned root; the
// revocation endpoint takes no token at all.
//
// Every request goes through collectors/github.Client, whose transport sends
// only the requests listed in its Endpoints.
package github

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"golang.org/x/crypto/nacl/box"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Options are the operator's GitHub settings.
type Options struct {
	// APIURL is the REST API root (--github-api-url; default GitHub.com).
	APIURL string
	// Token finds the operator's token; nil means the environment
	// (GH_TOKEN, GITHUB_TOKEN, gh's hosts.yml).
	Token func() (ghc.TokenSource, error)
	// Client, when set, builds the API client (tests: fast sleeps).
	Client func(o ghc.ClientOptions) (*ghc.Client, error)
}

// Provider holds the settings; clients are built per call so that a step
// can act with another token (the new one, in verification).
type Provider struct{ o Options }

// New returns a provider.
func New(o Options) *Provider {
	if o.Client == nil {
		o.Client = ghc.NewClient
	}
	return &Provider{o: o}
}

// client acts with the operator's token.
func (p *Provider) client(rc *rotators.RunContext) (*ghc.Client, error) {
	if p.o.Token == nil {
		return nil, fmt.Errorf("%w: no GitHub token source configured", rotators.ErrAuth)
	}
	ts, err := p.o.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", rotators.ErrAuth, err)
	}
	return p.clientWith(rc, ts.Token)
}

// clientWith acts with a given token (zero: anonymous).
func (p *Provider) clientWith(rc *rotators.RunContext, tok redact.Secret) (*ghc.Client, error) {
	note := func(string, ...any) {}
	if rc != nil && rc.Note != nil {
		note = rc.Note
	}
	return p.o.Client(ghc.ClientOptions{BaseURL: p.o.APIURL, Token: tok, Note: note})
}

// classify maps an API failure for the engine: rate limits, 5xx and network
// errors are transient (retry, then pause); 401 and 403 are authentication
// or permission refusals (exit 4). Token-shaped text is already scrubbed.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	wrapped := fmt.Errorf("%s: %w", op, err)
	if ghc.Retryable(err) {
		return rotators.Transient(wrapped)
	}
	switch ghc.Status(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", rotators.ErrAuth, wrapped)
	}
	return wrapped
}

// seal encrypts a value for an Actions secret: a libsodium sealed box to
// the scope's public key, base64-encoded, as GitHub requires.
func seal(publicKeyB64 string, value []byte) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(publicKeyB64)
	if err != nil || len(raw) != 32 {
		return "", errors.New("the secrets public key is not 32 bytes of base64")
	}
	var pk [32]byte
	copy(pk[:], raw)
	out, err := box.SealAnonymous(nil, value, &pk, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// ParseSecretRef reads an Actions secret reference: OWNER/REPO/NAME,
// OWNER/REPO/env:ENV/NAME or org:ORG/NAME; also the collector's paths
// (github:OWNER/REPO/repo/NAME, github:OWNER/REPO/env:ENV/NAME,
// github:ORG/org/NAME).
func ParseSecretRef(s string) (ghc.SecretScope, string, error) {
	s = strings.TrimPrefix(s, "github:")
	parts := strings.Split(s, "/")
	bad := fmt.Errorf("secret reference %q: want OWNER/REPO/NAME, OWNER/REPO/env:ENV/NAME or org:ORG/NAME", s)
	for _, p := range parts {
		if p == "" {
			return ghc.SecretScope{}, "", bad
		}
	}
	switch {
	case len(parts) == 2 && strings.HasPrefix(parts[0], "org:"):
		return ghc.SecretScope{Org: strings.TrimPrefix(parts[0], "org:")}, parts[1], nil
	case len(parts) == 3 && parts[1] == "org":
		return ghc.SecretScope{Org: parts[0]}, parts[2], nil
	case len(parts) == 3:
		return ghc.SecretScope{Owner: parts[0], Repo: parts[1]}, parts[2], nil
	case len(parts) == 4 && parts[2] == "repo":
		return ghc.SecretScope{Owner: parts[0], Repo: parts[1]}, parts[3], nil
	case len(parts) == 4 && strings.HasPrefix(parts[2], "env:"):
		return ghc.SecretScope{Owner: parts[0], Repo: parts[1], Env: strings.TrimPrefix(parts[2], "env:")}, parts[3], nil
	}
	return ghc.SecretScope{}, "", bad
}

// sourceFile is where the credential was found, on this machine: only
// targets scanned here (kind host, root /) qualify.
func sourceFile(rc *rotators.RunContext) (string, bool) {
	if rc.Host.Kind != "" && rc.Host.Kind != "host" {
		return "", false
	}
	if !strings.HasPrefix(rc.Credential.Path, "/") {
		return "", false
	}
	if rc.Host.Root == "" || rc.Host.Root == "/" {
		return rc.Credential.Path, true
	}
	return path.Join(rc.Host.Root, rc.Credential.Path), true
}

func orUnknown(s string) string {
	if s == "" {
		return "(decided at run time)"
	}
	return s
}

func varInt(rc *rotators.RunContext, name string) int64 {
	switch v := rc.Vars[name].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
