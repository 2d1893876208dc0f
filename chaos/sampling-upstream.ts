/**
 * A sampling OpenAI-compatible model server for the chaos suite, in its own process: it answers
 * differently each time it is asked the same prompt (as a model sampling at a temperature does),
 * so a redelivered command that spliced two attempts shows in the text. The model name
 * `sample:<chunks>:<intervalMs>` says how long an answer is and how fast it streams; every chunk
 * is a token naming the request, the answer and the chunk (see lib/answers.ts).
 *
 * GET /stats → `{ "<tag>": { "asks": n, "completed": m } }`: how often each prompt was asked,
 * and how many answers were streamed to their end (a finished answer computed twice shows there).
 *
 * Usage: tsx chaos/sampling-upstream.ts [port]; prints `listening <port>`.
 */
import { createServer } from "node:http";
import { OpenAiChunkStream, serveMock, withBody } from "../bench/lib/mock-server.js";
import { chunkText, tagOf } from "./lib/answers.js";

const port = Number(process.argv[2] ?? 0);
const stats = new Map<string, { asks: number; completed: number }>();

function plan(model: string): { chunks: number; intervalMs: number } {
  const [kind, a, b] = model.split(":");
  if (kind !== "sample") return { chunks: 20, intervalMs: 0 };
  return { chunks: Number(a) || 20, intervalMs: Number(b) || 0 };
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(Object.fromEntries(stats)));
  }
  withBody(req, (body) => {
    const request = JSON.parse(body) as { model: string; messages: { content: string }[] };
    const tag = tagOf(String(request.messages.at(-1)?.content ?? "")) ?? "untagged";
    const s = stats.get(tag) ?? { asks: 0, completed: 0 };
    stats.set(tag, s);
    const ask = ++s.asks;
    const p = plan(request.model);
    const stream = new OpenAiChunkStream(res, request.model);
    let k = 0;
    let timer: NodeJS.Timeout | null = null;
    const next = () => {
      if (res.destroyed) return;
      res.write(stream.content(chunkText(tag, ask, k)));
      if (++k < p.chunks) {
        timer = setTimeout(next, p.intervalMs);
        return;
      }
      stream.end(p.chunks);
      s.completed++;
    };
    res.on("close", () => timer && clearTimeout(timer));
    next();
  });
});
serveMock(server, port);
