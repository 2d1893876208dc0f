import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * Keep-alive connections to upstream models and handler services, without a cap: handler
 * concurrency is bounded by the worker's MAX_INFLIGHT, not here.
 */
const agents = {
  "http:": new Agent({ keepAlive: true, maxSockets: Infinity }),
  "https:": new HttpsAgent({ keepAlive: true, maxSockets: Infinity }),
};

/** A response whose headers have arrived; its body streams. */
export interface PostedResponse {
  status: number;
  header(name: string): string | undefined;
  /** The body as it arrives (chunks of bytes). */
  body: IncomingMessage;
  /** The whole body as text. */
  text(): Promise<string>;
}

/** Raised when the response headers (or, with `totalTimeoutMs`, the whole answer) took too long. */
export class HttpTimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * POSTs `body` with Node's HTTP client (a streamed model answer costs far less CPU per chunk than
 * through `fetch`'s web streams). Resolves once the headers arrive; rejects with the signal's
 * reason when aborted (the body is destroyed too), with {@link HttpTimeoutError} when the headers
 * (or the whole answer) take longer than allowed, or with the connection error.
 */
export function postStreaming(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { signal: AbortSignal; headersTimeoutMs: number; totalTimeoutMs?: number },
): Promise<PostedResponse> {
  const u = new URL(url);
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(opts.signal.reason);
    const req = send(u, {
      method: "POST",
      agent: agents[u.protocol as "http:" | "https:"],
      headers: { ...headers, "content-length": Buffer.byteLength(body) },
    });
    const fail = (err: unknown) => {
      clear();
      req.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    const onAbort = () => fail(opts.signal.reason);
    opts.signal.addEventListener("abort", onAbort, { once: true });
    const headersTimer = setTimeout(
      () => fail(new HttpTimeoutError(`no response within ${opts.headersTimeoutMs} ms`)),
      opts.headersTimeoutMs,
    );
    const totalTimer =
      opts.totalTimeoutMs === undefined
        ? null
        : setTimeout(
            () => req.destroy(new HttpTimeoutError(`no answer within ${opts.totalTimeoutMs} ms`)),
            opts.totalTimeoutMs,
          );
    const clear = () => {
      clearTimeout(headersTimer);
      if (totalTimer) clearTimeout(totalTimer);
      opts.signal.removeEventListener("abort", onAbort);
    };
    req.on("error", (err) => {
      clear();
      reject(err);
    });
    req.on("response", (res) => {
      clearTimeout(headersTimer);
      // The abort and the total timeout still end the body while it streams.
      res.once("close", clear);
      resolve({
        status: res.statusCode ?? 0,
        header: (name) => {
          const v = res.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        },
        body: res,
        text: async () => {
          let out = "";
          res.setEncoding("utf8");
          for await (const chunk of res) out += chunk as string;
          return out;
        },
      });
    });
    req.end(body);
  });
}
