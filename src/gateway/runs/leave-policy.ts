/**
 * What happens to a run when its last reader on this instance leaves (or when it finishes with
 * no reader): the rule as data, applied by {@link ChatRun}. Pure, so it is tested row by row.
 *
 * - `none`: nothing to do (a reader is still there, or the grace period is already running).
 * - `close`: the run is over here (it finished, or was closed): free what it holds.
 * - `keep`: it runs to its end without readers (background, or a reader was told to read the
 *   whole answer later); this instance keeps following it.
 * - `wait`: start the cancel grace period; a reader coming back stops it.
 * - `abandon`: nobody reads it here any more: cancel it unless it is read elsewhere.
 */
export type LeaveAction = "none" | "close" | "keep" | "wait" | "abandon";

/** What {@link whenLastReaderLeaves} looks at. */
export interface LeaveState {
  readers: number;
  finished: boolean;
  closed: boolean;
  background: boolean;
  /** A reader was told to read the whole answer later: it must exist. */
  runsToEnd: boolean;
  /** The grace period is already running. */
  waiting: boolean;
  cancelGraceMs: number;
}

export function whenLastReaderLeaves(s: LeaveState): LeaveAction {
  if (s.readers > 0) return "none";
  if (s.finished || s.closed) return "close";
  if (s.background || s.runsToEnd) return "keep";
  if (s.cancelGraceMs <= 0) return "abandon";
  return s.waiting ? "none" : "wait";
}

/**
 * What an abandoned run does, once it is known whether another instance holds a reader:
 * - `none`: a reader came back meanwhile, or the run ended on its own.
 * - `close`: read on another instance (that one decides), or cancelled already (the client
 *   asked, the deadline passed): stop following it here, write nothing.
 * - `cancel`: write its cancel command (the client left), then close.
 */
export type AbandonAction = "none" | "close" | "cancel";

export function whenAbandoned(s: {
  readers: number;
  finished: boolean;
  closed: boolean;
  readElsewhere: boolean;
  cancelRequested: boolean;
}): AbandonAction {
  if (s.readers > 0 || s.closed) return "none";
  if (s.readElsewhere) return "close";
  if (s.finished) return "none";
  return s.cancelRequested ? "close" : "cancel";
}
