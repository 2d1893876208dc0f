import type { Capability } from "../../../contracts/index.js";
import type { Principal } from "../../ports.js";

/**
 * May this key use this capability (model or editor action)? A key with a `models` claim may
 * use only those; one without may use every capability. The one place that rule is written:
 * what a key may not use, it is told does not exist (the same 404 as for a missing one).
 */
export function mayUse(principal: Principal, capabilityId: string): boolean {
  return !principal.models || principal.models.includes(capabilityId);
}

/** The capabilities a key may use, in their order. */
export function usable<C extends Capability>(principal: Principal, list: readonly C[]): C[] {
  return list.filter((c) => mayUse(principal, c.id));
}
