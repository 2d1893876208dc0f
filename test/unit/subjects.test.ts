import { describe, expect, it } from "vitest";
import { InvalidSubjectTokenError, subjectSpace } from "../../contracts/index.js";

describe("subject space", () => {
  const s = subjectSpace();

  it("follows the grammar <context>.<kind>.<name>.v<n>[.<tenant>.<stream>]", () => {
    expect(s.command("sea", "chat_completion", 1)).toBe("sea.command.chat_completion.v1");
    expect(s.result("vibespro", "acme", "abc-1")).toBe("vibespro.event.chat_result.v1.acme.abc-1");
    expect(s.commandFilter("sea")).toBe("sea.command.>");
    expect(s.eventStream("vibespro")).toBe("VIBESPRO_EVENTS");
    expect(s.dlq("sea")).toBe("sea.dlq.commands");
  });

  it("prefixes subjects and stream names with a namespace", () => {
    const t = subjectSpace("ci42");
    expect(t.command("sea", "chat_completion", 1)).toBe("ci42.sea.command.chat_completion.v1");
    expect(t.commandStream("sea")).toBe("CI42_SEA_COMMANDS");
    expect(t.workerDurable("sea")).toBe("ci42_sea_workers");
  });

  it.each(["a.b", "*", ">", "a b", "a\tb", "tenant\n", "\u0000", "é", "", "x".repeat(65), "a.>"])(
    "refuses %j as a tenant or stream id",
    (bad) => {
      expect(() => s.result("sea", bad, "stream")).toThrow(InvalidSubjectTokenError);
      expect(() => s.result("sea", "acme", bad)).toThrow(InvalidSubjectTokenError);
    },
  );

  it("refuses a namespace that is not one token", () => {
    expect(() => subjectSpace("a.b")).toThrow(InvalidSubjectTokenError);
  });
});
