import { envDefaults, loadConfig } from "../../src/config.js";

/** 31 years in milliseconds: the search's ceiling. */
const CEILING = 1e12;

/**
 * The longest value start-up accepts for a duration setting (searched up to {@link CEILING}):
 * a timer fed from it must not fire early whatever the operator sets.
 */
export function longestAccepted(name: string, env: Record<string, string> = {}): number {
  const accepts = (v: number) => {
    try {
      loadConfig({ ...env, [name]: String(v) });
      return true;
    } catch {
      return false;
    }
  };
  let lo = Number(envDefaults()[name]);
  if (!accepts(lo)) throw new Error(`${name}: its default is refused`);
  let hi = CEILING;
  if (accepts(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (accepts(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
