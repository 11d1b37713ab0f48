// Drives the gateway with the official OpenAI and Anthropic Node SDKs and
// prints one JSON line per check: {"check": name, "ok": bool, "detail": ...}.
// The Go test (gateway/sdk_test.go) starts the gateway and judges the lines.
import { createRequire } from "node:module";

const require = createRequire(process.env.SDK_DIR + "/package.json");
const OpenAI = require("openai").default ?? require("openai");
const Anthropic = require("@anthropic-ai/sdk").default ?? require("@anthropic-ai/sdk");

const base = process.env.GATEWAY_URL;
const key = process.env.GATEWAY_KEY;
const scoped = process.env.GATEWAY_SCOPED_KEY; // may use gpt-4o only
const limited = process.env.GATEWAY_LIMITED_KEY; // 1 request per minute

const oa = (k) => new OpenAI({ baseURL: base + "/v1", apiKey: k, maxRetries: 0, timeout: 20000 });
const an = (k) => new Anthropic({ baseURL: base, apiKey: k, maxRetries: 0, timeout: 20000 });

function report(check, ok, detail) {
  process.stdout.write(JSON.stringify({ check, ok: !!ok, detail: detail ?? null }) + "\n");
}

async function check(name, fn) {
  try {
    const detail = await fn();
    report(name, true, detail);
  } catch (e) {
    report(name, false, String(e && e.stack ? e.stack : e));
  }
}

// expectError resolves with the SDK's error when fn fails as wanted.
async function expectError(fn, cls, status) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`wanted ${cls.name}, got ${e && e.constructor && e.constructor.name}: ${e}`);
    if (e.status !== status) throw new Error(`wanted status ${status}, got ${e.status}`);
    return { status: e.status, type: e.error?.type ?? e.error?.error?.type ?? null, retryAfter: e.headers?.get?.("retry-after") ?? e.headers?.["retry-after"] ?? null };
  }
  throw new Error("the call succeeded");
}

const msgs = [{ role: "user", content: "hello" }];

await check("openai.models.list", async () => {
  const ids = [];
  for await (const m of oa(key).models.list()) ids.push(m.id);
  if (!ids.includes("gpt-4o")) throw new Error("gpt-4o missing from " + ids);
  return ids;
});

await check("openai.chat", async () => {
  const r = await oa(key).chat.completions.create({ model: "gpt-4o", messages: msgs });
  const text = r.choices[0].message.content;
  if (!text) throw new Error("empty answer");
  if (!r.usage || r.usage.total_tokens <= 0) throw new Error("no usage");
  return { text, usage: r.usage };
});

await check("openai.chat.stream", async () => {
  const stream = await oa(key).chat.completions.create({ model: "gpt-4o", messages: msgs, stream: true });
  let chunks = 0, text = "";
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta?.content ?? "";
  }
  if (chunks < 20) throw new Error(`only ${chunks} chunks`);
  return { chunks, text };
});

await check("openai.embeddings", async () => {
  const r = await oa(key).embeddings.create({ model: "text-embedding-3-small", input: "hello" });
  if (!r.data.length || !r.data[0].embedding.length) throw new Error("no embedding");
  return { dims: r.data[0].embedding.length };
});

await check("openai.chat.translated", async () => {
  const r = await oa(key).chat.completions.create({ model: "claude-via-openai", messages: msgs, max_tokens: 50 });
  if (!r.choices[0].message.content) throw new Error("empty answer");
  return { text: r.choices[0].message.content, finish: r.choices[0].finish_reason };
});

await check("openai.chat.translated.stream", async () => {
  const stream = await oa(key).chat.completions.create({ model: "claude-via-openai", messages: msgs, max_tokens: 50, stream: true });
  let chunks = 0, text = "";
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta?.content ?? "";
  }
  if (chunks < 20 || !text) throw new Error(`only ${chunks} chunks, text ${JSON.stringify(text)}`);
  return { chunks };
});

await check("openai.error.wrong_key", () => expectError(() => oa("tqv-not-a-key").chat.completions.create({ model: "gpt-4o", messages: msgs }), OpenAI.AuthenticationError, 401));
await check("openai.error.provider_key_refused", () => expectError(() => oa(process.env.UPSTREAM_KEY).chat.completions.create({ model: "gpt-4o", messages: msgs }), OpenAI.AuthenticationError, 401));
await check("openai.error.out_of_scope", () => expectError(() => oa(scoped).chat.completions.create({ model: "claude-via-openai", messages: msgs }), OpenAI.PermissionDeniedError, 403));
await check("openai.error.unknown_model", () => expectError(() => oa(key).chat.completions.create({ model: "no-such-model", messages: msgs }), OpenAI.NotFoundError, 404));
await check("openai.error.rate_limited", async () => {
  await oa(limited).chat.completions.create({ model: "gpt-4o", messages: msgs });
  const e = await expectError(() => oa(limited).chat.completions.create({ model: "gpt-4o", messages: msgs }), OpenAI.RateLimitError, 429);
  if (!e.retryAfter) throw new Error("no Retry-After");
  return e;
});

await check("anthropic.messages", async () => {
  const r = await an(key).messages.create({ model: "claude-sonnet", max_tokens: 50, messages: msgs });
  if (r.content[0].type !== "text" || !r.content[0].text) throw new Error("no text block");
  if (r.usage.input_tokens <= 0) throw new Error("no usage");
  return { text: r.content[0].text, usage: r.usage };
});

await check("anthropic.messages.stream", async () => {
  const stream = an(key).messages.stream({ model: "claude-sonnet", max_tokens: 50, messages: msgs });
  let deltas = 0;
  stream.on("text", () => deltas++);
  const final = await stream.finalMessage();
  if (deltas < 20) throw new Error(`only ${deltas} text deltas`);
  if (final.stop_reason !== "end_turn") throw new Error("stop_reason " + final.stop_reason);
  return { deltas, output_tokens: final.usage.output_tokens };
});

await check("anthropic.error.wrong_key", () => expectError(() => an("tqv-not-a-key").messages.create({ model: "claude-sonnet", max_tokens: 5, messages: msgs }), Anthropic.AuthenticationError, 401));
await check("anthropic.error.out_of_scope", () => expectError(() => an(scoped).messages.create({ model: "claude-sonnet", max_tokens: 5, messages: msgs }), Anthropic.PermissionDeniedError, 403));
await check("anthropic.error.oversize", () => expectError(() => an(key).messages.create({ model: "claude-sonnet", max_tokens: 5, messages: [{ role: "user", content: "x".repeat(5 << 20) }] }), Anthropic.APIError, 413));
