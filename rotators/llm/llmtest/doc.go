// Package llmtest holds the LLM providers' test peers: Stoplight Prism
// serving OpenAI's official OpenAPI description (it validates every request
// we send), and stateful fakes written from each provider's documentation
// (Prism is stateless; flows need state). An OpenAI fake can mirror every
// request to Prism, so that end-to-end flows are validated too.
package llmtest
