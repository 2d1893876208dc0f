import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { setLongTimeout } from "../../long-timer.js";
import { WsSession, type WsSessionDeps } from "../ws/ws-session.js";

/** The subprotocol a browser offers beside `bearer.<key>` (the server selects this one). */
export const WS_SUBPROTOCOL = "sea.v1";

/**
 * `GET /v1/ws`: the WebSocket surface. The upgrade goes through normal routing, so the `/v1`
 * authentication hook refuses a socket without a valid key with a plain 401 before upgrading.
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
  });
  app.get("/v1/ws", { websocket: true }, (socket, req) => {
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
  });
}
