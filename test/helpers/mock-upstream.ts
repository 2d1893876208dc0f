import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A recorded upstream request. */
export interface UpstreamCall {
  body: Record<string, unknown>;
  aborted: boolean;
  finished: boolean;
}

const chunk = (
  id: string,
  model: string,
  delta: object,
  finish: string | null = null,
  logprobs: object | null = null,
) =>
  `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 1, model, choices: [{ index: 0, delta, logprobs, finish_reason: finish }] })}\n\n`;

/** The log probabilities an upstream sends with a piece of text when asked (`logprobs`). */
export function pieceLogprobs(piece: string, top: number) {
  const bytes = [...Buffer.from(piece)];
  const alternatives = Array.from({ length: top }, (_, i) => ({
    token: `${piece}~${i}`,
    logprob: -1 - i,
    bytes,
  }));
  return { content: [{ token: piece, logprob: -0.25, bytes, top_logprobs: alternatives }] };
}

/** A value matching a (simple) JSON Schema, as a model honouring `response_format` answers. */
export function valueFor(schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return valueFor(schema.anyOf[0] as Record<string, unknown>);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueFor(v)]));
    }
    case "array":
      return [valueFor((schema.items ?? {}) as Record<string, unknown>)];
    case "string":
      return "Paris";
    case "integer":
    case "number":
      return 42;
    case "boolean":
      return true;
    default:
      return null;
  }
}

/** The text a model honouring the request's `response_format` answers, or null for free text. */
function structuredAnswer(body: Record<string, unknown>): string | null {
  const format = body.response_format as
    { type: string; json_schema?: { schema?: Record<string, unknown> } } | undefined;
  if (format?.type === "json_schema") return JSON.stringify(valueFor(format.json_schema!.schema!));
  if (format?.type === "json_object") return JSON.stringify({ answer: "Paris" });
  return null;
}

/**
 * An OpenAI-compatible model server over real HTTP, outside the system under test. The
 * upstream model id picks the behaviour: `text`, `tools`, `reasoning`, `rate-limited`,
 * `broken`, `slow`, `slow-start`, `slow-tools`, `cut` (ends for length), `tool-turn` (asks
 * for the first tool offered, then answers with what it returned), and for editor actions `code-block` (an answer
 * holding one fenced block, split across chunks) and `diagnostics` (problem lines). `text`
 * honours `response_format` (JSON matching the schema, in pieces) and `logprobs` /
 * `top_logprobs` (each piece's). Every request is recorded, with whether the caller aborted it.
 */
export class MockUpstream {
  readonly calls: UpstreamCall[] = [];
  private server: Server | null = null;
  baseUrl = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const d of req) raw += d;
    const body = JSON.parse(raw) as Record<string, unknown>;
    const call: UpstreamCall = { body, aborted: false, finished: false };
    this.calls.push(call);
    res.on("close", () => (call.aborted = !res.writableFinished));
    const model = String(body.model);
    if (model === "rate-limited") {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
      res.end(JSON.stringify({ error: { message: "slow down", type: "rate_limit_error" } }));
      return;
    }
    if (model === "broken") {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "upstream exploded" } }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const id = "up-1";
    const w = (s: string) => res.write(s);
    w(chunk(id, model, { role: "assistant", content: "" }));
    if (model === "tools") {
      w(
        chunk(id, model, {
          tool_calls: [
            {
              index: 0,
              id: "call_a",
              type: "function",
              function: { name: "get_weather", arguments: "" },
            },
          ],
        }),
      );
      w(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
      w(
        chunk(id, model, {
          tool_calls: [
            {
              index: 1,
              id: "call_b",
              type: "function",
              function: { name: "get_time", arguments: "{}" },
            },
          ],
        }),
      );
      w(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
      w(chunk(id, model, {}, "tool_calls"));
    } else if (model === "tool-turn") {
      // A turn of an agent loop: ask for the first tool offered, then answer with its output.
      const messages = body.messages as { role: string; content?: unknown }[];
      const last = messages.at(-1);
      if (last?.role === "tool") {
        w(chunk(id, model, { content: `The tool said: ${String(last.content).trim()}` }));
        w(chunk(id, model, {}, "stop"));
      } else {
        const tools = (body.tools ?? []) as { function: { name: string } }[];
        const name = (tools.find((t) => t.function.name === "exec_command") ?? tools[0])!.function
          .name;
        const args = JSON.stringify(
          name === "exec_command" ? { cmd: "echo sea-tool-ran" } : { city: "Paris" },
        );
        w(
          chunk(id, model, {
            tool_calls: [
              { index: 0, id: "call_t1", type: "function", function: { name, arguments: "" } },
            ],
          }),
        );
        w(
          chunk(id, model, {
            tool_calls: [{ index: 0, function: { arguments: args.slice(0, 6) } }],
          }),
        );
        w(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: args.slice(6) } }] }));
        w(chunk(id, model, {}, "tool_calls"));
      }
    } else if (model === "cut") {
      w(chunk(id, model, { content: "This answer was" }));
      w(chunk(id, model, { content: " cut" }));
      w(chunk(id, model, {}, "length"));
    } else if (model === "slow-start" || model === "slow-tools") {
      // Nothing for a while (thinking), then, for slow-tools, a tool call in slow fragments.
      await new Promise((r) => setTimeout(r, model === "slow-start" ? 5_000 : 0));
      const fragments = ['{"q":', '"a', "b", "c", '"}'];
      w(
        chunk(id, model, {
          tool_calls: [
            {
              index: 0,
              id: "call_s",
              type: "function",
              function: { name: "search", arguments: "" },
            },
          ],
        }),
      );
      for (const f of fragments) {
        if (res.destroyed) break;
        await new Promise((r) => setTimeout(r, 300));
        w(chunk(id, model, { tool_calls: [{ index: 0, function: { arguments: f } }] }));
      }
      w(chunk(id, model, {}, "tool_calls"));
    } else if (model === "code-block" || model === "diagnostics") {
      const pieces =
        model === "code-block"
          ? ["Here it is:\n``", "`ts\nconst answer = ", "42; // 😀 漢字\n", "```\nShorter now."]
          : [
              "2: warning: vague requirement\n",
              "not a problem line\n",
              "3: error: contradicts line 2",
            ];
      for (const piece of pieces) w(chunk(id, model, { content: piece }));
      w(chunk(id, model, {}, "stop"));
    } else if (model === "slow") {
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        w(chunk(id, model, { content: `tick${i} ` }));
        await new Promise((r) => setTimeout(r, 100));
      }
      w(chunk(id, model, {}, "stop"));
    } else {
      if (model === "reasoning") {
        w(chunk(id, model, { reasoning_content: "Let me " }));
        w(chunk(id, model, { reasoning_content: "think." }));
      }
      const structured = structuredAnswer(body);
      const pieces = structured
        ? [structured.slice(0, 5), structured.slice(5)]
        : ["Hello", " from", " upstream."];
      const top = Number(body.top_logprobs ?? 0);
      for (const piece of pieces) {
        const logprobs = body.logprobs === true ? pieceLogprobs(piece, top) : null;
        w(chunk(id, model, { content: piece }, null, logprobs));
      }
      w(chunk(id, model, {}, "stop"));
    }
    w(
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 1, model, choices: [], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } })}\n\n`,
    );
    w("data: [DONE]\n\n");
    call.finished = true;
    res.end();
  }
}
