import { randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { assertSubjectToken, SUBJECT_TOKEN } from "../../contracts/index.js";
import type { Principal, TokenVerifier } from "../../src/ports.js";

/** The claims an API key carries besides the registered ones. */
const KeyClaimsSchema = z.object({
  tenant: z.string().regex(SUBJECT_TOKEN),
  models: z.array(z.string().min(1).max(256)).max(1000).optional(),
  rpm: z.number().int().positive().optional(),
  max_streams: z.number().int().positive().optional(),
  /** May read operational state (the status page). */
  admin: z.boolean().optional(),
});

/** Algorithms accepted from a JWKS (never `none`, never HMAC with a public key). */
const ASYMMETRIC = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

/**
 * How tokens are checked: a shared HS256 secret, or a JWKS (RFC 8725 §3.1: explicit algorithms).
 * The settings come from the configuration (src/config/gateway.ts), which holds their defaults.
 */
export type JwtVerifierOptions = (
  | { secret: string; jwksUrl?: undefined }
  | { jwksUrl: string; secret?: undefined; jwksCooldownMs: number }
) & {
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSecs: number;
};

/**
 * Verifies API keys (JWTs): explicit algorithm allow-list, `exp` required, issuer and audience
 * checked when configured, clock tolerance; a JWKS is fetched on demand, cached and re-fetched
 * when a token names an unknown key (rotation). The tenant and optional model allow-list and
 * per-key limits are validated claims.
 */
export class JwtVerifier implements TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly opts: JwtVerifierOptions) {
    if (opts.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(opts.jwksUrl), {
        cacheMaxAge: 10 * 60_000,
        cooldownDuration: opts.jwksCooldownMs,
        timeoutDuration: 5_000,
      });
      this.algorithms = ASYMMETRIC;
    } else {
      this.key = new TextEncoder().encode(opts.secret);
      this.algorithms = ["HS256"];
    }
  }

  async verify(token: string): Promise<Principal> {
    const options = {
      algorithms: this.algorithms,
      requiredClaims: ["exp", "tenant"],
      clockTolerance: this.opts.clockToleranceSecs,
      ...(this.opts.issuer ? { issuer: this.opts.issuer } : {}),
      ...(this.opts.audience ? { audience: this.opts.audience } : {}),
    };
    // Two calls only because jose's overloads take a key or a key getter, not the union.
    const { payload } =
      this.key instanceof Uint8Array
        ? await jwtVerify(token, this.key, options)
        : await jwtVerify(token, this.key, options);
    const claims = KeyClaimsSchema.safeParse(payload);
    if (!claims.success) throw new Error(`bad key claims: ${claims.error.message}`);
    const c = claims.data;
    const limits = {
      ...(c.rpm !== undefined ? { rpm: c.rpm } : {}),
      ...(c.max_streams !== undefined ? { maxStreams: c.max_streams } : {}),
    };
    return {
      tenant: c.tenant,
      keyId: payload.jti,
      expiresAt: payload.exp,
      ...(c.models ? { models: c.models } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(c.admin === true ? { admin: true } : {}),
    };
  }
}

/** Parses a duration like `30d`, `12h`, `90m`, `3600s` into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhdy])$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}': use e.g. 3600s, 90m, 12h, 30d, 1y`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 }[m[2] as "s"];
  return Number(m[1]) * unit;
}

/** What a minted key allows. */
export interface KeySpec {
  tenant: string;
  ttlSecs: number;
  models?: string[] | undefined;
  rpm?: number | undefined;
  maxStreams?: number | undefined;
  /** The `admin` claim: the key may open the status page. */
  admin?: boolean | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Mints an HS256 API key; refuses a tenant id that could not be a subject token. */
export async function mintKey(secret: string, spec: KeySpec): Promise<string> {
  assertSubjectToken("tenant", spec.tenant);
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { tenant: spec.tenant };
  if (spec.models?.length) claims.models = spec.models;
  if (spec.rpm !== undefined) claims.rpm = spec.rpm;
  if (spec.maxStreams !== undefined) claims.max_streams = spec.maxStreams;
  if (spec.admin) claims.admin = true;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(spec.issuer ?? "sea-gateway")
    .setIssuedAt(now)
    .setExpirationTime(now + spec.ttlSecs)
    .setJti(randomUUID());
  if (spec.audience) jwt = jwt.setAudience(spec.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
