/** A long-running role of the CLI. */
export type Role = "up" | "gateway" | "relay" | "worker";

/** What a role's process runs and does; the one table bin/ reads instead of comparing names. */
export interface RoleParts {
  /** Serves the HTTP API (and verifies keys: needs the signing secret or a JWKS). */
  gateway: boolean;
  /** Runs the outbox relay of every context. */
  relay: boolean;
  /** Runs the workers of its contexts (every context, or the one `--context` names). */
  worker: boolean;
  /** Creates and migrates databases, streams and consumers itself (else `migrate` did). */
  prepares: boolean;
  /** Serves one context, named by `--context` (else every context). */
  oneContext: boolean;
}

export const ROLES: Readonly<Record<Role, RoleParts>> = {
  up: { gateway: true, relay: true, worker: true, prepares: true, oneContext: false },
  gateway: { gateway: true, relay: false, worker: false, prepares: false, oneContext: false },
  relay: { gateway: false, relay: true, worker: false, prepares: false, oneContext: false },
  worker: { gateway: false, relay: false, worker: true, prepares: false, oneContext: true },
};
