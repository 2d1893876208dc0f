import type { Principal, TokenVerifier } from "../../ports.js";

/**
 * Remembers successfully verified tokens for a short while (never past their `exp`), so a
 * client's repeated requests skip the signature check. Failures are never cached.
 */
export class CachingVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly inner: TokenVerifier,
    private readonly opts: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {}

  async verify(token: string): Promise<Principal> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.principal;
    if (hit) this.cache.delete(token);
    const principal = await this.inner.verify(token);
    const expiry = principal.expiresAt === undefined ? Infinity : principal.expiresAt * 1000;
    const until = Math.min(now + (this.opts.maxAgeMs ?? 60_000), expiry);
    if (this.cache.size >= (this.opts.maxEntries ?? 10_000)) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, { principal, until });
    return principal;
  }
}
