import type { ChatMessage, EditorActionInfo } from "../../contracts/index.js";

/**
 * One prompt turn: cancelling it aborts its gateway work at once and silences it (nothing more
 * is sent for it), and the prompt then answers `cancelled`.
 */
export class Turn {
  readonly controller = new AbortController();
  private cancelledFlag = false;
  private readonly hooks: (() => void)[] = [];
  private resolveCancelled!: (r: "cancelled") => void;
  /** Resolves when the turn is cancelled. */
  readonly cancelled = new Promise<"cancelled">((r) => (this.resolveCancelled = r));

  get isCancelled(): boolean {
    return this.cancelledFlag;
  }

  /** Runs `hook` on cancel (at once if already cancelled): e.g. cancel the gateway run. */
  onCancel(hook: () => void): void {
    if (this.cancelledFlag) hook();
    else this.hooks.push(hook);
  }

  cancel(): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    this.controller.abort();
    for (const hook of this.hooks.splice(0)) hook();
    this.resolveCancelled("cancelled");
  }
}

/** A session in this agent process: the gateway holds its runs, this only what a turn needs. */
export class AcpSession {
  /** The chat so far, sent with each chat run (rebuilt from the gateway on load). */
  readonly history: ChatMessage[] = [];
  /** The user chose "always" for edits in this session. */
  allowEdits = false;
  current: Turn | null = null;

  constructor(
    readonly id: string,
    readonly cwd: string,
    public actions: EditorActionInfo[],
  ) {}

  /** Starts a turn (a turn still running is cancelled: a client waits for one at a time). */
  begin(): Turn {
    this.current?.cancel();
    const turn = new Turn();
    this.current = turn;
    return turn;
  }

  end(turn: Turn): void {
    if (this.current === turn) this.current = null;
  }
}

/** The system message every chat run starts with; it also records the session's cwd. */
export function systemMessage(cwd: string): ChatMessage {
  return {
    role: "system",
    content:
      "You are SEA, a coding assistant in the user's editor, reached through the SEA gateway. " +
      'Files the user attaches follow their message as <context ref="…"> blocks.\n' +
      `Working directory: ${cwd}`,
  };
}

/** The cwd a session's system message records (what `session/list` reports). */
export function cwdOf(instructions: string | null): string | null {
  return /^Working directory: (.+)$/m.exec(instructions ?? "")?.[1] ?? null;
}
