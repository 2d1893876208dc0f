-- The SEA gateway's language server in Neovim 0.11+ (vim.lsp.config; for 0.7 to 0.10 use
-- neovim-0.7-sea-lsp.lua): code actions for every editor action the key may run
-- (`:lua vim.lsp.buf.code_action()` on a visual selection), edits applied in place, validate_spec
-- diagnostics on open and save. Put this in your init.lua; `sea-gateway` must be on PATH
-- (`npm install -g` the gateway, or `npm run build` and link dist/bin/sea-gateway.js) and
-- SEA_API_KEY set in the environment Neovim starts from.
vim.lsp.config("sea", {
  cmd = { "sea-gateway", "lsp" },
  cmd_env = {
    SEA_GATEWAY_URL = os.getenv("SEA_GATEWAY_URL") or "http://127.0.0.1:8080",
    SEA_API_KEY = os.getenv("SEA_API_KEY"),
  },
  filetypes = { "typescript", "javascript", "python", "go", "rust", "java", "markdown", "yaml" },
  root_markers = { ".git" },
  -- Which documents validate_spec checks on open and save (overrides SEA_LSP_VALIDATE_LANGUAGES).
  init_options = { validateLanguages = { "markdown", "yaml" }, validateAction = "validate_spec" },
})
vim.lsp.enable("sea")
