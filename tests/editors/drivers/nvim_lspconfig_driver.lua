-- gdm's Neovim module with nvim-lspconfig present (a stand-in): it registers `gdm` there with
-- gdm's command, settings and handlers instead of starting the client itself.
local repo = os.getenv("GDM_TEST_REPO")
vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
vim.opt.runtimepath:prepend(repo .. "/tests/editors/drivers/lspconfig_stub")
local result = {}
local ok, err = pcall(function()
  require("gdm").setup({ cmd = { "gdm-lsp", "--x" }, settings = { model = "m" } })
  local config = require("lspconfig.configs").gdm.default_config
  result.cmd = config.cmd
  result.init_options = config.init_options
  result.settings = config.settings
  result.root = config.root_dir()
  result.handlers = vim.tbl_keys(config.handlers)
  table.sort(result.handlers)
  result.setup_calls = #require("lspconfig").calls
  result.ask_command = type(vim.lsp.commands["gdm.ask"])
end)
result.error = not ok and tostring(err) or nil
local file = assert(io.open(os.getenv("GDM_TEST_RESULT"), "w"))
file:write(vim.fn.json_encode(result))
file:close()
vim.cmd(ok and "qa!" or "cq!")
