import fc from "fast-check";
import { TextDocument } from "vscode-languageserver-textdocument";
import { describe, expect, it } from "vitest";
import { diagnosticLines, firstCodeBlock } from "../../src/editor/answers.js";
import { DEFAULT_PROMPTS, promptValues, renderPrompt } from "../../src/editor/prompts.js";
import { testFilePath } from "../../src/editor/test-file-path.js";
import { TextLines } from "../../src/editor/text-positions.js";

const at = (line: number, character: number) => ({ line, character });

describe("TextLines (LSP positions, UTF-16)", () => {
  it("agrees with vscode-languageserver-textdocument on every offset", () => {
    const pieces = fc.constantFrom("a", "😀", "漢", "\n", "\r\n", "\r", " ", "é", "𝄞");
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
        const text = parts.join("");
        const ours = new TextLines(text);
        const theirs = TextDocument.create("file:///x", "plaintext", 1, text);
        expect(ours.lineCount).toBe(theirs.lineCount);
        for (let o = 0; o <= text.length; o++) {
          const p = theirs.positionAt(o);
          // LSP has no position inside a \r\n: both sides place it at the line's end.
          if (text[o - 1] === "\r" && text[o] === "\n") continue;
          expect(ours.positionAt(o)).toEqual(p);
          expect(ours.offsetAt(p)).toBe(theirs.offsetAt(p));
        }
      }),
    );
  });

  it("slices ranges, clamps one past the line's end, and gives the surrounding lines", () => {
    const doc = new TextLines("one\r\ntwo 😀 x\nthree\nfour");
    expect(doc.line(1)).toBe("two 😀 x");
    expect(doc.slice({ start: at(1, 4), end: at(1, 6) })).toBe("😀");
    expect(doc.clamp(at(1, 8))).toEqual(at(1, 8));
    // One past the end (Neovim's line selection) is the end; further is outside.
    expect(doc.clamp(at(1, 9))).toEqual(at(1, 8));
    expect(doc.clamp(at(1, 10))).toBeNull();
    expect(doc.clamp(at(0, 4))).toEqual(at(0, 3));
    expect(doc.clamp(at(4, 0))).toBeNull();
    expect(doc.offsetAt(at(0, 99))).toBe(3);
    expect(doc.whole).toEqual({ start: at(0, 0), end: at(3, 4) });
    expect(doc.around({ start: at(2, 1), end: at(2, 3) }, 1)).toEqual({
      before: "two 😀 x\nt",
      after: "ee\nfour",
    });
  });
});

describe("prompts", () => {
  it("renders every placeholder and leaves unknown text alone", () => {
    const v = promptValues({
      path: "a.py",
      language: "python",
      content: "x = 1\ny = 2\nz = 3",
      selection: { start: at(1, 0), end: at(1, 5) },
      instruction: "rename y",
    });
    expect(v).toMatchObject({ selection: "y = 2", before: "x = 1\n", after: "\nz = 3" });
    expect(v.numbered).toBe("1: x = 1\n2: y = 2\n3: z = 3");
    expect(renderPrompt("{{ language }}/{{path}}: {{instruction}} {{other}} $&", v)).toBe(
      "python/a.py: rename y {{other}} $&",
    );
  });

  it("leaves out a line that holds only an empty placeholder, maybe after its label", () => {
    const input = {
      path: "a.ts",
      language: "typescript",
      content: "let a = 1;\nlet b = 2;",
      selection: { start: at(1, 0), end: at(1, 10) },
    };
    const without = renderPrompt(DEFAULT_PROMPTS.edit_selection, promptValues(input));
    expect(without).not.toContain("Instruction:");
    expect(without).toMatch(
      /^Rewrite the selected typescript code from a\.ts, keeping its behaviour\.\n\nCode before/,
    );
    const withIt = renderPrompt(
      DEFAULT_PROMPTS.edit_selection,
      promptValues({ ...input, instruction: "use const" }),
    );
    expect(withIt).toContain("keeping its behaviour.\nInstruction: use const\n\nCode before");
    // Only lines that are the placeholder alone: inline ones stay as they are.
    expect(renderPrompt("Rename {{instruction}} now", promptValues(input))).toBe("Rename  now");
  });

  it("has a default prompt for every output that names the inputs it needs", () => {
    expect(DEFAULT_PROMPTS.edit_selection).toContain("{{selection}}");
    expect(DEFAULT_PROMPTS.diagnostics).toContain("{{numbered}}");
  });
});

describe("answers", () => {
  it("takes the first fenced code block, with or without a language", () => {
    expect(firstCodeBlock("a\n```ts\nlet x;\n\nx = 1;\n```\n```\nsecond\n```")).toBe(
      "let x;\n\nx = 1;",
    );
    expect(firstCodeBlock("~~~\nplain\n~~~")).toBe("plain");
    expect(firstCodeBlock("no block here")).toBeNull();
  });

  it("turns problem lines into whole-line diagnostics, skipping anything else", () => {
    const doc = new TextLines("alpha\nbeta 漢字\ngamma");
    expect(
      diagnosticLines("2: Error: bad\nline 1: hint: maybe\n9: error: out of range\nOK", doc),
    ).toEqual([
      { range: { start: at(1, 0), end: at(1, 7) }, severity: "error", message: "bad" },
      { range: { start: at(0, 0), end: at(0, 5) }, severity: "hint", message: "maybe" },
    ]);
  });
});

describe("test file paths by language convention", () => {
  it.each([
    ["src/geo.ts", "typescript", "src/geo.test.ts"],
    ["lib/x.js", "javascript", "lib/x.test.js"],
    ["pkg/add.py", "python", "pkg/test_add.py"],
    ["add.py", "python", "test_add.py"],
    ["cmd/main.go", "go", "cmd/main_test.go"],
    ["/w/app/src/main/java/a/B.java", "java", "/w/app/src/test/java/a/BTest.java"],
    ["crate/src/lib.rs", "rust", "crate/tests/lib.rs"],
    ["lib/thing.rb", "ruby", "spec/thing_spec.rb"],
    ["notes.md", "markdown", "notes.test.md"],
  ])("%s (%s) → %s", (source, language, expected) => {
    expect(testFilePath(source, language)).toBe(expected);
  });
});
