/**
 * The baseline the gateway's CPU is compared with: a plain Node pass-through proxy, what a user
 * would put in front of a model instead of a durable gateway. `node:http` only: it forwards each
 * request to the upstream over keep-alive sockets and pipes the answer (SSE) back, with no
 * durability, no parsing and no authentication.
 *
 * Usage: tsx bench/plain-proxy.ts <upstream base URL, e.g. http://127.0.0.1:9000> [port]
 */
import { Agent, createServer, request } from "node:http";
import { serveMock } from "./lib/mock-server.js";

const upstream = new URL(process.argv[2] ?? "http://127.0.0.1:9000");
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

const server = createServer((req, res) => {
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      agent,
      headers: {
        "content-type": req.headers["content-type"] ?? "application/json",
        ...(req.headers["content-length"]
          ? { "content-length": req.headers["content-length"] }
          : {}),
      },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  // A client that goes away mid-answer cancels the upstream request, as the gateway does.
  res.on("close", () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});
serveMock(server, Number(process.argv[3] ?? 0));
