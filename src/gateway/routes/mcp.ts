import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hijack } from "../http/raw-stream.js";
import { headerValue } from "../http/request-headers.js";
import type { McpSessionOptions, McpSessions } from "../mcp/mcp-sessions.js";
import type { McpToolDeps } from "../mcp/mcp-tools.js";

/**
 * `/mcp`: the MCP server over streamable HTTP (POST for messages, GET for the server's stream,
 * DELETE to end a session), behind the same authentication as `/v1`. The request's session (see
 * {@link McpSessions}) answers through its transport; each tool call is admitted through the
 * admission door like an HTTP request (rate, stream slot). Sessions end when the app closes.
 *
 * The MCP SDK is loaded by the first `/mcp` request: a gateway nobody reaches over MCP (and every
 * test that boots one) never pays for its imports (about a quarter of a second).
 */
export async function mcpRoutes(
  app: FastifyInstance,
  opts: {
    tools: McpToolDeps;
    sessions: McpSessionOptions;
  },
): Promise<void> {
  let loaded: Promise<McpSessions> | null = null;
  const load = () =>
    (loaded ??= (async () => {
      const [{ McpSessions }, { buildMcpServer }] = await Promise.all([
        import("../mcp/mcp-sessions.js"),
        import("../mcp/mcp-tools.js"),
      ]);
      return new McpSessions(
        (principal, log) => buildMcpServer(principal, opts.tools, log),
        opts.sessions,
      );
    })());
  app.addHook("onClose", async () => {
    if (loaded) await (await loaded).closeAll();
  });
  const handle = async (req: FastifyRequest, reply: FastifyReply) => {
    const sessions = await load();
    const target = await sessions.resolve(
      req.principal,
      headerValue(req.headers["mcp-session-id"]),
      req.method,
      req.body,
    );
    if ("status" in target) {
      // JSON-RPC's shape, as the SDK's transport answers its own refusals.
      return reply.status(target.status).send({
        jsonrpc: "2.0",
        error: { code: -32000, message: target.message },
        id: null,
      });
    }
    // The transport writes the response; headers set so far (the request id) go with it.
    hijack(req, reply);
    try {
      await sessions.serve(target, req.raw, reply.raw, req.body);
    } catch (err) {
      req.log.error({ err }, "MCP request failed");
      if (!reply.raw.headersSent) reply.raw.writeHead(500);
      if (!reply.raw.writableEnded) reply.raw.end();
    }
  };
  app.post("/mcp", handle);
  app.get("/mcp", handle);
  app.delete("/mcp", handle);
}
