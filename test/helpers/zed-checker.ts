/**
 * Zed's rules for an OpenAI-compatible stream (CLIENTS.md): Zed reads the body line by line and
 * skips lines that do not start with `data:` (so `id:` lines and comments pass); every data line
 * is either
 * `{choices:[{index, delta?, finish_reason?}], usage?}` — `choices` and `index` required, the
 * usage chunk with `choices: []`, usage fields plain integers — or `{error:{message}}`.
 * Returns the problems found (empty when Zed would accept the stream).
 */
export function zedProblems(sse: string): string[] {
  const problems: string[] = [];
  const isInt = (v: unknown) => typeof v === "number" && Number.isInteger(v);
  let done = false;
  for (const raw of sse.split("\n\n")) {
    // SSE fields Zed ignores: the event id (our resume cursor), event names, comments.
    const block = raw
      .split("\n")
      .filter((line) => !/^(id|event|retry):/.test(line) && !line.startsWith(":"))
      .join("\n");
    if (block === "") continue;
    if (!block.startsWith("data: ")) {
      problems.push(`not a data line: ${JSON.stringify(block.slice(0, 80))}`);
      continue;
    }
    const data = block.slice(6);
    if (data === "[DONE]") {
      done = true;
      continue;
    }
    if (done) problems.push("data after [DONE]");
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(data) as Record<string, unknown>;
    } catch {
      problems.push(`not JSON: ${data.slice(0, 80)}`);
      continue;
    }
    if ("error" in v) {
      const e = v.error as { message?: unknown } | null;
      if (typeof e?.message !== "string") problems.push("error without message");
      continue;
    }
    if (!Array.isArray(v.choices)) {
      problems.push("chunk without choices");
      continue;
    }
    for (const c of v.choices as Record<string, unknown>[]) {
      if (!isInt(c.index)) problems.push("choice without integer index");
      if (c.delta !== undefined && (typeof c.delta !== "object" || c.delta === null))
        problems.push("delta is not an object");
      const fr = c.finish_reason;
      if (fr !== undefined && fr !== null && typeof fr !== "string")
        problems.push("bad finish_reason");
      const calls = (c.delta as { tool_calls?: { index?: unknown }[] } | undefined)?.tool_calls;
      for (const t of calls ?? []) if (!isInt(t.index)) problems.push("tool call without index");
    }
    if (v.usage !== undefined && v.usage !== null) {
      const u = v.usage as Record<string, unknown>;
      if (!["prompt_tokens", "completion_tokens", "total_tokens"].every((k) => isInt(u[k])))
        problems.push("usage fields are not plain integers");
      if ((v.choices as unknown[]).length !== 0) problems.push("usage chunk with choices");
    }
  }
  return problems;
}
