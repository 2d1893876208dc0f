import { describe, expect, it } from "vitest";
import type { DeliveredCommand } from "../../src/ports.js";
import { decodeCommand } from "../../src/worker/command-decoder.js";

const delivered = (eventType: string, payload: unknown): DeliveredCommand => ({
  subject: `sea.command.${eventType}.v1`,
  data: new TextEncoder().encode(
    JSON.stringify({
      event_id: "c1",
      event_type: eventType,
      event_version: 1,
      tenant_id: "acme",
      correlation_id: "r1",
      causation_id: null,
      occurred_at: "2026-01-01T00:00:00Z",
      stream_id: "s1",
      payload,
    }),
  ),
  messageId: "c1",
  deliveryCount: 1,
  ack: async () => undefined,
  nak: () => undefined,
});

const action = {
  stream_id: "s1",
  model: "refactor",
  handler: "echo",
  action: "refactor",
  output: "edit_selection",
  input: { path: "a.ts", language: "typescript", content: "x" },
};

describe("decodeCommand and editor actions", () => {
  it("decodes an editor_action command as an action", () => {
    const d = decodeCommand(delivered("editor_action", action));
    expect(d).toMatchObject({ kind: "action", payload: action, origin: { streamId: "s1" } });
  });

  it("calls an editor_action with a bad payload poison, keeping whom to tell", () => {
    const d = decodeCommand(delivered("editor_action", { ...action, output: "poem" }));
    expect(d.kind).toBe("poison");
    expect(d.kind === "poison" && d.reason).toMatch(/^schema mismatch/);
    expect(d.origin).toMatchObject({ tenant: "acme", streamId: "s1" });
  });

  it("does not read a chat command as an action (or the other way round)", () => {
    expect(decodeCommand(delivered("chat_completion", action)).kind).toBe("poison");
    const chat = {
      stream_id: "s1",
      model: "sea",
      handler: "echo",
      messages: [{ role: "user", content: "hi" }],
      params: {},
    };
    expect(decodeCommand(delivered("chat_completion", chat)).kind).toBe("chat");
    expect(decodeCommand(delivered("editor_action", chat)).kind).toBe("poison");
  });
});
