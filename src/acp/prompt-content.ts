import * as acp from "@agentclientprotocol/sdk";
import { parseFileMention, type FileMention } from "./file-mentions.js";

/** A file (or other resource) the user attached to a prompt. */
export interface Attachment {
  uri: string;
  /** The file it names, if it is one (with a selection's lines). */
  mention: FileMention | null;
  /** Its text when embedded (`resource`); absent for a `resource_link` (read it from the client). */
  text?: string;
}

/** A prompt taken apart: what the user typed, what they attached, the slash command if any. */
export interface ParsedPrompt {
  typed: string;
  attachments: Attachment[];
  /** `/name rest…` at the start of the typed text (how a chosen slash command comes back). */
  command: { name: string; rest: string } | null;
}

const COMMAND = /^\/([A-Za-z0-9_-]+)(?:\s+([\s\S]*))?$/;

/**
 * Takes a prompt's blocks apart. Only what `initialize` advertised is accepted: text,
 * `resource_link` and text `resource`s (embeddedContext); an image, audio or binary resource is
 * invalid params naming the block.
 */
export function parsePrompt(blocks: readonly acp.ContentBlock[]): ParsedPrompt {
  const typed: string[] = [];
  const attachments: Attachment[] = [];
  blocks.forEach((block, i) => {
    switch (block.type) {
      case "text":
        typed.push(block.text);
        return;
      case "resource_link":
        attachments.push({ uri: block.uri, mention: parseFileMention(block.uri) });
        return;
      case "resource": {
        const r = block.resource;
        if ("text" in r) {
          attachments.push({ uri: r.uri, mention: parseFileMention(r.uri), text: r.text });
          return;
        }
        throw acp.RequestError.invalidParams(
          { block: i },
          `prompt[${i}] is a binary resource (${r.uri}); only text resources are supported`,
        );
      }
      default:
        throw acp.RequestError.invalidParams(
          { block: i, type: block.type },
          `prompt[${i}] is an ${block.type} block, which this agent does not accept (it advertises text, resource_link and text resources only)`,
        );
    }
  });
  const text = typed.join("\n").trim();
  const m = COMMAND.exec(text);
  return {
    typed: text,
    attachments,
    command: m ? { name: m[1]!, rest: (m[2] ?? "").trim() } : null,
  };
}

/** ACP stop reasons by OpenAI finish reason (data, not code); a missing one ends the turn. */
export const STOP_REASONS: Record<string, acp.StopReason> = {
  stop: "end_turn",
  tool_calls: "end_turn",
  length: "max_tokens",
  content_filter: "refusal",
};
