import { describe, expect, it } from "vitest";
import { COMMANDS, parseCommand, UsageError, type CommandName } from "../../bin/cli-args.js";

const names = Object.keys(COMMANDS) as CommandName[];

describe("CLI arguments", () => {
  it.each(names)("%s answers --help and -h", (name) => {
    expect(parseCommand(name, ["--help"])).toEqual({ help: true });
    expect(parseCommand(name, ["-h"])).toEqual({ help: true });
    expect(COMMANDS[name].usage).toMatch(new RegExp(`^usage: sea-gateway ${name}\\b`));
  });

  it.each(names)("%s refuses an unknown option in one line, with its own usage", (name) => {
    let error: unknown;
    try {
      parseCommand(name, ["--bogus"]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`${name}: unknown option '--bogus'`);
    expect((error as UsageError).usage).toBe(COMMANDS[name].usage);
  });

  it("names a missing value and a stray argument plainly", () => {
    expect(() => parseCommand("worker", ["--context"])).toThrow(
      /^worker: option '--context' needs a value$/,
    );
    expect(() => parseCommand("up", ["now"])).toThrow(/^up: unexpected argument 'now'$/);
  });

  it("returns the option values, with defaults", () => {
    expect(parseCommand("keys create", ["--tenant", "acme", "--rpm", "5"])).toEqual({
      help: false,
      values: { tenant: "acme", rpm: "5", ttl: "30d" },
    });
    expect(parseCommand("worker", ["--context", "sea"])).toEqual({
      help: false,
      values: { context: "sea" },
    });
  });
});
