import type { FastifyRequest } from "fastify";
import type { Admission, RateState } from "./admission.js";
import { assertModelAccess } from "./auth.js";
import type { ChatCommands, ChatInput } from "./chat-commands.js";
import { assertPromptWithinLimits } from "./limits.js";
import type { ChatRun } from "./runs/chat-run.js";
import type { ChatRuns, StartOptions } from "./runs/chat-runs.js";

/**
 * Admits a chat request from any surface (HTTP, WebSocket): validation, model access, prompt
 * limits, then the key's rate (only requests that would be accepted count) and stream slot,
 * then the run. Throws the error the surface reports.
 */
export class ChatAdmission {
  constructor(
    private readonly deps: {
      commands: ChatCommands;
      runs: ChatRuns;
      admission: Admission;
      limits: { maxMessages: number; maxPromptChars: number };
    },
  ) {}

  async start(
    req: FastifyRequest,
    body: unknown,
    opts: Omit<StartOptions, "releaseSlot">,
  ): Promise<{ run: ChatRun; input: ChatInput; rate: RateState }> {
    const input = this.deps.commands.parse(body);
    assertModelAccess(opts.principal, input.capability.id);
    assertPromptWithinLimits(input.request.messages, this.deps.limits);
    const rate = await this.deps.admission.rate(req);
    const releaseSlot = this.deps.admission.slot(opts.principal);
    const run = await this.deps.runs.start(input, { ...opts, releaseSlot });
    return { run, input, rate };
  }
}
