import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { GatewayError } from "../../errors.js";
import { setLongTimeout } from "../../long-timer.js";
import { WsSession, type WsSessionDeps } from "../ws/ws-session.js";

/** The subprotocol a browser offers beside `bearer.<key>` (the server selects this one). */
export const WS_SUBPROTOCOL = "sea.v1";

/** Close codes of a client's own protocol mistakes (RFC 6455 §7.4.1), by the `ws` error code. */
const CLIENT_PROTOCOL_ERRORS: ReadonlyMap<string, number> = new Map([
  ["WS_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009],
  ["WS_ERR_INVALID_UTF8", 1007],
]);

/**
 * `GET /v1/ws`: the WebSocket surface. The upgrade goes through normal routing, so the `/v1`
 * authentication hook refuses a socket without a valid key with a plain 401 before upgrading; a
 * plain GET (no `Upgrade`) gets a 426 saying how to connect.
 */
export async function websocketRoutes(
  app: FastifyInstance,
  opts: WsSessionDeps & { maxFrameBytes: number },
): Promise<void> {
  await app.register(websocket, {
    options: {
      maxPayload: opts.maxFrameBytes,
      // Never echo a `bearer.<key>` entry back: only our protocol name is ever selected.
      handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
    },
    // A client's protocol mistake (a frame over the limit, bad UTF-8) is its own, logged as a
    // warning: `ws` has already sent the close frame with its code (1009, 1007), which the
    // plugin's default (an error log and a terminate) would cut off. Anything else ends the
    // socket.
    errorHandler: (error, socket, req) => {
      const code = CLIENT_PROTOCOL_ERRORS.get((error as { code?: string }).code ?? "");
      if (code !== undefined) {
        req.log.warn({ close_code: code, reason: error.message }, "websocket client error");
        return;
      }
      req.log.warn({ err: error }, "websocket failed; closing it");
      socket.terminate();
    },
  });
  app.route({
    method: "GET",
    url: "/v1/ws",
    handler: async () => {
      throw new UpgradeRequiredError();
    },
    wsHandler: (socket, req) => {
      const principal = req.principal;
      const log = req.log.child({ surface: "websocket", tenant: principal.tenant });
      new WsSession(socket, req, principal, opts, log);
      // A key that expires while the socket is open ends the socket then. Keys live for weeks
      // or a year: longer than a Node timer can wait.
      if (principal.expiresAt !== undefined) {
        const ms = principal.expiresAt * 1000 - Date.now();
        const timer = setLongTimeout(() => socket.close(1008, "key expired"), ms);
        socket.once("close", () => timer.clear());
      }
    },
  });
}

/** 426: a plain HTTP request to the WebSocket endpoint. */
class UpgradeRequiredError extends GatewayError {
  constructor() {
    super(
      `This endpoint speaks WebSocket: connect with 'Upgrade: websocket' (subprotocol ${WS_SUBPROTOCOL}).`,
      {
        status: 426,
        type: "invalid_request_error",
        code: "upgrade_required",
        headers: { upgrade: "websocket", connection: "Upgrade" },
      },
    );
  }
}
