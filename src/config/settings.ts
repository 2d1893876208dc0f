import type { z } from "zod";

/**
 * One setting: the environment variable it is read from, its schema (the default, the bounds,
 * the message for a bad value), and optionally what the valid value becomes (a list parsed from
 * its text, seconds as milliseconds). Declared once, in the tree of the role that reads it.
 */
export interface Setting<T> {
  readonly env: string;
  readonly schema: z.ZodType;
  /** Turns the valid value into the setting's value; `fail` reports a problem instead. */
  readonly then: (value: never, fail: (problem: string) => void) => T;
}

/** A setting of variable `env`; the value is what `schema` (and then `then`) makes of it. */
export function setting<S extends z.ZodType>(env: string, schema: S): Setting<z.output<S>>;
export function setting<S extends z.ZodType, T>(
  env: string,
  schema: S,
  then: (value: z.output<S>, fail: (problem: string) => void) => T,
): Setting<T>;
export function setting(
  env: string,
  schema: z.ZodType,
  then: (value: never, fail: (problem: string) => void) => unknown = (v) => v,
): Setting<unknown> {
  return { env, schema, then };
}

/** Settings grouped as the configuration object groups them. */
export interface SettingsTree {
  readonly [key: string]: Setting<unknown> | SettingsTree;
}

/** The configuration a tree declares: its shape, with each setting's value type. */
export type Settings<T extends SettingsTree> = {
  readonly [K in keyof T]: T[K] extends Setting<infer V>
    ? V
    : T[K] extends SettingsTree
      ? Settings<T[K]>
      : never;
};

const isSetting = (v: Setting<unknown> | SettingsTree): v is Setting<unknown> =>
  typeof (v as Setting<unknown>).env === "string" && "schema" in v;

/**
 * Reads a tree from `env`, every setting at once: a bad value adds `VARIABLE: why` to
 * `problems` (and its place is left undefined). The result is frozen, all the way down.
 */
export function readSettings<T extends SettingsTree>(
  tree: T,
  env: Record<string, string | undefined>,
  problems: string[],
): Settings<T> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (!isSetting(node)) {
      out[key] = readSettings(node, env, problems);
      continue;
    }
    const parsed = node.schema.safeParse(env[node.env]);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${node.env}: ${issue.message}`);
      continue;
    }
    out[key] = node.then(parsed.data as never, (p) => problems.push(`${node.env}: ${p}`));
  }
  return Object.freeze(out) as Settings<T>;
}

/** Every setting of the trees, in declaration order. */
export function settingsOf(...trees: SettingsTree[]): Setting<unknown>[] {
  return trees.flatMap((tree) =>
    Object.values(tree).flatMap((node) => (isSetting(node) ? [node] : settingsOf(node))),
  );
}

/** The default of each variable that has one, as its schema applies it (before `then`). */
export function defaultsOf(...trees: SettingsTree[]): Record<string, unknown> {
  return Object.fromEntries(
    settingsOf(...trees)
      .map((s) => [s.env, s.schema.safeParse(undefined).data] as const)
      .filter(([, v]) => v !== undefined),
  );
}
