/**
 * The bus refuses a message for what it is (a header value with CR/LF, a payload over the
 * server's limit), not because it is unreachable: sending it again can never succeed. A relay
 * dead-letters such a message and tells the stream's client, instead of retrying it forever.
 */
export class MessageRefusedError extends Error {
  override name = "MessageRefusedError";
}

/** A header value the bus accepts: one line (what a client's own id might break). */
export const safeHeaderValue = (v: string) => v.replace(/[\r\n]/g, " ");
