import type { ChatMessage } from "../../contracts/index.js";

/**
 * What the user typed and what the agent attached travel in one user message as separate text
 * parts: the typed text first, then one part per attached file wrapped as
 * `<context ref="<uri>">…</context>` (how the model sees an attachment). Replay splits them again,
 * so a loaded session shows the typed text, with each attachment as a link, not its contents.
 */

const ENVELOPE = /^<context ref="([^"]*)">\n([\s\S]*)\n<\/context>$/;

const escapeRef = (uri: string) => uri.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
const unescapeRef = (ref: string) => ref.replace(/&quot;/g, '"').replace(/&amp;/g, "&");

/** One attached file as a message part. */
export function contextPart(uri: string, text: string): { type: "text"; text: string } {
  return { type: "text", text: `<context ref="${escapeRef(uri)}">\n${text}\n</context>` };
}

/** The user message of a turn: the typed text, then the attached files. */
export function userMessage(typed: string, attached: { uri: string; text: string }[]): ChatMessage {
  const parts = attached.map((a) => contextPart(a.uri, a.text));
  return {
    role: "user",
    content: typed || parts.length === 0 ? [{ type: "text", text: typed }, ...parts] : parts,
  };
}

/** A user message split into what was typed and the URIs of what was attached. */
export function splitUserMessage(message: ChatMessage): { typed: string; refs: string[] } {
  const content = message.content;
  if (typeof content === "string") return { typed: content, refs: [] };
  const typed: string[] = [];
  const refs: string[] = [];
  for (const part of content ?? []) {
    if (part.type !== "text" || typeof part.text !== "string") continue;
    const m = ENVELOPE.exec(part.text);
    if (m) refs.push(unescapeRef(m[1]!));
    else typed.push(part.text);
  }
  return { typed: typed.join(""), refs };
}

/** A title from the start of a first message as the gateway lists it (context cut off). */
export function titleOf(start: string | null): string | null {
  if (!start) return null;
  const cut = start.indexOf('<context ref="');
  const typed = (cut >= 0 ? start.slice(0, cut) : start).trim();
  if (typed) return typed.split("\n")[0]!.slice(0, 100);
  const ref = /^<context ref="([^"]*)"/.exec(start)?.[1];
  return ref ? unescapeRef(ref).split("/").pop()!.split("#")[0]! : null;
}
