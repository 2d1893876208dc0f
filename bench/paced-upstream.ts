/**
 * An OpenAI-compatible model server for benchmarks, outside the system under test: the model
 * name says how it answers. `paced:<chunks>:<intervalMs>` streams that many content chunks that
 * far apart (a model generating), `burst:<chunks>` sends them all at once, `think:<ms>` waits
 * before its first chunk (a model thinking, for idle streams). Usage and `[DONE]` follow.
 */
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 0);

function plan(model: string): { chunks: number; intervalMs: number; firstAfterMs: number } {
  const [kind, a, b] = model.split(":");
  if (kind === "paced") return { chunks: Number(a), intervalMs: Number(b), firstAfterMs: 0 };
  if (kind === "burst") return { chunks: Number(a), intervalMs: 0, firstAfterMs: 0 };
  if (kind === "think") return { chunks: 4, intervalMs: 0, firstAfterMs: Number(a) };
  return { chunks: 20, intervalMs: 0, firstAfterMs: 0 };
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    const request = JSON.parse(body) as { model: string };
    const p = plan(request.model);
    const head = `{"id":"up","object":"chat.completion.chunk","created":1,"model":${JSON.stringify(request.model)},"choices":[{"index":0,"delta":`;
    const chunk = (delta: string, finish = "null") =>
      `data: ${head}${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(chunk('{"role":"assistant","content":""}'));
    let i = 0;
    let timer: NodeJS.Timeout | null = null;
    const end = () => {
      if (timer) clearTimeout(timer);
      if (res.destroyed) return;
      res.write(chunk("{}", '"stop"'));
      res.write(
        `data: {"id":"up","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":${p.chunks},"total_tokens":${p.chunks + 5}}}\n\n`,
      );
      res.end("data: [DONE]\n\n");
    };
    const next = () => {
      if (res.destroyed) return;
      if (p.intervalMs === 0) {
        let out = "";
        for (; i < p.chunks; i++) out += chunk(`{"content":"tok${i} "}`);
        res.write(out);
        return end();
      }
      res.write(chunk(`{"content":"tok${i} "}`));
      if (++i >= p.chunks) return end();
      timer = setTimeout(next, p.intervalMs);
    };
    res.on("close", () => timer && clearTimeout(timer));
    if (p.firstAfterMs > 0) timer = setTimeout(next, p.firstAfterMs);
    else next();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === "object" && addr ? addr.port : port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
