import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HandlerRequest } from "../../contracts/index.js";

const completed = (content: string) => ({
  event_type: "chat_completed",
  payload: {
    message: { role: "assistant", content },
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  },
});

/**
 * A handler service (the HTTP handler contract over real HTTP) whose answers the test decides.
 * The last user message picks the behaviour: `poison` (422), `flaky` (503 on the first attempt),
 * `hold…` (no answer until {@link release}, or until the worker gives up on the call), `hold
 * once…` (held on the first attempt only, then answered like the rest), anything else: its words as deltas, then completed.
 * Requests and their headers are recorded.
 */
export class HoldHandlerService {
  readonly calls: { body: HandlerRequest; headers: IncomingHttpHeaders; aborted: boolean }[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly waiting = new Set<() => void>();
  private server: Server | null = null;
  url = "";

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      let raw = "";
      for await (const d of req) raw += d;
      const body = JSON.parse(raw) as HandlerRequest;
      const call = { body, headers: req.headers, aborted: false };
      this.calls.push(call);
      const text = (body.payload as { messages: { content: string }[] }).messages.at(-1)!.content;
      const attempt = (this.attempts.get(body.message_id) ?? 0) + 1;
      this.attempts.set(body.message_id, attempt);
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(v));
      };
      if (text === "poison") return json(422, { detail: "payload version not supported" });
      if (text === "flaky" && attempt === 1) return json(503, { detail: "warming up" });
      if (text === "flaky") return json(200, { events: [completed("recovered")] });
      if (text.startsWith("hold") && !(text.startsWith("hold once") && attempt > 1)) {
        await new Promise<void>((resolve) => {
          this.waiting.add(resolve);
          res.once("close", () => {
            call.aborted = !res.writableEnded;
            this.waiting.delete(resolve);
            resolve();
          });
        });
        if (res.destroyed) return;
        return json(200, { events: [completed("released")] });
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const w of text.split(" ")) {
        res.write(
          `data: ${JSON.stringify({ event_type: "chat_delta", payload: { content: `${w} ` } })}\n\n`,
        );
      }
      res.end(`data: ${JSON.stringify(completed(text))}\n\n`);
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/handle`;
    return this;
  }

  /** Calls held right now. */
  get held(): number {
    return this.waiting.size;
  }

  /** Answers every held call. */
  release(): void {
    for (const r of [...this.waiting]) r();
    this.waiting.clear();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
