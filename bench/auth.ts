/**
 * The cost of the auth check per request, in µs: HS256 verification with jose, the same with
 * the verified-token cache hit, and the revocation lookup, against a baseline of parsing the
 * Authorization header alone. In-process micro-benchmark; part of `npm run bench`.
 */
import { writeFileSync } from "node:fs";
import { mintKey, JwtVerifier } from "../adapters/auth/jwt-verifier.js";
import { loadConfig } from "../src/config.js";
import { CachingVerifier } from "../src/gateway/http/caching-verifier.js";

const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const N = Number(process.env.BENCH_AUTH_ITERATIONS ?? 20_000);

async function timeIt(
  name: string,
  fn: () => unknown | Promise<unknown>,
): Promise<[string, number]> {
  for (let i = 0; i < 1000; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  const us = Number(process.hrtime.bigint() - start) / 1000 / N;
  return [name, us];
}

const token = await mintKey(SECRET, { tenant: "bench", ttlSecs: 3600, models: ["sea"], rpm: 600 });
const header = `Bearer ${token}`;
const { clockToleranceSecs } = loadConfig({}).auth;
const verifier = new JwtVerifier({ secret: SECRET, clockToleranceSecs });
const cached = new CachingVerifier(new JwtVerifier({ secret: SECRET, clockToleranceSecs }));
const revoked = new Set(Array.from({ length: 10_000 }, (_, i) => `jti-${i}`));

const rows = [
  await timeIt("baseline: parse the Authorization header", () =>
    /^Bearer\s+(\S{1,8192})\s*$/i.exec(header),
  ),
  await timeIt("HS256 verify (jose), every request", () => verifier.verify(token)),
  await timeIt("HS256 verify, cached (what the gateway runs)", () => cached.verify(token)),
  await timeIt("revocation lookup (10 000 revoked ids)", () => revoked.has("not-revoked")),
];
const md = [
  `Auth check cost per request, ${N} iterations, node ${process.version}.`,
  "",
  "| check | µs per request |",
  "|---|---:|",
  ...rows.map(([name, us]) => `| ${name} | ${us.toFixed(2)} |`),
].join("\n");
process.stdout.write(md + "\n");
writeFileSync("bench/last-auth.md", md + "\n");
