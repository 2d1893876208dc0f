import type {
  ChatCompletedPayload,
  ChatCompletion,
  ChatCompletionChunk,
  ChatDeltaPayload,
  ChoiceLogprobs,
  ChunkDelta,
  FinishReason,
  Usage,
} from "../../../contracts/index.js";
import { flatString } from "../../../contracts/flat-string.js";
import type { RunIdentity } from "../runs/run-identity.js";

/** Builds the OpenAI wire shapes for one run; `id`, `created`, `model` stay fixed. */
export class OpenAIFormatter {
  /** The text of a chunk around its delta: the same for every chunk of the run. */
  private readonly chunkHead: string;
  private static readonly CHUNK_TAIL = ',"logprobs":null,"finish_reason":null}]}';
  private static readonly LOGPROBS_TAIL = ',"finish_reason":null}]}';

  constructor(private readonly run: Pick<RunIdentity, "id" | "created" | "model">) {
    // Flat: held for the run's whole life (see flatString).
    this.chunkHead = flatString(
      `{"id":${JSON.stringify(run.id)},"object":"chat.completion.chunk",` +
        `"created":${run.created},"model":${JSON.stringify(run.model)},` +
        `"choices":[{"index":0,"delta":`,
    );
  }

  chunk(
    delta: ChunkDelta,
    finishReason: FinishReason | null = null,
    logprobs: ChoiceLogprobs | null = null,
  ): ChatCompletionChunk {
    return {
      id: this.run.id,
      object: "chat.completion.chunk",
      created: this.run.created,
      model: this.run.model,
      choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
    };
  }

  deltaChunk(p: ChatDeltaPayload): ChatCompletionChunk {
    return this.chunk(chunkDelta(p), null, p.logprobs ?? null);
  }

  /**
   * A delta's chunk as JSON text, exactly as `JSON.stringify(deltaChunk(p))` would write it,
   * without building and serialising the parts that never change (this runs for every chunk).
   */
  deltaChunkJson(p: ChatDeltaPayload): string {
    const delta =
      p.reasoning_content === undefined && p.tool_calls === undefined && p.content !== undefined
        ? `{"content":${JSON.stringify(p.content)}}`
        : JSON.stringify(chunkDelta(p));
    if (p.logprobs) {
      return `${this.chunkHead}${delta},"logprobs":${JSON.stringify(p.logprobs)}${OpenAIFormatter.LOGPROBS_TAIL}`;
    }
    return this.chunkHead + delta + OpenAIFormatter.CHUNK_TAIL;
  }

  /** The usage chunk: `choices: []` and plain integers (Zed's parser requires both). */
  usageChunk(usage: Usage): ChatCompletionChunk {
    return {
      id: this.run.id,
      object: "chat.completion.chunk",
      created: this.run.created,
      model: this.run.model,
      choices: [],
      usage: plainUsage(usage),
    };
  }

  completion(p: ChatCompletedPayload): ChatCompletion {
    return {
      id: this.run.id,
      object: "chat.completion",
      created: this.run.created,
      model: this.run.model,
      choices: [
        {
          index: 0,
          message: p.message,
          logprobs: p.logprobs ?? null,
          finish_reason: p.finish_reason,
        },
      ],
      usage: plainUsage(p.usage),
    };
  }
}

/** The fields of a delta a chunk carries, in the order clients see them. */
function chunkDelta(p: ChatDeltaPayload): ChunkDelta {
  const delta: ChunkDelta = {};
  if (p.content !== undefined) delta.content = p.content;
  if (p.reasoning_content !== undefined) delta.reasoning_content = p.reasoning_content;
  if (p.tool_calls !== undefined) delta.tool_calls = p.tool_calls;
  return delta;
}

function plainUsage(u: Usage): Usage {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
  };
}

/** One SSE event carrying a JSON value. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";
