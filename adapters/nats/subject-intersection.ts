/**
 * The subjects matched by both NATS patterns `a` and `b` (tokens separated by `.`, `*` one
 * token, a final `>` one or more), as one pattern, or null when none is matched by both.
 * NATS 2.9 takes a consumer filter only if it lies within the stream's subjects: a caller's
 * `tenant.acme.>` on a stream of `tenant.*.aggregate.*.*` becomes `tenant.acme.aggregate.*.*`.
 */
export function intersectSubjects(a: string, b: string): string | null {
  const x = a.split(".");
  const y = b.split(".");
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === ">") return q === undefined ? null : [...out, ...y.slice(i)].join(".");
    if (q === ">") return p === undefined ? null : [...out, ...x.slice(i)].join(".");
    if (p === undefined || q === undefined) return p === q ? out.join(".") : null;
    if (p === "*") out.push(q);
    else if (q === "*" || p === q) out.push(p);
    else return null;
  }
}
