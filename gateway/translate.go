package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// openAIRequest is the part of a chat completion request we translate.
type openAIRequest struct {
	Model               string          `json:"model"`
	Messages            []openAIMessage `json:"messages"`
	MaxTokens           int             `json:"max_tokens"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Stop                json.RawMessage `json:"stop,omitempty"`
	Stream              bool            `json:"stream"`
}

type openAIMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type anthropicMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// text flattens OpenAI content (a string, or text parts) to a string.
func text(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("message content must be a string or text parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("content part %q cannot be translated to Anthropic; use the Anthropic endpoint", p.Type)
		}
		b.WriteString(p.Text)
	}
	return b.String(), nil
}

// toAnthropic turns an OpenAI chat completion request into a Messages API
// request: system messages become the system prompt, stop becomes
// stop_sequences, and max_tokens (required by Anthropic) defaults to 1024.
func toAnthropic(body []byte, upstreamModel string) ([]byte, error) {
	var in openAIRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	out := map[string]any{"model": in.Model, "stream": in.Stream}
	if upstreamModel != "" {
		out["model"] = upstreamModel
	}
	max := in.MaxCompletionTokens
	if max == 0 {
		max = in.MaxTokens
	}
	if max == 0 {
		max = 1024
	}
	out["max_tokens"] = max
	if in.Temperature != nil {
		out["temperature"] = *in.Temperature
	}
	if in.TopP != nil {
		out["top_p"] = *in.TopP
	}
	if len(in.Stop) > 0 {
		var one string
		var many []string
		switch {
		case json.Unmarshal(in.Stop, &one) == nil:
			out["stop_sequences"] = []string{one}
		case json.Unmarshal(in.Stop, &many) == nil:
			out["stop_sequences"] = many
		}
	}
	var system []string
	var msgs []anthropicMessage
	for _, m := range in.Messages {
		t, err := text(m.Content)
		if err != nil {
			return nil, fmt.Errorf("translate: %w", err)
		}
		switch m.Role {
		case "system", "developer":
			system = append(system, t)
		case "user", "assistant":
			msgs = append(msgs, anthropicMessage{Role: m.Role, Content: t})
		default:
			return nil, fmt.Errorf("translate: role %q cannot be translated to Anthropic", m.Role)
		}
	}
	if len(system) > 0 {
		out["system"] = strings.Join(system, "\n\n")
	}
	out["messages"] = msgs
	return json.Marshal(out)
}

var stopReasons = map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}

func finishReason(r string) string {
	if f, ok := stopReasons[r]; ok {
		return f
	}
	return "stop"
}

// fromAnthropic turns a Messages API answer into a chat completion.
func fromAnthropic(b []byte, model string) ([]byte, usage, error) {
	var in struct {
		ID      string `json:"id"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		StopReason string `json:"stop_reason"`
		Usage      struct {
			Input  int `json:"input_tokens"`
			Output int `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, usage{}, fmt.Errorf("translate: the upstream answer is not a Messages API response")
	}
	var t strings.Builder
	for _, c := range in.Content {
		if c.Type == "text" {
			t.WriteString(c.Text)
		}
	}
	u := usage{prompt: in.Usage.Input, completion: in.Usage.Output}
	out := map[string]any{
		"id": "chatcmpl-" + strings.TrimPrefix(in.ID, "msg_"), "object": "chat.completion", "created": time.Now().Unix(), "model": model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": t.String()},
			"finish_reason": finishReason(in.StopReason), "logprobs": nil}},
		"usage": map[string]int{"prompt_tokens": u.prompt, "completion_tokens": u.completion, "total_tokens": u.prompt + u.completion},
	}
	res, err := json.Marshal(out)
	return res, u, err
}

// translateStream turns Anthropic stream events into OpenAI chunks.
func translateStream(w http.ResponseWriter, body io.Reader, model string) usage {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	id := "chatcmpl-tq"
	created := time.Now().Unix()
	var u usage
	emit := func(delta map[string]any, finish any) {
		chunk := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		b, _ := json.Marshal(chunk)
		w.Write([]byte("data: "))
		w.Write(b)
		w.Write([]byte("\n\n"))
		if fl != nil {
			fl.Flush()
		}
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("data:")) {
			continue
		}
		var ev struct {
			Type    string `json:"type"`
			Message struct {
				ID    string `json:"id"`
				Usage struct {
					Input int `json:"input_tokens"`
				} `json:"usage"`
			} `json:"message"`
			Delta struct {
				Type       string `json:"type"`
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage struct {
				Output int `json:"output_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(bytes.TrimSpace(line[5:]), &ev) != nil {
			continue
		}
		switch ev.Type {
		case "message_start":
			if ev.Message.ID != "" {
				id = "chatcmpl-" + strings.TrimPrefix(ev.Message.ID, "msg_")
			}
			u.prompt = ev.Message.Usage.Input
			emit(map[string]any{"role": "assistant", "content": ""}, nil)
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" {
				emit(map[string]any{"content": ev.Delta.Text}, nil)
			}
		case "message_delta":
			u.completion = ev.Usage.Output
			emit(map[string]any{}, finishReason(ev.Delta.StopReason))
		}
	}
	w.Write([]byte("data: [DONE]\n\n"))
	if fl != nil {
		fl.Flush()
	}
	return u
}
