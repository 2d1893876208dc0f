/**
 * The chaos suite's client, in its own process: sends a scenario's streaming chat requests
 * (each with its own text and an Idempotency-Key) at their planned times, reads them as SSE,
 * and behaves as a careful client does when a connection breaks without an answer or an error:
 * it resumes on the other gateway instance, with GET /v1/chat/completions/{id}/events and
 * Last-Event-ID when it knows the stream id, else by POSTing again with the same
 * Idempotency-Key. HTTP errors and error events are final (they are what the table counts as
 * clear errors). Loads go to 127.0.0.1 only; every request is bounded by the plan's timeout.
 *
 * Usage: the plan (lib/load-plan.ts) as JSON on stdin. Prints `{"type":"started","at":…}`,
 * then `{"type":"results","results":[…]}` when every request has ended.
 */
import { createParser } from "eventsource-parser";
import type { Exchange, LoadPlan, PlannedRequest, RequestReport } from "./lib/load-plan.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readStdin(): Promise<string> {
  let s = "";
  for await (const d of process.stdin) s += String(d);
  return s;
}

interface ErrorBody {
  error?: { message?: string; code?: string | null };
}

/** One request, through as many exchanges as it takes. */
async function runRequest(plan: LoadPlan, r: PlannedRequest): Promise<RequestReport> {
  const report: RequestReport = {
    tag: r.tag,
    streamId: "",
    outcome: "broken",
    text: "",
    exchanges: [],
    startedAt: Date.now(),
    endedAt: 0,
    chunkTimes: [],
  };
  const deadline = AbortSignal.timeout(plan.timeoutMs);
  let gateway = r.gateway;
  let lastSeq = 0;
  const body = JSON.stringify({
    model: r.model,
    stream: true,
    messages: [{ role: "user", content: r.text }],
  });
  for (let i = 0; i <= plan.maxResumes; i++) {
    const base = plan.gateways[gateway]!;
    const kind: Exchange["kind"] = i === 0 ? "post" : report.streamId ? "resume" : "retry";
    const exchange: Exchange = { kind, gateway, status: 0, end: "broken" };
    report.exchanges.push(exchange);
    const headers: Record<string, string> = { authorization: `Bearer ${plan.key}` };
    let res: Response;
    try {
      if (kind === "resume") {
        headers["last-event-id"] = String(lastSeq);
        res = await fetch(`${base}/chat/completions/${report.streamId}/events`, {
          headers,
          signal: deadline,
        });
      } else {
        headers["content-type"] = "application/json";
        headers["idempotency-key"] = r.idempotencyKey;
        res = await fetch(`${base}/chat/completions`, {
          method: "POST",
          headers,
          body,
          signal: deadline,
        });
      }
    } catch (err) {
      if (deadline.aborted) {
        exchange.end = "timeout";
        report.outcome = "timeout";
        break;
      }
      const code = (err as { cause?: { code?: string } }).cause?.code;
      exchange.end = code === "ECONNREFUSED" ? "refused" : "broken";
      gateway = (gateway + 1) % plan.gateways.length;
      await sleep(200);
      continue;
    }
    exchange.status = res.status;
    report.streamId ||= res.headers.get("x-stream-id") ?? "";
    if (res.status !== 200) {
      const b = (await res.json().catch(() => ({}))) as ErrorBody;
      exchange.end = "http-error";
      report.outcome = "error";
      report.error = {
        status: res.status,
        code: b.error?.code ?? null,
        message: String(b.error?.message ?? ""),
      };
      break;
    }
    let ended: "done" | "error-event" | null = null;
    const parser = createParser({
      onEvent: (ev) => {
        if (ended) return;
        if (ev.data === "[DONE]") {
          ended = "done";
          return;
        }
        const v = JSON.parse(ev.data) as ErrorBody & {
          choices?: { delta?: { content?: string } }[];
        };
        if (v.error) {
          ended = "error-event";
          report.error = {
            status: 200,
            code: v.error.code ?? null,
            message: String(v.error.message ?? ""),
          };
          return;
        }
        if (ev.id) lastSeq = Number(ev.id);
        const content = v.choices?.[0]?.delta?.content;
        if (content) {
          report.text += content;
          report.chunkTimes.push(Date.now());
        }
      },
    });
    try {
      const decoder = new TextDecoder();
      for await (const part of res.body!) parser.feed(decoder.decode(part, { stream: true }));
    } catch {
      if (deadline.aborted) {
        exchange.end = "timeout";
        report.outcome = "timeout";
        break;
      }
    }
    if (ended === "done") {
      exchange.end = "done";
      report.outcome = "done";
      break;
    }
    if (ended === "error-event") {
      exchange.end = "error-event";
      report.outcome = "error";
      break;
    }
    // Broken without an answer or an error (the gateway died): resume elsewhere.
    gateway = (gateway + 1) % plan.gateways.length;
    await sleep(200);
  }
  report.endedAt = Date.now();
  return report;
}

async function main(): Promise<void> {
  const plan = JSON.parse(await readStdin()) as LoadPlan;
  const start = Date.now();
  process.stdout.write(JSON.stringify({ type: "started", at: start }) + "\n");
  const results = await Promise.all(
    plan.requests.map(async (r) => {
      await sleep(Math.max(0, start + r.atMs - Date.now()));
      return runRequest(plan, r);
    }),
  );
  process.stdout.write(JSON.stringify({ type: "results", results }) + "\n");
}

void main();
