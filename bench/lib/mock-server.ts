/**
 * What the mock services of the benchmarks and the chaos suite (models and handler services
 * outside the system under test, each in its own process) share: how they serve, and the
 * OpenAI streaming format a mock model answers in.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** Reads a request's whole body, then calls `onBody` with it. */
export function withBody(req: IncomingMessage, onBody: (body: string) => void): void {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => onBody(body));
}

/**
 * Serves `server` on 127.0.0.1:`port` (0: any), printing `listening <port>` for the process that
 * started it, with keep-alive connections held a minute; SIGTERM closes everything and exits.
 */
export function serveMock(server: Server, port: number): void {
  server.keepAliveTimeout = 60_000;
  server.listen(port, "127.0.0.1", () => {
    const addr = server.address();
    process.stdout.write(`listening ${typeof addr === "object" && addr ? addr.port : port}\n`);
  });
  process.on("SIGTERM", () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/** Writes an OpenAI `chat.completion.chunk` stream (SSE) on `res`, as a model server does. */
export class OpenAiChunkStream {
  private readonly head: string;

  constructor(
    private readonly res: ServerResponse,
    model: string,
  ) {
    this.head = `{"id":"up","object":"chat.completion.chunk","created":1,"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(this.chunk('{"role":"assistant","content":""}'));
  }

  /** One content chunk's SSE text (not written: a caller may join several in one write). */
  content(text: string): string {
    return this.chunk(JSON.stringify({ content: text }));
  }

  /** Writes the finish chunk, the usage chunk and `[DONE]`, and ends the response. */
  end(completionTokens: number): void {
    this.res.write(this.chunk("{}", '"stop"'));
    this.res.write(
      `data: {"id":"up","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":${completionTokens},"total_tokens":${completionTokens + 5}}}\n\n`,
    );
    this.res.end("data: [DONE]\n\n");
  }

  private chunk(delta: string, finish = "null"): string {
    return `data: ${this.head}${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  }
}
