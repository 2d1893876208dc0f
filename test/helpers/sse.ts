import type OpenAI from "openai";

/** The JSON chunks of an SSE body (comments, `[DONE]` and error events left out). */
export function sseChunks(sse: string): OpenAI.ChatCompletionChunk[] {
  return sse
    .split("\n\n")
    .filter((b) => b.startsWith("data: {") && !b.startsWith('data: {"error"'))
    .map((b) => JSON.parse(b.slice(6)) as OpenAI.ChatCompletionChunk);
}

/** The concatenated `delta.content` of an SSE body. */
export function sseContent(sse: string): string {
  return sseChunks(sse)
    .map((c) => c.choices[0]?.delta?.content ?? "")
    .join("");
}
