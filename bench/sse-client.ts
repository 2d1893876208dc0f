import { createParser } from "eventsource-parser";

/** Timings of one streamed completion, measured by the client. */
export interface StreamTiming {
  ttftMs: number;
  totalMs: number;
  chunks: number;
  text: string;
}

/** Streams one chat completion with fetch and reads it as SSE. */
export async function streamOnce(
  baseURL: string,
  apiKey: string,
  model: string,
  text: string,
): Promise<StreamTiming> {
  const start = performance.now();
  const res = await fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: text }],
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let ttft = -1;
  let chunks = 0;
  let got = "";
  let done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === "[DONE]") {
        done = true;
        return;
      }
      const content = (JSON.parse(ev.data) as { choices: { delta?: { content?: string } }[] })
        .choices[0]?.delta?.content;
      if (content) {
        if (ttft < 0) ttft = performance.now() - start;
        chunks++;
        got += content;
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const part of res.body)
    parser.feed(decoder.decode(part as Uint8Array, { stream: true }));
  if (!done) throw new Error("stream ended without [DONE]");
  return { ttftMs: ttft, totalMs: performance.now() - start, chunks, text: got };
}
