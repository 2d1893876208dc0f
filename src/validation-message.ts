import type { z } from "zod";

/** One zod issue, in the shape every issue code shares plus the fields read below. */
type Issue = z.core.$ZodIssue;

/** How many problems one message lists before "and N more". */
const MAX_LISTED = 3;

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "an array",
  object: "an object",
  null: "null",
  bigint: "an integer",
};

/** `messages[0].content` from `["messages", 0, "content"]`; null for the body itself. */
function paramOf(path: readonly PropertyKey[]): string | null {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  }
  return out || null;
}

const plural = (n: number | bigint, word: string) => `${n} ${word}${Number(n) === 1 ? "" : "s"}`;

/** What is wrong with the value, in plain words ("must be a number"). */
function problemOf(issue: Issue): { path: PropertyKey[]; text: string } {
  const path = [...issue.path];
  switch (issue.code) {
    case "invalid_type":
      // zod reports a missing field as an invalid type whose received value is undefined.
      if (/received undefined$/.test(issue.message)) return { path, text: "required" };
      return { path, text: `must be ${ARTICLE[issue.expected] ?? issue.expected}` };
    case "too_small": {
      const bound = issue.minimum;
      const at = issue.inclusive === false ? "more than" : "at least";
      if (issue.origin === "array" || issue.origin === "set") {
        return { path, text: `must contain ${at} ${plural(bound, "item")}` };
      }
      if (issue.origin === "string") {
        return { path, text: `must be ${at} ${plural(bound, "character")} long` };
      }
      return {
        path,
        text:
          issue.inclusive === false ? `must be greater than ${bound}` : `must be at least ${bound}`,
      };
    }
    case "too_big": {
      const bound = issue.maximum;
      const at = issue.inclusive === false ? "fewer than" : "at most";
      if (issue.origin === "array" || issue.origin === "set") {
        return { path, text: `must contain ${at} ${plural(bound, "item")}` };
      }
      if (issue.origin === "string") {
        return {
          path,
          text: `must be ${issue.inclusive === false ? "shorter than" : "at most"} ${plural(bound, "character")} long`,
        };
      }
      return {
        path,
        text: issue.inclusive === false ? `must be less than ${bound}` : `must be at most ${bound}`,
      };
    }
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      return {
        path,
        text: values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(", ")}`,
      };
    }
    case "unrecognized_keys":
      return {
        path,
        text: `unknown ${issue.keys.length === 1 ? "field" : "fields"} ${issue.keys.map((k) => `'${k}'`).join(", ")}`,
      };
    case "invalid_format":
      return { path, text: `must be a valid ${issue.format}` };
    case "not_multiple_of":
      return { path, text: `must be a multiple of ${String(issue.divisor)}` };
    case "invalid_union":
      return unionProblem(issue, path);
    default:
      return { path, text: issue.message };
  }
}

/**
 * A value that matches none of a union's forms. When one form got further into the value (its
 * problems lie deeper), that form was probably meant: report its first problem. Otherwise list
 * what the forms expect ("must be a string or an array").
 */
function unionProblem(
  issue: Extract<Issue, { code: "invalid_union" }>,
  path: PropertyKey[],
): { path: PropertyKey[]; text: string } {
  const branches = issue.errors.filter((b) => b.length > 0);
  const depth = (b: Issue[]) => Math.max(...b.map((i) => i.path.length));
  const deepest = [...branches].sort((a, b) => depth(b) - depth(a))[0];
  if (deepest && depth(deepest) > 0) {
    const inner = problemOf(deepest[0]!);
    return { path: [...path, ...inner.path], text: inner.text };
  }
  const expected = branches
    .map((b) => b[0])
    .filter((i): i is Extract<Issue, { code: "invalid_type" }> => i?.code === "invalid_type")
    .map((i) => ARTICLE[i.expected] ?? i.expected);
  if (expected.length === branches.length && expected.length > 0) {
    return { path, text: `must be ${[...new Set(expected)].join(" or ")}` };
  }
  return { path, text: "does not match any accepted form" };
}

/**
 * A zod validation error as one plain sentence for an API client, and the parameter it is
 * about (OpenAI's `param`): `messages: must contain at least 1 item`, `model: required`,
 * `temperature: must be a number`. Several problems are joined with "; " (the first
 * {@link MAX_LISTED}, then "and N more"); `param` names the first. Problems with the body as a
 * whole are prefixed "request body".
 */
export function plainZodMessage(error: z.ZodError): { message: string; param: string | null } {
  const problems = error.issues.map((issue) => {
    const { path, text } = problemOf(issue);
    return { param: paramOf(path), text };
  });
  if (problems.length === 0) return { message: "invalid request", param: null };
  const listed = problems
    .slice(0, MAX_LISTED)
    .map((p) => `${p.param ?? "request body"}: ${p.text}`);
  const more = problems.length - MAX_LISTED;
  return {
    message: listed.join("; ") + (more > 0 ? `; and ${more} more` : ""),
    param: problems[0]!.param,
  };
}
