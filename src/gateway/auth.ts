import type { FastifyRequest } from "fastify";
import { AuthenticationError, ModelNotFoundError } from "../errors.js";
import type { Principal, RevocationList, TokenVerifier } from "../ports.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
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

/** A key limited to some models gets the same 404 for the others as for a missing model. */
export function assertModelAccess(principal: Principal, modelId: string): void {
  if (principal.models && !principal.models.includes(modelId))
    throw new ModelNotFoundError(modelId);
}
