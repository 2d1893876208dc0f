/**
 * Why a stream's work was cancelled: a closed set, so the `stream_cancellations_total` label and
 * the `chat_cancel` command's wording can never drift apart (a typo is a type error, not a
 * silent `other`). The key is the metric label; the text is what the command carries and the
 * client of a cancelled stream reads ("Cancelled: <text>.").
 */
export const CANCEL_REASONS = {
  /** The client asked (`POST …/cancel`, a WebSocket `cancel`). */
  client_request: "cancelled by the client",
  /** An MCP client cancelled its tool call. */
  mcp_client: "cancelled by the MCP client",
  /** The last reader of a plain stream left (after the cancel grace). */
  client_disconnected: "client disconnected",
  /** A foreground request ran past its deadline. */
  deadline: "deadline exceeded",
} as const;

export type CancelReason = keyof typeof CANCEL_REASONS;

/** The words a cancel command carries for `reason`. */
export const cancelText = (reason: CancelReason): string => CANCEL_REASONS[reason];
