import type { FastifyRequest } from "fastify";
import { AuthenticationError, ModelNotFoundError } from "../errors.js";
import type { Principal, RevocationList, TokenVerifier } from "../ports.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Reads `Authorization: Bearer <token>`, verifies it and checks revocation (on every request,
 * cached verification or not); throws 401 on anything else, saying nothing about why.
 */
export async function authenticate(
  req: FastifyRequest,
  verifier: TokenVerifier,
  revocations?: RevocationList,
): Promise<Principal> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S{1,8192})\s*$/i.exec(header) : null;
  if (!match?.[1]) throw new AuthenticationError();
  let principal: Principal;
  try {
    principal = await verifier.verify(match[1]);
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
