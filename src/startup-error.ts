/**
 * Boot refused for a reason the operator can fix: a service that cannot be reached, a port in
 * use, a missing program. The message is one line naming what to fix (the variable, the URL
 * with any password redacted, the path); `cause` keeps the underlying error for debug logs.
 */
export class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "StartupError";
  }
}
