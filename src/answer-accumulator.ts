import type {
  ChatCompletedPayload,
  ChatDeltaPayload,
  ChoiceLogprobs,
  FinishReason,
  TokenLogprob,
} from "../contracts/index.js";

type ToolCall = NonNullable<ChatCompletedPayload["message"]["tool_calls"]>[number];

/**
 * Builds the whole answer from streamed deltas: content and reasoning concatenated, tool calls
 * accumulated by `index` (id and name arrive once, argument fragments are concatenated), token
 * log probabilities listed in order.
 */
export class AnswerAccumulator {
  private content = "";
  private reasoning = "";
  private sawContent = false;
  private readonly tools = new Map<number, ToolCall>();
  /** Null until a delta carries log probabilities. */
  private logprobs: { content: TokenLogprob[]; refusal: TokenLogprob[] } | null = null;

  add(delta: ChatDeltaPayload): void {
    if (delta.logprobs) {
      this.logprobs ??= { content: [], refusal: [] };
      for (const t of delta.logprobs.content ?? []) this.logprobs.content.push(t);
      for (const t of delta.logprobs.refusal ?? []) this.logprobs.refusal.push(t);
    }
    if (delta.content) {
      this.content += delta.content;
      this.sawContent = true;
    }
    if (delta.reasoning_content) this.reasoning += delta.reasoning_content;
    for (const t of delta.tool_calls ?? []) {
      const call = this.tools.get(t.index) ?? {
        id: "",
        type: "function" as const,
        function: { name: "", arguments: "" },
      };
      if (t.id) call.id = t.id;
      if (t.function?.name) call.function.name += t.function.name;
      if (t.function?.arguments) call.function.arguments += t.function.arguments;
      this.tools.set(t.index, call);
    }
  }

  /** The completed payload; usage defaults to zeros when the source reported none. */
  complete(
    finishReason: FinishReason | null,
    usage?: ChatCompletedPayload["usage"],
  ): ChatCompletedPayload {
    const toolCalls = [...this.tools.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
    const message: ChatCompletedPayload["message"] = {
      role: "assistant",
      content: this.sawContent || toolCalls.length === 0 ? this.content : null,
    };
    if (this.reasoning) message.reasoning_content = this.reasoning;
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return {
      message,
      finish_reason: finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
      usage: usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      ...(this.logprobs ? { logprobs: this.answerLogprobs(this.logprobs) } : {}),
    };
  }

  /** OpenAI's shape: `content` always (null if no token had any), `refusal` only when there is one. */
  private answerLogprobs(l: { content: TokenLogprob[]; refusal: TokenLogprob[] }): ChoiceLogprobs {
    return {
      content: l.content.length > 0 ? [...l.content] : null,
      ...(l.refusal.length > 0 ? { refusal: [...l.refusal] } : {}),
    };
  }
}
