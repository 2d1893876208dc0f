import { BadRequestError } from "./errors.js";

/**
 * What every request from outside is held to before anything of it is kept: text Postgres can
 * store, and JSON of bounded depth. Both are checked without recursion, so hostile input cannot
 * exhaust the stack here either.
 */

/** Deepest nesting of arrays and objects a request may have (real ones stay far below). */
export const MAX_JSON_DEPTH = 64;

/** A lone UTF-16 surrogate: JSON can carry one (`"\ud800"`), jsonb refuses it (22P05). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored as text, or null. */
function unstorable(s: string): string | null {
  if (s.includes("\0")) return "a NUL character (U+0000)";
  if (LONE_SURROGATE.test(s)) return "a lone UTF-16 surrogate (invalid Unicode)";
  return null;
}

/** `messages[0].content` from a parent path and a key. */
const pathOf = (parent: string, key: string | number) =>
  typeof key === "number" ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/**
 * The first place in `value` (a path such as `messages[0].content`; for a key, the path of the
 * object holding it) whose text Postgres cannot store, or null.
 */
export function findUnstorableText(
  value: unknown,
  root = "",
): { path: string; problem: string } | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      const problem = unstorable(v);
      if (problem) return { path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], pathOf(path, i)]);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!;
        const problem = unstorable(k);
        if (problem) return { path: path || k, problem: `a key with ${problem}` };
        stack.push([child, pathOf(path, k)]);
      }
    }
  }
  return null;
}

/** 400 naming the field when `value` holds text Postgres cannot store. */
export function assertStorableText(value: unknown, what: string, root = ""): void {
  const found = findUnstorableText(value, root);
  if (!found) return;
  throw new BadRequestError(
    `The ${what} contains ${found.problem}${found.path ? ` in '${found.path}'` : ""}, which is not supported.`,
    found.path || null,
    "unsupported_character",
  );
}

/** How deep `value` nests arrays and objects (1 for a flat object), stopping past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** 400 for JSON nested deeper than {@link MAX_JSON_DEPTH}. */
export function assertJsonDepth(value: unknown): void {
  if (jsonDepth(value) > MAX_JSON_DEPTH) {
    throw new BadRequestError(
      `The JSON nests deeper than ${MAX_JSON_DEPTH} levels, which is not supported.`,
      null,
      "too_deep",
    );
  }
}
