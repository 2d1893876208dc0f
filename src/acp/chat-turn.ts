import { randomUUID } from "node:crypto";
import * as acp from "@agentclientprotocol/sdk";
import { userMessage } from "./context-envelope.js";
import { STOP_REASONS, type ParsedPrompt } from "./prompt-content.js";
import { systemMessage } from "./session.js";
import type { TurnContext } from "./turn-context.js";

/**
 * A text prompt as one durable chat run: the session's history, then the user's message with
 * the attached files as context; deltas become `agent_message_chunk`s, reasoning
 * `agent_thought_chunk`s, the finish reason the stop reason. A cancel cancels the run on the
 * gateway (not only this reader).
 */
export async function chatTurn(cx: TurnContext, prompt: ParsedPrompt): Promise<acp.StopReason> {
  const attached: { uri: string; text: string }[] = [];
  for (const a of prompt.attachments) {
    const text =
      a.text ??
      (a.mention ? await cx.readFile(a.mention.path, a.mention.lines) : unreadable(a.uri));
    attached.push({ uri: a.uri, text });
  }
  const message = userMessage(prompt.typed, attached);
  const streamId = randomUUID();
  cx.turn.onCancel(() => {
    cx.gateway.cancelChat(streamId).catch((err: unknown) => {
      cx.log.warn({ err, streamId }, "could not cancel the chat run");
    });
  });
  let answer = "";
  const { finishReason } = await cx.gateway.chat(
    {
      model: cx.model,
      messages: [systemMessage(cx.session.cwd), ...cx.session.history, message],
      conversationId: cx.session.id,
      streamId,
    },
    {
      onContent: (text) => {
        answer += text;
        void cx.send({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } });
      },
      onReasoning: (text) => {
        void cx.send({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text } });
      },
    },
    cx.turn.controller.signal,
  );
  cx.session.history.push(message, { role: "assistant", content: answer });
  return STOP_REASONS[finishReason ?? "stop"] ?? "end_turn";
}

function unreadable(uri: string): never {
  throw new acp.RequestError(-32002, `Cannot read ${uri}: only file: resources can be read`, {
    uri,
  });
}
