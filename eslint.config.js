// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".data/**", ".bench-base/**", "contracts/schema/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: {
      "no-console": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The dependency rule: the gateway's own logic never reaches into adapters.
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/adapters/**", "**/bin/**"],
              message:
                "src/ must not import adapters/ or bin/: depend on a port in src/ports instead.",
            },
          ],
        },
      ],
    },
  },
  {
    // contracts/ is the shared language: it imports nothing of ours.
    files: ["contracts/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/src/**", "**/adapters/**", "**/bin/**"],
              message: "contracts/ imports nothing of ours.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts", "chaos/**/*.ts"],
    rules: { "no-console": "off" },
  },
);
