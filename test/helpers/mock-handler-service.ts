import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HandlerRequest } from "../../contracts/index.js";

const completed = (content: string) => ({
  event_type: "chat_completed",
  payload: {
    message: { role: "assistant", content },
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  },
});
const delta = (content: string) => ({ event_type: "chat_delta", payload: { content } });

interface ActionPayload {
  action: string;
  input: { path: string; content: string; selection?: { start: object; end: object } };
}

/**
 * What the service answers an editor action: text, an edit replacing the selection with
 * `reviewed`, a diagnostic on line 0, then `chat_completed` without the lists (the worker
 * completes them from the deltas).
 */
export function actionEvents(p: ActionPayload) {
  const start = { line: 0, character: 0 };
  const range = p.input.selection ?? { start, end: start };
  return [
    delta(`${p.action} by the service`),
    {
      event_type: "chat_delta",
      payload: { edits: [{ path: p.input.path, range, replacement: "reviewed" }] },
    },
    {
      event_type: "chat_delta",
      payload: {
        diagnostics: [
          {
            range: { start, end: { line: 0, character: 1 } },
            severity: "error",
            message: "from the service",
            code: "svc1",
          },
        ],
      },
    },
    completed(`${p.action} by the service`),
  ];
}

/**
 * A handler service over real HTTP implementing the handler contract, like a user's FastAPI
 * app. The last user message picks the behaviour: `json`, `sse`, `ndjson`, `409`, `422`,
 * `flaky` (500 once, then 200), `slow` (too slow once, then 200). An `editor_action` command is
 * answered by {@link actionEvents}. Requests are recorded.
 */
export class MockHandlerService {
  readonly requests: HandlerRequest[] = [];
  private readonly seen = new Map<string, number>();
  private server: Server | null = null;
  url = "";

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      let raw = "";
      for await (const d of req) raw += d;
      const body = JSON.parse(raw) as HandlerRequest;
      this.requests.push(body);
      if (body.event_type === "editor_action") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const e of actionEvents(body.payload as ActionPayload))
          res.write(`data: ${JSON.stringify(e)}\n\n`);
        return res.end();
      }
      const payload = body.payload as { messages: { content: string }[] };
      const mode = payload.messages.at(-1)!.content;
      const attempt = (this.seen.get(body.message_id) ?? 0) + 1;
      this.seen.set(body.message_id, attempt);
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(v));
      };
      switch (mode) {
        case "json":
          return json(200, { events: [delta("from "), delta("json"), completed("from json")] });
        case "sse":
          res.writeHead(200, { "content-type": "text/event-stream" });
          for (const e of [delta("from "), delta("sse")])
            res.write(`data: ${JSON.stringify(e)}\n\n`);
          return res.end(`data: ${JSON.stringify(completed("from sse"))}\n\n`);
        case "ndjson":
          res.writeHead(200, { "content-type": "application/x-ndjson" });
          // No terminal event: the worker completes the answer from the deltas.
          return res.end(
            [delta("from "), delta("ndjson")].map((e) => JSON.stringify(e)).join("\n"),
          );
        case "409":
          return json(409, { detail: "already processed" });
        case "422":
          return json(422, { detail: "payload version not supported" });
        case "flaky":
          return attempt === 1
            ? json(503, { detail: "warming up" })
            : json(200, { events: [completed("recovered")] });
        case "slow":
          if (attempt === 1) await new Promise((r) => setTimeout(r, 1_500));
          return json(200, { events: [completed("in time")] });
        default:
          return json(400, { detail: `unknown mode ${mode}` });
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/handle`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
