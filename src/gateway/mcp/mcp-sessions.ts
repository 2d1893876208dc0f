import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Log } from "../../log.js";
import type { Principal } from "../../ports.js";
import { RateLimitedError } from "../admission/limits.js";

/** One MCP session: its transport and server, and the key that opened it. */
export interface Session {
  id: string;
  owner: string;
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** Requests being answered now (a session with one is never idle). */
  busy: number;
}

/** Settings of the session registry. */
export interface McpSessionOptions {
  /** A session unused this long is closed (its client re-initializes). */
  idleMs: number;
  /** Sessions one key may hold at once (429 beyond). */
  maxPerKey: number;
  log: Log;
}

/** The answer to a request that names no live session of its key (the client re-initializes). */
export type SessionRefusal = { status: 400 | 404; message: string };

/** Who owns a session: a request with another key (or tenant) cannot use it. */
const ownerOf = (p: Principal) => `${p.tenant}\n${p.keyId ?? ""}`;

/**
 * The MCP sessions of this gateway instance (streamable HTTP, session mode): each is created by an
 * `initialize` request and bound to the key that sent it; its tools are that key's. Sessions live
 * in memory, so a balancer in front of several instances routes by `Mcp-Session-Id`; a client
 * whose session is gone (idle, restart, another instance) gets 404 and initializes again, as the
 * MCP transport specifies. The run behind a tool call is durable either way.
 */
export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly build: (principal: Principal, log: Log) => McpServer,
    private readonly opts: McpSessionOptions,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, opts.idleMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * The session a request belongs to: the one its `Mcp-Session-Id` names (if its key owns it), or
   * a new one for an `initialize` request; a refusal otherwise. Throws 429 past the key's limit.
   */
  async resolve(
    principal: Principal,
    sessionId: string | undefined,
    method: string,
    body: unknown,
  ): Promise<Session | SessionRefusal> {
    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      if (!session || session.owner !== ownerOf(principal)) {
        return { status: 404, message: "Session not found: initialize a new one." };
      }
      return session;
    }
    if (method === "POST" && isInitializeRequest(body)) return this.open(principal);
    return { status: 400, message: "No Mcp-Session-Id: send an initialize request first." };
  }

  /** Hands one HTTP request to the session's transport, which writes the response. */
  async serve(
    session: Session,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ): Promise<void> {
    session.busy++;
    session.lastSeen = Date.now();
    if (req.method === "POST") this.cancelOnClose(session, res, body);
    try {
      await session.transport.handleRequest(req, res, body);
    } finally {
      session.busy--;
      session.lastSeen = Date.now();
    }
  }

  /** Closes every session (shutdown): their running tool calls are cancelled. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.forget(id, "shutdown")));
  }

  private async open(principal: Principal): Promise<Session> {
    const owner = ownerOf(principal);
    const held = [...this.sessions.values()].filter((s) => s.owner === owner).length;
    if (held >= this.opts.maxPerKey) {
      throw new RateLimitedError(
        `Too many MCP sessions: at most ${this.opts.maxPerKey} for this key; close one (DELETE /mcp).`,
        60,
        "session_limit_exceeded",
      );
    }
    const id = randomUUID();
    const log = this.opts.log.child({ mcp_session: id, tenant: principal.tenant });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: () => void this.forget(id, "closed by the client"),
    });
    const server = this.build(principal, log);
    const session: Session = { id, owner, transport, server, lastSeen: Date.now(), busy: 0 };
    // Registered before the initialize request is answered: the client's next request finds it.
    this.sessions.set(id, session);
    transport.onclose = () => void this.forget(id, "transport closed");
    await server.connect(transport);
    log.info("MCP session opened");
    return session;
  }

  /**
   * A client that closes the connection of a tool call before its answer has left: the call is
   * cancelled as if the client had sent `notifications/cancelled` (the SDK aborts the handler,
   * which cancels the command).
   */
  private cancelOnClose(session: Session, res: ServerResponse, body: unknown): void {
    const calls = (Array.isArray(body) ? body : [body]).filter(
      (m): m is { id: string | number } =>
        (m as { method?: unknown })?.method === "tools/call" &&
        ["string", "number"].includes(typeof (m as { id?: unknown }).id),
    );
    if (calls.length === 0) return;
    res.once("close", () => {
      if (res.writableFinished) return;
      for (const { id } of calls) {
        session.transport.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: "the client closed the connection" },
        });
      }
    });
  }

  private async forget(id: string, why: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    this.opts.log.info({ mcp_session: id, why }, "MCP session ended");
    // Closing the server aborts its running tool calls, which cancels their commands.
    await s.server.close().catch(() => undefined);
  }

  private sweep(): void {
    const before = Date.now() - this.opts.idleMs;
    for (const s of this.sessions.values()) {
      if (s.busy === 0 && s.lastSeen < before) void this.forget(s.id, "idle");
    }
  }
}
