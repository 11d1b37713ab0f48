// Package ghtest provides real peers for tests of the GitHub collector and
// rotation playbooks.
//
// StartPrism runs Stoplight Prism (@stoplight/prism-cli 5.16.0) in
// validation mode (--errors) on GitHub's official OpenAPI description
// (@octokit/openapi 23.0.2), prepared by PrepareSpec: trimmed to the
// operations in collectors/github.Endpoints, webhooks dropped, and the
// schema rewrites without which Prism silently skips validation. Prism is
// stateless: it proves each request is valid.
//
// NewFake is a stateful GitHub of our own for multi-step flows and errors:
// repositories with workflows, runs and log archives, secrets sealed with
// real libsodium boxes, deploy and user keys, revocation, permissions, and
// injected faults (primary and secondary rate limits, 404, 422, 5xx).
package ghtest
