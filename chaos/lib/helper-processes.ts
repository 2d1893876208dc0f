import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

/** A TypeScript helper process of the suite (mocks, load client), run with tsx. */
export function script(file: string, argv: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join("chaos", file), ...argv], {
    stdio: ["pipe", "pipe", "inherit"],
  });
}

/** The port a helper prints as `listening <port>`. */
export async function listeningPort(p: ChildProcess): Promise<number> {
  const [line] = (await once(p.stdout!, "data")) as [Buffer];
  return Number(/listening (\d+)/.exec(line.toString())?.[1]);
}

/** Lines a process prints as JSON, delivered one by one. */
export function jsonLines(p: ChildProcess, onLine: (v: Record<string, unknown>) => void): void {
  let buf = "";
  p.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onLine(JSON.parse(line) as Record<string, unknown>);
    }
  });
}
