import { spawn, type ChildProcess } from "node:child_process";

/**
 * The embedded services run outside the terminal's process group, so a Ctrl-C reaches only the
 * gateway, which then stops them last, after its staged shutdown. Yet they must not outlive a
 * gateway that crashed or was killed. A small `sh` wrapper does both: `detached` puts it (and the
 * service it starts) in a session of its own, and it watches its stdin, a pipe only the gateway
 * holds: end of input means the gateway closed it (stop) or is gone (exit, crash, SIGKILL), and
 * the wrapper then sends the service its stop signal. Signals sent to the wrapper are passed on.
 *
 * Positional arguments: $1 the service's stop signal, then the command and its arguments.
 */
const WRAPPER = `
sig=$1; shift
exec 3<&0
"$@" </dev/null 3<&- &
service=$!
( while read -r _; do :; done <&3; kill -s "$sig" "$service" 2>/dev/null ) &
watcher=$!
exec 3<&-
trap 'kill -s "$sig" "$service" 2>/dev/null' INT TERM HUP
status=0
while kill -0 "$service" 2>/dev/null; do wait "$service"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/** A service process whose lifetime is tied to this process (see {@link WRAPPER}). */
export interface SupervisedProcess {
  /** The wrapper process (its process group holds the service too). */
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the service and its wrapper are gone. */
  readonly exited: Promise<number | string>;
  /** The last few kilobytes the service wrote to stderr. */
  stderrTail(): string;
  /** Sends the stop signal and waits; after `timeoutMs` the whole group is killed. */
  stop(timeoutMs?: number): Promise<void>;
  /**
   * Resolves `"ready"` once the service has written `text` to stderr, its exit code (or signal)
   * if it exits first, or `"timeout"` after `timeoutMs`.
   */
  readyWhen(text: string, timeoutMs: number): Promise<"ready" | "timeout" | number | string>;
}

/**
 * Starts `command` in its own session under the lifetime wrapper. `stopSignal` is what the
 * service treats as a fast, clean shutdown (SIGINT for PostgreSQL, SIGTERM for nats-server).
 */
export function startSupervised(opts: {
  command: string;
  args: string[];
  stopSignal: "SIGINT" | "SIGTERM";
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  onStderr?: (text: string) => void;
}): SupervisedProcess {
  const child = spawn(
    "/bin/sh",
    ["-c", WRAPPER, "sea-embedded", opts.stopSignal.slice(3), opts.command, ...opts.args],
    {
      detached: true,
      stdio: ["pipe", "ignore", "pipe"],
      env: opts.env ?? process.env,
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    },
  );
  let tail = "";
  const readers = new Set<() => void>();
  child.stderr!.on("data", (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-8000);
    opts.onStderr?.(text);
    for (const r of readers) r();
  });
  // The pipe breaks when the wrapper is gone; nothing to report then.
  child.stdin!.on("error", () => undefined);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    stderrTail: () => tail,
    readyWhen: (text, timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      let check = () => {};
      const ready = new Promise<"ready">((resolve) => {
        check = () => {
          if (tail.includes(text)) resolve("ready");
        };
        readers.add(check);
        check();
      });
      const timeout = new Promise<"timeout">((r) => (timer = setTimeout(r, timeoutMs, "timeout")));
      return Promise.race([ready, exited, timeout]).finally(() => {
        readers.delete(check);
        clearTimeout(timer);
      });
    },
    stop: async (timeoutMs = 10_000) => {
      if (!alive()) return;
      child.stdin!.end();
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
