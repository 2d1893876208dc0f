import { createServer, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { writeSse } from "../../src/gateway/sse/run-sse.js";

describe("writeSse", () => {
  const closers: Array<() => void> = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it("waits for a slow reader without leaving listeners behind on the response", async () => {
    const frame = `data: ${"x".repeat(64 * 1024)}\n\n`;
    const written = new Promise<{ waits: number; close: number; drain: number; error: number }>(
      (resolve) => {
        const server = createServer((_req, res: ServerResponse) => {
          res.writeHead(200, { "content-type": "text/event-stream" });
          const before = { close: res.listenerCount("close"), error: res.listenerCount("error") };
          void (async () => {
            let waits = 0;
            const write = res.write.bind(res) as (chunk: string) => boolean;
            res.write = ((chunk: string) => {
              const ok = write(chunk);
              if (!ok) waits++;
              return ok;
            }) as typeof res.write;
            for (let i = 0; i < 100; i++) await writeSse(res, frame);
            resolve({
              waits,
              close: res.listenerCount("close") - before.close,
              error: res.listenerCount("error") - before.error,
              drain: res.listenerCount("drain"),
            });
            res.end();
          })();
        });
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo;
          // A reader slower than the writer: the response's buffer fills again and again.
          request({ port, host: "127.0.0.1" }, (incoming) => {
            incoming.pause();
            const tick = setInterval(() => {
              incoming.resume();
              setTimeout(() => incoming.pause(), 1);
            }, 5);
            incoming.on("end", () => clearInterval(tick));
            incoming.on("error", () => clearInterval(tick));
          }).end();
        });
        closers.push(() => server.close());
      },
    );
    const r = await written;
    expect(r.waits).toBeGreaterThan(5);
    expect(r).toMatchObject({ close: 0, error: 0, drain: 0 });
  });

  it("says the client has gone instead of waiting for ever", async () => {
    const result = new Promise<boolean>((resolve) => {
      const server = createServer((_req, res) => {
        res.writeHead(200);
        res.on("close", () => void writeSse(res, "data: late\n\n").then(resolve));
        res.write(": open\n\n");
      });
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        const req = request({ port, host: "127.0.0.1" }, (incoming) => {
          incoming.once("data", () => req.destroy());
        });
        req.on("error", () => undefined);
        req.end();
      });
      closers.push(() => server.close());
    });
    expect(await result).toBe(false);
  });
});
