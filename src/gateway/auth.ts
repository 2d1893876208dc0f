import type { FastifyRequest } from "fastify";
import { AuthenticationError } from "../errors.js";
import type { Principal, TokenVerifier } from "../ports.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Reads `Authorization: Bearer <token>` and verifies it; throws 401 on anything else. */
export async function authenticate(
  req: FastifyRequest,
  verifier: TokenVerifier,
): Promise<Principal> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) throw new AuthenticationError();
  try {
    return await verifier.verify(match[1]);
  } catch (err) {
    req.log.info({ reason: (err as Error).message }, "rejected a bearer token");
    throw new AuthenticationError();
  }
}
