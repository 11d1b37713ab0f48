package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Cohere API keys: created and deleted by a human in the Cohere dashboard
// (dashboard.cohere.com/api-keys). Verification uses Cohere's key-check
// endpoint, POST /v1/check-api-key (docs.cohere.com/reference/check-api-key),
// which answers {"valid": bool, "organization_id", "owner_id"}.
var cohere = func() *service {
	s := &service{name: "cohere", title: "Cohere", base: "https://api.cohere.com",
		console: "dashboard.cohere.com/api-keys"}
	s.check = func(ctx context.Context, p *Provider, rc *rotators.RunContext, key redact.Secret) (bool, string, error) {
		req, err := http.NewRequest(http.MethodPost, p.base(rc, s)+"/v1/check-api-key", nil)
		if err != nil {
			return false, "", err
		}
		bearer(req, string(key.Reveal()))
		status, body, err := p.do(ctx, req)
		ok, detail, err := checkResult("cohere check-api-key", status, body, err, nil, key)
		if err != nil || !ok {
			return ok, detail, err
		}
		v, err := parseCohereCheck(body)
		if err != nil {
			return false, "", err
		}
		if !v.Valid {
			return false, "check-api-key: valid=false", nil
		}
		return true, "organization " + v.OrganizationID, nil
	}
	return s
}()

type cohereCheck struct {
	Valid          bool   `json:"valid"`
	OrganizationID string `json:"organization_id"`
	OwnerID        string `json:"owner_id"`
}

// parseCohereCheck reads the key-check answer (untrusted input).
func parseCohereCheck(body []byte) (cohereCheck, error) {
	var v struct {
		Valid          *bool  `json:"valid"`
		OrganizationID string `json:"organization_id"`
		OwnerID        string `json:"owner_id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Valid == nil {
		return cohereCheck{}, fmt.Errorf("cohere check-api-key: unexpected answer (no \"valid\" field)")
	}
	return cohereCheck{Valid: *v.Valid, OrganizationID: clip(v.OrganizationID), OwnerID: clip(v.OwnerID)}, nil
}

// clip bounds and cleans an identifier copied from a provider's answer.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	out := []rune{}
	for _, r := range s {
		if r >= 0x20 && r != 0x7f {
			out = append(out, r)
		}
	}
	return string(out)
}
