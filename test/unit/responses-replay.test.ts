import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatCompletedPayload, ChatDeltaPayload } from "../../contracts/index.js";
import type { Delivery } from "../../src/gateway/runs/attempt-sequencer.js";
import {
  ResponseEventRenderer,
  renderEvents,
  type RenderInput,
} from "../../src/gateway/responses/event-renderer.js";
import { checkStream, clock, completed, ctx, failed, render } from "../helpers/responses-render.js";

// ---- determinism: the numbering depends on the deliveries only --------------------------

const deltaArb: fc.Arbitrary<ChatDeltaPayload> = fc.oneof(
  fc.record({ content: fc.string({ maxLength: 4 }) }),
  fc.record({ reasoning_content: fc.string({ maxLength: 4 }) }),
  fc.record({
    tool_calls: fc.array(
      fc.record({
        index: fc.integer({ min: 0, max: 2 }),
        function: fc.record(
          { name: fc.constantFrom("f", "g"), arguments: fc.string({ maxLength: 3 }) },
          { requiredKeys: ["arguments"] },
        ),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  }),
  fc.record({
    content: fc.string({ maxLength: 3 }),
    reasoning_content: fc.string({ maxLength: 3 }),
  }),
);
const terminalArb: fc.Arbitrary<RenderInput> = fc.oneof(
  fc
    .constantFrom<ChatCompletedPayload["finish_reason"]>(
      "stop",
      "length",
      "tool_calls",
      "content_filter",
    )
    .map((f) => completed(f)),
  fc.constantFrom("cancelled", "upstream_error", null).map((c) => failed(c)),
);
const runArb = fc
  .tuple(fc.array(deltaArb, { maxLength: 12 }), terminalArb, fc.boolean())
  .map(([deltas, terminal, background]) => ({
    deliveries: [
      ...deltas.map((payload, i): RenderInput => ({ kind: "delta", seq: i + 1, payload })),
      terminal,
    ],
    background,
  }));

describe("ResponseEventRenderer: deterministic numbering, exact resume", () => {
  it("any run: a valid stream; a prefix of the deliveries renders a prefix of the events", () => {
    fc.assert(
      fc.property(runArb, fc.nat(), ({ deliveries, background }, cut) => {
        const c = ctx({}, background);
        const all = render(c, deliveries);
        checkStream(all);
        const k = cut % deliveries.length; // never the terminal: a stream still open
        const partial = render(c, deliveries.slice(0, k));
        expect(all.slice(0, partial.length)).toEqual(partial);
      }),
    );
  });

  it("any run, read in any batches, gives the same events; resuming after N gives exactly the rest", () => {
    fc.assert(
      fc.property(
        runArb,
        fc.array(fc.nat({ max: 4 }), { maxLength: 20 }),
        fc.nat(),
        ({ deliveries, background }, splits, n) => {
          const c = ctx({}, background);
          const all = render(c, deliveries);
          // A reader that took the deliveries in batches, as a live feed hands them over.
          const r = new ResponseEventRenderer(c, { clock });
          const got = [...r.begin()];
          let at = 0;
          for (const size of [...splits, deliveries.length]) {
            for (const x of deliveries.slice(at, at + size)) got.push(...r.push(x));
            at = Math.min(deliveries.length, at + size);
          }
          expect(got).toEqual(all);
          // A resume with starting_after=N: a new renderer over the same deliveries.
          const after = n % (all.length + 1);
          const resumed = renderEvents(c, deliveries, { clock, startingAfter: after - 1 });
          expect(resumed).toEqual(all.slice(after));
        },
      ),
    );
  });
});

// The renderer takes the run's deliveries as they are (a `reset` is the reader's to handle).
const _deliveriesRender = (d: Exclude<Delivery, { kind: "reset" }>): RenderInput => d;
