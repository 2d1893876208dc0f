import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ResponsesRequest } from "../../contracts/index.js";
import { toOpenAIError } from "../../src/errors.js";
import { ResponseNotFoundError } from "../../src/gateway/responses/errors.js";
import {
  renderEvents,
  responseObjectOf,
  type RenderInput,
} from "../../src/gateway/responses/event-renderer.js";
import { responseIdOf } from "../../src/gateway/responses/ids.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import {
  responseRecordOf,
  responsesToChat,
  type ChatRequestBody,
} from "../../src/gateway/responses/request-to-chat.js";
import type { ResponseContext } from "../../src/gateway/responses/response-object.js";
import { responseEventsSse } from "../../src/gateway/responses/sse.js";

/** A request the server received. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | null;
}

/** What the (scripted) run of one request delivers, from the request and its chat body. */
export type Script = (req: ResponsesRequest, chat: ChatRequestBody) => RenderInput[];

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

/**
 * A `/v1/responses` server over real HTTP built from the gateway's pure Responses modules: it
 * parses and bridges each request as the gateway will, has `script` stand in for the run, and
 * answers with the rendered events (or object). `GET /v1/responses/{id}` replays a response as
 * the object or, with `stream=true[&starting_after=N]`, as its events. Every request is kept.
 */
export class FakeResponsesServer {
  readonly requests: ReceivedRequest[] = [];
  private readonly responses = new Map<
    string,
    { ctx: ResponseContext; deliveries: RenderInput[] }
  >();
  private server: Server | null = null;
  private n = 0;
  baseURL = "";

  constructor(private readonly script: Script) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.baseURL = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** The bodies of the `POST /v1/responses` requests, in order. */
  get bodies(): Record<string, unknown>[] {
    return this.requests.filter((r) => r.method === "POST").map((r) => r.body ?? {});
  }

  private fail(res: ServerResponse, err: unknown): void {
    const { status, headers, body } = toOpenAIError(err);
    if (!res.headersSent) res.writeHead(status, { ...headers, "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    this.requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body,
    });
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && url.pathname === "/v1/responses") return this.create(body, res);
    const m = /^\/v1\/responses\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && m) return this.retrieve(decodeURIComponent(m[1]!), url, res);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        error: {
          message: `Unknown path ${req.method} ${url.pathname}`,
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      }),
    );
  }

  private create(body: unknown, res: ServerResponse): void {
    const request = parseResponsesRequest(body);
    const { chat, tools } = responsesToChat(request);
    const id = responseIdOf(`fake${++this.n}`);
    const ctx: ResponseContext = {
      id,
      model: request.model,
      createdAt: Math.floor(Date.now() / 1000),
      background: request.background === true,
      record: responseRecordOf(request, tools, { responseId: id }),
    };
    const deliveries = this.script(request, chat);
    this.responses.set(id, { ctx, deliveries });
    if (request.stream) {
      res.writeHead(200, SSE_HEADERS);
      res.end(responseEventsSse(renderEvents(ctx, deliveries, { clock: () => ctx.createdAt })));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(responseObjectOf(ctx, deliveries, { clock: () => ctx.createdAt })));
    }
  }

  private retrieve(id: string, url: URL, res: ServerResponse): void {
    const found = this.responses.get(id);
    if (!found) throw new ResponseNotFoundError(id);
    const clock = () => found.ctx.createdAt;
    if (url.searchParams.get("stream") !== "true") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(responseObjectOf(found.ctx, found.deliveries, { clock })));
      return;
    }
    const after = url.searchParams.get("starting_after");
    const events = renderEvents(found.ctx, found.deliveries, {
      clock,
      ...(after === null ? {} : { startingAfter: Number(after) }),
    });
    res.writeHead(200, SSE_HEADERS);
    res.end(responseEventsSse(events));
  }
}
