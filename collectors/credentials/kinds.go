package credentials

// Credential kinds. The first thirteen are the architecture's list; the rest
// name providers precisely enough to pick a rotation playbook.
const (
	KindAWSAccessKey     = "aws-access-key"
	KindSSHPrivateKey    = "ssh-private-key"
	KindGitHubToken      = "github-token"
	KindOpenAIAPIKey     = "openai-api-key"
	KindAnthropicAPIKey  = "anthropic-api-key"
	KindKubeconfig       = "kubeconfig"
	KindGCPCredentials   = "gcp-credentials"
	KindAzureCredentials = "azure-credentials"
	KindDockerAuth       = "docker-auth"
	KindNPMToken         = "npm-token"
	KindPyPIToken        = "pypi-token"
	KindLiteLLMMasterKey = "litellm-master-key"
	KindGenericSecret    = "generic-secret"
	KindSlackToken       = "slack-token"
	KindSlackWebhook     = "slack-webhook"
	KindGoogleAPIKey     = "google-api-key"
	KindGitLabToken      = "gitlab-token"
	KindHuggingFaceToken = "huggingface-token"
	KindGroqAPIKey       = "groq-api-key"
	KindOpenRouterAPIKey = "openrouter-api-key"
	KindMistralAPIKey    = "mistral-api-key"
	KindCohereAPIKey     = "cohere-api-key"
	KindAzureOpenAIKey   = "azure-openai-key"
	KindDatabasePassword = "database-password"
	KindVaultToken       = "vault-token"
	KindTLSPrivateKey    = "tls-private-key"
	KindGitCredentials   = "git-credentials"
)

// Kinds lists every kind this package reports, in a stable order.
func Kinds() []string {
	return []string{
		KindAWSAccessKey, KindSSHPrivateKey, KindGitHubToken, KindOpenAIAPIKey,
		KindAnthropicAPIKey, KindKubeconfig, KindGCPCredentials, KindAzureCredentials,
		KindDockerAuth, KindNPMToken, KindPyPIToken, KindLiteLLMMasterKey,
		KindGenericSecret, KindSlackToken, KindSlackWebhook, KindGoogleAPIKey,
		KindGitLabToken, KindHuggingFaceToken, KindGroqAPIKey, KindOpenRouterAPIKey,
		KindMistralAPIKey, KindCohereAPIKey, KindAzureOpenAIKey, KindDatabasePassword,
		KindVaultToken, KindTLSPrivateKey, KindGitCredentials,
	}
}
