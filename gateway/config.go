// Package gateway is Tourniquet's embedded LLM gateway, built the other way
// round from the router that was compromised: apps hold scoped virtual keys,
// only the gateway holds provider keys (in its encrypted keystore), a route
// moves to a new provider key only after a canary request with it succeeds,
// and every decision and request's metadata goes to the audit chain.
package gateway

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/tourniquet-ir/tourniquet/store"
)

// DefaultAllowedHosts are the upstreams a route may point at without
// --allow-host: the providers' public API hosts. Loopback is always allowed
// (local models, tests); everything else must be named.
var DefaultAllowedHosts = []string{
	"api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com", "api.mistral.ai",
	"api.cohere.com", "api.cohere.ai", "api.groq.com", "openrouter.ai",
}

// AllowList decides which upstream URLs routes may use.
type AllowList struct{ hosts map[string]bool }

// NewAllowList adds extra hosts to the defaults.
func NewAllowList(extra []string) AllowList {
	a := AllowList{hosts: map[string]bool{}}
	for _, h := range append(append([]string{}, DefaultAllowedHosts...), extra...) {
		a.hosts[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return a
}

// Check validates a base URL: https to an allowed host, or http(s) to
// loopback; no user info, query or fragment.
func (a AllowList) Check(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", raw, err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return nil, fmt.Errorf("upstream %q: a base URL has a scheme and host, and no credentials, query or fragment", raw)
	}
	host := strings.ToLower(u.Hostname())
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case loopback && (u.Scheme == "http" || u.Scheme == "https"):
	case u.Scheme != "https":
		return nil, fmt.Errorf("upstream %q: only https is allowed for non-loopback hosts", raw)
	case !a.hosts[host]:
		return nil, fmt.Errorf("upstream %q: host %s is not on the allow-list (add it with --allow-host)", raw, host)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// ValidateRoute checks a route before it is stored or served.
func (a AllowList) ValidateRoute(r store.GatewayRoute) error {
	if r.Model == "" || r.KeyRef == "" {
		return fmt.Errorf("route: model and key reference are required")
	}
	switch r.Provider {
	case "openai", "anthropic":
	default:
		return fmt.Errorf("route %s: provider must be openai (and OpenAI-compatible) or anthropic", r.Model)
	}
	if r.Translate && r.Provider != "anthropic" {
		return fmt.Errorf("route %s: translation is from the OpenAI format to Anthropic; the provider must be anthropic", r.Model)
	}
	_, err := a.Check(r.BaseURL)
	return err
}
