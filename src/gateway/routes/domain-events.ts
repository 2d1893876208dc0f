import type { FastifyInstance } from "fastify";
import { BadRequestError } from "../../errors.js";
import { eventStart, type DomainEvents } from "../events/domain-events.js";
import { KeepAlive, openSse } from "../http/raw-stream.js";
import { writeSse } from "../sse/run-sse.js";

type EventsQuery = {
  Querystring: Record<string, string | string[] | undefined>;
};

/** One value of a query parameter; the same parameter given twice is a 400 naming it. */
function single(query: EventsQuery["Querystring"], name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new BadRequestError(`'${name}' was given more than once.`, name);
  return v;
}

/**
 * `GET /v1/events?subject=…`: a tenant's domain events as SSE (`id:` = stream sequence, so
 * `Last-Event-ID` resumes after it), from `deliver=new` (default) or `all`, `start_seq` or
 * `start_time`. The subscription's consumer is deleted when the client leaves.
 */
export async function domainEventRoutes(
  app: FastifyInstance,
  opts: { events: DomainEvents; keepAliveMs: number },
): Promise<void> {
  app.get<EventsQuery>("/v1/events", async (req, reply) => {
    const subject = single(req.query, "subject");
    if (!subject) throw new BadRequestError("'subject' is required.", "subject");
    const lastEventId = req.headers["last-event-id"];
    const start = eventStart({
      deliver: single(req.query, "deliver"),
      start_seq: single(req.query, "start_seq"),
      start_time: single(req.query, "start_time"),
      lastEventId: Array.isArray(lastEventId) ? lastEventId[0] : lastEventId,
    });
    const res = reply.raw;
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      openSse(req, reply);
    };
    let keepAlive: KeepAlive | null = null;
    const subscription = await opts.events.subscribe(
      req.principal.tenant,
      subject,
      start,
      async (e) => {
        open();
        keepAlive?.touch();
        const frame = `id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;
        if (!(await writeSse(res, frame))) throw new Error("subscriber left");
      },
    );
    // The stream exists and the consumer is in place: the client gets its 200 now.
    open();
    res.write(": subscribed\n\n");
    keepAlive = new KeepAlive(res, opts.keepAliveMs);
    await new Promise<void>((resolve) => res.once("close", resolve));
    keepAlive.stop();
    await subscription.close();
    req.log.info({ subject }, "event subscription closed");
  });
}
