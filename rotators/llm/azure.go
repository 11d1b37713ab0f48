package llm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
)

// Azure OpenAI resource keys. A resource has two keys, key1 and key2, so
// that one can be regenerated while apps use the other (learn.microsoft.com,
// "Rotate keys in Azure AI services"). Regenerating is done by a human with
// `az cognitiveservices account keys regenerate --name NAME -g RG
// --key-name key2|key1` or in the portal; this playbook guides it and
// verifies each key against the resource's data plane, GET
// {endpoint}/openai/models?api-version=2024-10-21 with the api-key header
// (Azure OpenAI REST reference, Models - List).
var azure = func() *service {
	s := &service{name: "azure", title: "Azure OpenAI",
		console: "the Azure portal (resource > Keys and Endpoint) or `az cognitiveservices account keys regenerate`"}
	s.resolve = azureEndpoint
	s.check = simpleCheck(s, "azure openai list models", http.MethodGet, "/openai/models?api-version=2024-10-21",
		func(r *http.Request, key string) { r.Header.Set("api-key", key) }, nil)
	return s
}()

// azureEndpointVars name the resource endpoint next to the key in .env files.
var azureEndpointVars = []string{"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_BASE", "AZURE_API_BASE", "AZURE_OPENAI_BASE_URL"}

// azureEndpoint is --param api_base, else the endpoint variable of the .env
// file the key was found in (an endpoint is not a secret).
func azureEndpoint(_ *Provider, rc *rotators.RunContext) (string, error) {
	ep := rc.Param("api_base")
	if ep == "" {
		if file, ok := sourceFile(rc); ok && isDotenvName(rc.Credential.Path) {
			for _, v := range azureEndpointVars {
				if s, err := (sinks.Dotenv{Path: file, Var: v}).Current(context.Background()); err == nil {
					ep = string(s.Reveal())
					break
				}
			}
		}
	}
	if ep == "" {
		return "", errors.New("the Azure OpenAI endpoint is unknown: pass --param api_base=https://RESOURCE.openai.azure.com")
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("the Azure OpenAI endpoint is not an http(s) URL: pass --param api_base=https://RESOURCE.openai.azure.com")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+strings.TrimSuffix(u.Path, "/openai"), "/"), nil
}
