import type { ReadinessCheck } from "../ports.js";

/** How long one readiness check may take (a NATS flush waits for a reconnect otherwise). */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Runs every readiness check (each bounded in time); all must pass. */
export async function checkReadiness(checks: ReadinessCheck[]) {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await withTimeout(c.check());
        return { name: c.name, ok: true as const };
      } catch (err) {
        return { name: c.name, ok: false as const, error: (err as Error).message };
      }
    }),
  );
  return { ready: results.every((r) => r.ok), checks: results };
}
