import { SUBJECT_TOKEN } from "../contracts/index.js";

/**
 * Which of the cluster's event streams a tenant may read, and where its tenant token sits:
 * `AGGREGATE_EVENTS=tenant.{tenant}.>` lets a key of tenant `acme` read the subjects of
 * `AGGREGATE_EVENTS` under `tenant.acme.`, and nothing else.
 */
export interface EventStreamRule {
  stream: string;
  /** The subject template's tokens; exactly one is `{tenant}`. */
  template: string[];
}

/** The default: the aggregate service's stream and both contexts' event streams. */
export const DEFAULT_EVENT_STREAMS =
  "AGGREGATE_EVENTS=tenant.{tenant}.>,SEA_EVENTS=sea.event.*.*.{tenant}.>," +
  "VIBESPRO_EVENTS=vibespro.event.*.*.{tenant}.>";

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Parses `STREAM=template,STREAM=template`; returns the rules or the problems (one per bad
 * entry), so configuration validation can list them all.
 */
export function parseEventStreamRules(
  spec: string,
): { ok: true; rules: EventStreamRule[] } | { ok: false; problems: string[] } {
  const rules: EventStreamRule[] = [];
  const problems: string[] = [];
  for (const entry of spec
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [stream, template, ...rest] = entry.split("=");
    const tokens = template?.split(".") ?? [];
    const tenantAt = tokens.indexOf("{tenant}");
    const tokenOk = (t: string, i: number) =>
      t === "{tenant}" ||
      t === "*" ||
      (t === ">" && i === tokens.length - 1) ||
      SUBJECT_TOKEN.test(t);
    if (
      rest.length > 0 ||
      !stream ||
      !STREAM_NAME.test(stream) ||
      tenantAt < 0 ||
      tokens.lastIndexOf("{tenant}") !== tenantAt ||
      !tokens.every(tokenOk)
    ) {
      problems.push(
        `'${entry}' must be STREAM=subject.template with one {tenant} token (e.g. AGGREGATE_EVENTS=tenant.{tenant}.>)`,
      );
      continue;
    }
    rules.push({ stream, template: tokens });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rules };
}
