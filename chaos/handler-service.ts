/**
 * A handler service (the HTTP handler contract) for the chaos suite, in its own process, like a
 * user's FastAPI app: it streams SSE result events, sampling a new answer each time it is asked
 * (see lib/answers.ts). A prompt holding `poison` is refused with 422 (dead-lettered); during a
 * burst every call is refused with 503 (transient: redelivered); a message it already answered
 * in full gets 409, as the contract says. The plan is `<chunks>:<intervalMs>` (argv[3]).
 *
 * POST /control/burst?ms=N starts a 503 burst of N ms. GET /stats → `{ answered: { "<message
 * id>": n }, refused503: n, refused422: n }`: an `answered` count above 1 is a message whose
 * side effects ran twice, which the inbox exists to prevent.
 *
 * Usage: tsx chaos/handler-service.ts [port] [chunks:intervalMs]; prints `listening <port>`.
 */
import { createServer } from "node:http";
import { serveMock, withBody } from "../bench/lib/mock-server.js";
import { chunkText, tagOf } from "./lib/answers.js";

const port = Number(process.argv[2] ?? 0);
const [chunks, intervalMs] = (process.argv[3] ?? "20:50").split(":").map(Number) as [
  number,
  number,
];
const answered = new Map<string, number>();
const asks = new Map<string, number>();
let burstUntil = 0;
let refused503 = 0;
let refused422 = 0;

const event = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "GET" && url.pathname === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(
      JSON.stringify({ answered: Object.fromEntries(answered), refused503, refused422 }),
    );
  }
  if (req.method === "POST" && url.pathname === "/control/burst") {
    burstUntil = Date.now() + Number(url.searchParams.get("ms") ?? 0);
    res.writeHead(204);
    return res.end();
  }
  withBody(req, (body) => {
    const cmd = JSON.parse(body) as {
      message_id: string;
      payload: { messages: { content: string }[] };
    };
    const prompt = String(cmd.payload.messages.at(-1)?.content ?? "");
    const json = (status: number, detail: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail }));
    };
    if (prompt.includes("poison")) {
      refused422++;
      return json(422, "this payload can never be processed");
    }
    if (Date.now() < burstUntil) {
      refused503++;
      return json(503, "overloaded, try again");
    }
    if ((answered.get(cmd.message_id) ?? 0) > 0) return json(409, "already processed");
    const tag = tagOf(prompt) ?? "untagged";
    const ask = (asks.get(tag) ?? 0) + 1;
    asks.set(tag, ask);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let k = 0;
    let content = "";
    let timer: NodeJS.Timeout | null = null;
    const next = () => {
      if (res.destroyed) return;
      const text = chunkText(tag, ask, k);
      content += text;
      res.write(event({ event_type: "chat_delta", payload: { content: text } }));
      if (++k < chunks) {
        timer = setTimeout(next, intervalMs);
        return;
      }
      // Counted before the last byte: from here on the service considers the work done.
      answered.set(cmd.message_id, (answered.get(cmd.message_id) ?? 0) + 1);
      res.end(
        event({
          event_type: "chat_completed",
          payload: {
            message: { role: "assistant", content },
            finish_reason: "stop",
            usage: { prompt_tokens: 5, completion_tokens: chunks, total_tokens: chunks + 5 },
          },
        }),
      );
    };
    res.on("close", () => timer && clearTimeout(timer));
    next();
  });
});
serveMock(server, port);
