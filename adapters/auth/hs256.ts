import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { assertSubjectToken, isSubjectToken } from "../../contracts/index.js";
import type { Principal, TokenVerifier } from "../../src/ports.js";

/** The claim naming the caller's tenant. */
export const TENANT_CLAIM = "tenant";
const ISSUER = "sea-gateway";

/** Verifies HS256 API keys: explicit algorithm allow-list, `exp` required, tenant validated. */
export class Hs256Verifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.key, {
      algorithms: ["HS256"],
      requiredClaims: ["exp", TENANT_CLAIM],
      clockTolerance: 5,
    });
    const tenant = payload[TENANT_CLAIM];
    if (typeof tenant !== "string" || !isSubjectToken(tenant)) {
      throw new Error("tenant claim is not a valid tenant id");
    }
    return { tenant, keyId: payload.jti, expiresAt: payload.exp };
  }
}

/** Parses a duration like `30d`, `12h`, `90m`, `3600s` into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhdy])$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}': use e.g. 3600s, 90m, 12h, 30d, 1y`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 }[m[2] as "s"];
  return Number(m[1]) * unit;
}

/** Mints an API key for a tenant, valid for `ttlSecs`. */
export async function mintKey(secret: string, tenant: string, ttlSecs: number): Promise<string> {
  assertSubjectToken("tenant", tenant);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ [TENANT_CLAIM]: tenant })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSecs)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(secret));
}
