-- The SEA gateway's language server in Neovim 0.7 to 0.10 (Debian 12 ships 0.7.2; for 0.11+ use
-- neovim-sea-lsp.lua): code actions for every editor action the key may run, edits applied in
-- place, validate_spec diagnostics on open and save. Put this in your init.lua; `sea-gateway` must
-- be on PATH (`npm install -g` the gateway, or `npm run build` and link dist/bin/sea-gateway.js)
-- and SEA_API_KEY set in the environment Neovim starts from.
--
-- On a selection: 0.8 to 0.10 `:lua vim.lsp.buf.code_action()` from visual mode; 0.7
-- `:'<,'>lua vim.lsp.buf.range_code_action()`.
local config = {
  name = "sea",
  cmd = { "sea-gateway", "lsp" },
  cmd_env = {
    SEA_GATEWAY_URL = os.getenv("SEA_GATEWAY_URL") or "http://127.0.0.1:8080",
    SEA_API_KEY = os.getenv("SEA_API_KEY"),
  },
  -- Which documents validate_spec checks on open and save (overrides SEA_LSP_VALIDATE_LANGUAGES).
  init_options = { validateLanguages = { "markdown", "yaml" }, validateAction = "validate_spec" },
}
local filetypes = { "typescript", "javascript", "python", "go", "rust", "java", "markdown", "yaml" }

-- The folder holding .git above the buffer's file, else the working directory (vim.fs is 0.8+).
local function root_of(bufnr)
  local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":p:h")
  local git = vim.fn.finddir(".git", dir .. ";")
  return git ~= "" and vim.fn.fnamemodify(git, ":p:h:h") or vim.fn.getcwd()
end

local client_id = nil
vim.api.nvim_create_autocmd("FileType", {
  pattern = filetypes,
  callback = function(args)
    local c = vim.tbl_extend("force", config, { root_dir = root_of(args.buf) })
    if vim.lsp.start then
      -- 0.8+: starts the server for this root once and attaches the buffer.
      vim.lsp.start(c)
      return
    end
    -- 0.7: one server for the session, attached to each buffer.
    if not (client_id and vim.lsp.get_client_by_id(client_id)) then
      client_id = vim.lsp.start_client(c)
    end
    if client_id then
      vim.lsp.buf_attach_client(args.buf, client_id)
    end
  end,
})
