/**
 * An OpenAI-compatible model server for benchmarks, outside the system under test: the model
 * name says how it answers. `paced:<chunks>:<intervalMs>` streams that many content chunks that
 * far apart (a model generating), `burst:<chunks>` sends them all at once, `think:<ms>` waits
 * before its first chunk (a model thinking, for idle streams). Usage and `[DONE]` follow.
 */
import { createServer } from "node:http";
import { OpenAiChunkStream, serveMock, withBody } from "./lib/mock-server.js";

const port = Number(process.argv[2] ?? 0);

function plan(model: string): { chunks: number; intervalMs: number; firstAfterMs: number } {
  const [kind, a, b] = model.split(":");
  if (kind === "paced") return { chunks: Number(a), intervalMs: Number(b), firstAfterMs: 0 };
  if (kind === "burst") return { chunks: Number(a), intervalMs: 0, firstAfterMs: 0 };
  if (kind === "think") return { chunks: 4, intervalMs: 0, firstAfterMs: Number(a) };
  return { chunks: 20, intervalMs: 0, firstAfterMs: 0 };
}

const server = createServer((req, res) =>
  withBody(req, (body) => {
    const request = JSON.parse(body) as { model: string };
    const p = plan(request.model);
    const stream = new OpenAiChunkStream(res, request.model);
    let i = 0;
    let timer: NodeJS.Timeout | null = null;
    const end = () => {
      if (timer) clearTimeout(timer);
      if (!res.destroyed) stream.end(p.chunks);
    };
    const next = () => {
      if (res.destroyed) return;
      if (p.intervalMs === 0) {
        let out = "";
        for (; i < p.chunks; i++) out += stream.content(`tok${i} `);
        res.write(out);
        return end();
      }
      res.write(stream.content(`tok${i} `));
      if (++i >= p.chunks) return end();
      timer = setTimeout(next, p.intervalMs);
    };
    res.on("close", () => timer && clearTimeout(timer));
    if (p.firstAfterMs > 0) timer = setTimeout(next, p.firstAfterMs);
    else next();
  }),
);
serveMock(server, port);
