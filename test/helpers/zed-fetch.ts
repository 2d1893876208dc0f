import OpenAI from "openai";
import { zedProblems } from "./zed-checker.js";

/** Every violation of Zed's parser rules seen in this test file's streamed responses. */
export const zedViolations: string[] = [];
const pending: Promise<void>[] = [];

/**
 * A fetch that hands the body back untouched and, for event streams, also checks the whole
 * stream against Zed's rules once it ends (a copy of the body is read on the side).
 */
export const zedCheckedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (!res.body || !res.headers.get("content-type")?.includes("text/event-stream")) return res;
  const [forCaller, forChecker] = res.body.tee();
  const where = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  pending.push(
    new Response(forChecker)
      .text()
      .then((text) => void zedViolations.push(...zedProblems(text).map((p) => `${where}: ${p}`)))
      .catch(() => undefined), // the caller aborted: nothing complete to check
  );
  return new Response(forCaller, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
};

/** Waits for the checks of streams still being read. */
export async function settleZedChecks(): Promise<void> {
  await Promise.all(pending.splice(0));
}

/** The official SDK client as tests use it: no retries, every stream checked against Zed's rules. */
export function sdkClient(baseURL: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: zedCheckedFetch });
}
