import type { ResponseStreamEvent } from "../../../contracts/index.js";

/**
 * One Responses event as SSE: `event: <type>` and `data: <json>` carrying the same `type`
 * (Codex reads only the data; the SDK and LangChain read both).
 */
export function responseEventSse(event: ResponseStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Several events as one write (events that arrived together are written together). */
export function responseEventsSse(events: readonly ResponseStreamEvent[]): string {
  let text = "";
  for (const e of events) text += responseEventSse(e);
  return text;
}
