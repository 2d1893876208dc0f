/**
 * The baseline: an equivalent direct SSE server. It answers /v1/chat/completions exactly as the
 * gateway's echo capability does (role chunk, one chunk per word, finish, usage, [DONE]), but in
 * memory: no auth, no outbox, no JetStream, no worker.
 */
import { createServer } from "node:http";
import { wordsWithSpace } from "../src/worker/handlers/echo.js";

const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    const request = JSON.parse(body) as { model: string; messages: { content: string }[] };
    const text = request.messages.at(-1)?.content ?? "";
    const base = {
      id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    };
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
    res.write(chunk({ role: "assistant", content: "" }));
    const words = wordsWithSpace(text);
    for (const w of words) res.write(chunk({ content: w }));
    const n = words.length;
    res.write(chunk({}, "stop"));
    res.write(
      `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: n, completion_tokens: n, total_tokens: 2 * n } })}\n\n`,
    );
    res.end("data: [DONE]\n\n");
  });
});
server.listen(port, "127.0.0.1", () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === "object" && addr ? addr.port : port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
