import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { AuthenticationError } from "../../errors.js";
import type { Principal, RevocationList, TokenVerifier } from "../../ports.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The caller, set by {@link authPlugin} before any handler of the scope it is registered in
     * runs (every `/v1` and `/mcp` route): those routes never see a request without one.
     */
    principal: Principal;
  }
}

/** The subprotocol prefix a browser WebSocket uses to send its key (`bearer.<key>`). */
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";

/**
 * The bearer token of a request: `Authorization: Bearer <token>`; for GET requests (a browser's
 * WebSocket or EventSource cannot set headers) also a `bearer.<token>` entry of
 * `Sec-WebSocket-Protocol`, or `?access_token=<token>`.
 */
function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header) return /^Bearer\s+(\S{1,8192})\s*$/i.exec(header)?.[1];
  if (req.method !== "GET") return undefined;
  const protocols = req.headers["sec-websocket-protocol"];
  const fromProtocol = protocols
    ?.split(",")
    .map((p) => p.trim())
    .find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX))
    ?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  if (fromProtocol) return fromProtocol.slice(0, 8192);
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  return typeof q === "string" && q.length > 0 && q.length <= 8192 ? q : undefined;
}

/**
 * Reads the bearer token (see {@link bearerToken}), verifies it and checks revocation (on every
 * request, cached verification or not); throws 401 on anything else, saying nothing about why.
 */
export async function authenticate(
  req: FastifyRequest,
  verifier: TokenVerifier,
  revocations?: RevocationList,
): Promise<Principal> {
  const token = bearerToken(req);
  if (!token) throw new AuthenticationError();
  let principal: Principal;
  try {
    principal = await verifier.verify(token);
  } catch (err) {
    req.log.info({ reason: (err as Error).message }, "rejected a bearer token");
    throw new AuthenticationError();
  }
  if (principal.keyId && revocations?.isRevoked(principal.keyId)) {
    req.log.info({ key_id: principal.keyId }, "rejected a revoked key");
    throw new AuthenticationError();
  }
  return principal;
}

/**
 * Authentication for the scope it is registered in (named with fastify-plugin, so its hook and
 * decoration apply to that scope rather than to a child of it): every request of the scope gets
 * its `principal` before its handler runs, or a 401.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { verifier: TokenVerifier; revocations?: RevocationList }) => {
    app.decorateRequest("principal", null as unknown as Principal);
    app.addHook("onRequest", async (req) => {
      req.principal = await authenticate(req, opts.verifier, opts.revocations);
    });
  },
  { name: "sea-auth", fastify: "5.x" },
);
