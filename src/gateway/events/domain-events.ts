import { randomUUID } from "node:crypto";
import { SUBJECT_TOKEN } from "../../../contracts/index.js";
import type { EventStreamRule } from "../../domain-event-rules.js";
import { BadRequestError } from "../../errors.js";
import type { DomainEventSource, DomainEventSubscription, EventStart } from "../../ports.js";

/** One event as a subscriber receives it. */
export interface DomainEvent {
  /** The stream sequence: resume after it (`Last-Event-ID`, `start_seq` = seq + 1). */
  seq: number;
  /** The subject, as the caller names it (without a deployment namespace). */
  subject: string;
  time: string;
  /** The event as the publishing service wrote it, all its fields kept. */
  event: unknown;
}

/** Where a caller's subject pattern reads from. */
interface Resolved {
  stream: string;
  filter: string;
}

const decoder = new TextDecoder();

/** The event's JSON, or the raw bytes (base64) when it is not JSON. */
function decodeTolerantly(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    return { data_base64: Buffer.from(data).toString("base64") };
  }
}

/** True if `pattern` (a caller's subject) lies within `template` for `tenant`. */
function narrows(pattern: string[], template: string[], tenant: string): boolean {
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = pattern[i];
    if (t === ">") return p !== undefined;
    if (p === undefined || p === ">") return false;
    if (t === "{tenant}" && p !== tenant) return false;
    if (t !== "{tenant}" && t !== "*" && p !== t) return false;
  }
  return pattern.length === template.length;
}

/**
 * Tenant-scoped reads of the cluster's event streams (the aggregate service's
 * `AGGREGATE_EVENTS`, the contexts' event streams). The tenant token always comes from the key:
 * a caller's pattern may only narrow the tenant's own subjects (`*` and a final `>` are allowed
 * after the tenant token; nothing may replace it).
 */
export class DomainEvents {
  constructor(
    private readonly source: DomainEventSource,
    private readonly rules: EventStreamRule[],
    private readonly namespace: string,
  ) {}

  /** Maps a caller's subject to a stream and a filter, or throws a 400 naming the problem. */
  resolve(tenant: string, subject: string): Resolved {
    const tokens = subject.split(".");
    const valid = tokens.every(
      (t, i) => t === "*" || (t === ">" && i === tokens.length - 1) || SUBJECT_TOKEN.test(t),
    );
    if (!valid) {
      throw new BadRequestError(
        "'subject' must be dot-separated tokens of letters, digits, '_' or '-', with '*' or a final '>'.",
        "subject",
      );
    }
    const rule = this.rules.find((r) => narrows(tokens, r.template, tenant));
    if (!rule) {
      const allowed = this.rules.map((r) => r.template.join(".").replace("{tenant}", tenant));
      throw new BadRequestError(
        `'subject' must lie within your tenant's events: one of ${allowed.join(", ")}.`,
        "subject",
      );
    }
    const prefix = this.namespace === "" ? "" : `${this.namespace}.`;
    const streamPrefix =
      this.namespace === "" ? "" : `${this.namespace.toUpperCase().replace(/-/g, "_")}_`;
    return { stream: `${streamPrefix}${rule.stream}`, filter: `${prefix}${subject}` };
  }

  /**
   * Subscribes a tenant to `subject` from `start`; `onEvent` is awaited before the next event.
   * 404 when the stream does not exist on the cluster, 400 when `subject` matches nothing in it.
   */
  async subscribe(
    tenant: string,
    subject: string,
    start: EventStart,
    onEvent: (e: DomainEvent) => Promise<void>,
  ): Promise<DomainEventSubscription> {
    const { stream, filter } = this.resolve(tenant, subject);
    const strip = this.namespace === "" ? 0 : this.namespace.length + 1;
    return this.source.subscribe(
      { stream, filter, start, name: `evsub_${tenant}_${randomUUID()}` },
      (m) =>
        onEvent({
          seq: m.seq,
          subject: m.subject.slice(strip),
          time: m.time,
          event: decodeTolerantly(m.data),
        }),
    );
  }
}

/** Reads where a subscription starts from request values (query or WebSocket message). */
export function eventStart(v: {
  deliver?: string | undefined;
  start_seq?: number | string | undefined;
  start_time?: string | undefined;
  lastEventId?: string | undefined;
}): EventStart {
  // Stream sequences are exact integers here only below 2^53 (NATS refuses 2^64 and beyond).
  if (v.lastEventId !== undefined) {
    const n = Number(v.lastEventId);
    if (!Number.isSafeInteger(n) || n < 0 || n + 1 > Number.MAX_SAFE_INTEGER) {
      throw new BadRequestError("Bad Last-Event-ID.", "Last-Event-ID");
    }
    return { deliver: "seq", seq: n + 1 };
  }
  if (v.start_seq !== undefined) {
    const n = Number(v.start_seq);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new BadRequestError(
        `'start_seq' must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}.`,
        "start_seq",
      );
    }
    return { deliver: "seq", seq: n };
  }
  if (v.start_time !== undefined) {
    const t = Date.parse(v.start_time);
    // NATS reads RFC 3339 times, whose years have four digits: a year JavaScript can parse but
    // RFC 3339 cannot write (−271821, +275760, −000001) would fail there.
    const year = new Date(t).getUTCFullYear();
    if (Number.isNaN(t) || year < 1 || year > 9999) {
      throw new BadRequestError(
        "'start_time' must be an ISO 8601 time between the years 0001 and 9999.",
        "start_time",
      );
    }
    return { deliver: "time", time: new Date(t).toISOString() };
  }
  if (v.deliver === undefined || v.deliver === "new") return { deliver: "new" };
  if (v.deliver === "all") return { deliver: "all" };
  throw new BadRequestError("'deliver' must be 'new' or 'all'.", "deliver");
}
