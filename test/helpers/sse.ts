import type OpenAI from "openai";
import type { Diagnostic, TextEdit } from "../../contracts/index.js";
import type { EditorActionResponse } from "../../src/gateway/editor/action-result.js";

/** The `data:` payloads of an SSE body, with the `id:` of each event (comments left out). */
export function sseEvents(sse: string): { id: number | undefined; data: string }[] {
  const out: { id: number | undefined; data: string }[] = [];
  for (const block of sse.split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
    if (data === undefined) continue;
    const id = lines.find((l) => l.startsWith("id: "))?.slice(4);
    out.push({ id: id === undefined ? undefined : Number(id), data });
  }
  return out;
}

/** The JSON chunks of an SSE body (comments, `[DONE]` and error events left out). */
export function sseChunks(sse: string): OpenAI.ChatCompletionChunk[] {
  return sseEvents(sse)
    .filter((e) => e.data.startsWith("{") && !e.data.startsWith('{"error"'))
    .map((e) => JSON.parse(e.data) as OpenAI.ChatCompletionChunk);
}

/** The concatenated `delta.content` of an SSE body. */
export function sseContent(sse: string): string {
  return sseChunks(sse)
    .map((c) => c.choices[0]?.delta?.content ?? "")
    .join("");
}

/** The error event of an SSE body, if it has one. */
export function sseError(sse: string): { message: string; code: string | null } | undefined {
  const e = sseEvents(sse).find((x) => x.data.startsWith('{"error"'));
  return e
    ? (JSON.parse(e.data) as { error: { message: string; code: string | null } }).error
    : undefined;
}

/** The data of an editor action's SSE event, whichever event it is. */
export type ActionEventData = Partial<EditorActionResponse & TextEdit & Diagnostic> & {
  text?: string;
  error?: { message: string; code: string | null; type: string };
};

/** Every event of an SSE body with its `id:`, `event:` name and parsed JSON data. */
export function sseNamedEvents(
  sse: string,
): { id: number | undefined; event: string; data: ActionEventData }[] {
  const out: { id: number | undefined; event: string; data: ActionEventData }[] = [];
  for (const block of sse.split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
    if (data === undefined) continue;
    const id = lines.find((l) => l.startsWith("id: "))?.slice(4);
    const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
    out.push({
      id: id === undefined ? undefined : Number(id),
      event,
      data: JSON.parse(data) as ActionEventData,
    });
  }
  return out;
}
