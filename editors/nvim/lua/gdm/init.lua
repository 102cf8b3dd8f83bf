-- gdm for Neovim: starts the gdm language server on the buffers you choose, keeps the cost and
-- the pending changes for your statusline, and gives you :GdmAsk to ask with a prompt and
-- :GdmFollowUp to continue the last task's conversation (gdm.ask with followUp).
--
--   require("gdm").setup({ settings = { model = "openai/gpt-4.1" } })
--   vim.o.statusline = "%f %m%=%{v:lua.require'gdm'.statusline()} "
--
-- Works with nvim-lspconfig (registers `lspconfig.gdm`) and without it; `vim.lsp.start` on
-- Neovim 0.8+, `vim.lsp.start_client` + `buf_attach_client` on 0.7. Review: code lenses
-- ("Accept" / "Reject" above each pending hunk, run with vim.lsp.codelens.run()) or code
-- actions on the changed lines (vim.lsp.buf.code_action()). The "Ask gdm…" code action asks
-- for its prompt with vim.ui.input. Neovim 0.12+: gdm's inline completions as ghost text
-- (vim.lsp.inline_completion), <Tab> to accept (setup option `inline_completion`). See
-- editors/README.md.
local M = {}

local defaults = {
  cmd = { "gdm-lsp" },
  -- Sent as initializationOptions and answered to workspace/configuration (section "gdm").
  settings = {},
  filetypes = { "python", "javascript", "typescript", "lua", "go", "rust", "c", "cpp", "java", "sh" },
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  -- Refresh code lenses on these events (pending hunks move as you type).
  lens_events = { "BufEnter", "CursorHold", "InsertLeave" },
  lspconfig = true, -- use nvim-lspconfig when it is installed
  -- Inline completions (ghost text) on Neovim 0.12+ (vim.lsp.inline_completion); the key accepts
  -- the suggestion shown, and is itself where there is none. false: neither.
  inline_completion = { key = "<Tab>" },
}

-- One table of state per Neovim, owned by this module's table (no hidden globals).
M.state = { config = nil, cost = nil, patches = {}, tasks = {}, last_task = nil }

local function root_dir(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= "" and vim.fn.fnamemodify(name, ":p:h") or vim.fn.getcwd()
  for _, marker in ipairs(markers) do
    local found = vim.fn.finddir(marker, dir .. ";")
    if found == "" then
      found = vim.fn.findfile(marker, dir .. ";")
    end
    if found ~= "" then
      local full = vim.fn.fnamemodify(found, ":p"):gsub("/$", "")
      return vim.fn.fnamemodify(full, ":h")
    end
  end
  return vim.fn.getcwd()
end

local function refresh_lenses()
  -- Only once gdm is attached: on 0.7 a refresh with no client marks the buffer "refreshing"
  -- forever (no answer ever clears the flag), and its lenses never show.
  for _, client in pairs(vim.lsp.buf_get_clients(0)) do
    if client.name == "gdm" and client.initialized ~= false then
      return vim.lsp.codelens.refresh()
    end
  end
end

-- Handlers for gdm's notifications; the standard ones ($/progress, window/*) stay Neovim's.
local function handlers()
  return {
    ["gdm/costUpdate"] = function(_, result)
      M.state.cost = result
      vim.cmd("redrawstatus")
    end,
    ["gdm/patchProposed"] = function(_, result)
      M.state.patches[result.patchId] = result
      vim.schedule(refresh_lenses)
    end,
    ["gdm/taskEvent"] = function(_, result)
      if result.kind == "done" then
        M.state.tasks[result.taskId] = result.status
        vim.cmd("redrawstatus")
      end
    end,
    ["workspace/codeLens/refresh"] = function()
      vim.schedule(refresh_lenses)
      return vim.NIL
    end,
  }
end

--- The client config gdm is started with (also what lspconfig gets).
function M.client_config(bufnr)
  local opts = M.state.config or defaults
  return {
    name = "gdm",
    cmd = opts.cmd,
    root_dir = opts.root_dir or root_dir(bufnr or 0, opts.root_markers),
    init_options = opts.settings,
    settings = { gdm = opts.settings },
    handlers = handlers(),
  }
end

local function find_client(root)
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == "gdm" and client.config.root_dir == root and not client.is_stopped() then
      return client
    end
  end
end

--- Start gdm (or reuse the running one of this root) and attach it to a buffer.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local config = M.client_config(bufnr)
  if vim.lsp.start then -- Neovim 0.8+
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local client = find_client(config.root_dir)
  local id = client and client.id or vim.lsp.start_client(config)
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- The gdm client of a buffer, if attached.
function M.client(bufnr)
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr or 0)) do
    if client.name == "gdm" then
      return client
    end
  end
end

-- Send gdm.ask; the task is "running" until gdm/taskEvent says it is done.
local function send_ask(client, payload, bufnr)
  local params = { command = "gdm.ask", arguments = { payload } }
  client.request("workspace/executeCommand", params, function(err, result)
    if err then
      vim.notify("gdm: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif result then
      M.state.tasks[result.taskId] = "running"
      M.state.last_task = result.taskId -- what :GdmFollowUp continues
    end
  end, bufnr)
end

--- Ask gdm: `prompt` about the current line, or the lines first..last (1-based); with
--- `follow_up` (a task id), continue that task's conversation.
function M.ask(prompt, first, last, follow_up)
  local client = M.client(0)
  if not client then
    vim.notify("gdm: not attached to this buffer", vim.log.levels.ERROR)
    return
  end
  first = first or vim.api.nvim_win_get_cursor(0)[1]
  last = last or first
  local payload = {
    prompt = prompt,
    uri = vim.uri_from_bufnr(0),
    range = { start = { line = first - 1, character = 0 }, ["end"] = { line = last, character = 0 } },
    followUp = follow_up,
  }
  send_ask(client, payload, 0)
end

--- Follow up on the last task this Neovim started: `prompt` (asked with vim.ui.input when empty)
--- continues its conversation; the model sees the earlier messages and pending changes.
function M.follow_up(prompt, first, last)
  local task = M.state.last_task
  if not task then
    vim.notify("gdm: no task to follow up yet (:GdmAsk first)", vim.log.levels.ERROR)
    return
  end
  if prompt and prompt ~= "" then
    return M.ask(prompt, first, last, task)
  end
  vim.ui.input({ prompt = "Follow up on gdm's last task: " }, function(text)
    if text and text ~= "" then
      M.ask(text, first, last, task)
    end
  end)
end

-- The gdm.ask command of every code action: "Ask gdm…" carries no prompt, so ask for one here
-- (as gdm's VS Code extension does); ready-made actions ("gdm: <instruction>") go as they are.
local function ask_command(command, ctx)
  local payload = vim.deepcopy((command.arguments or {})[1] or {})
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if payload.prompt and payload.prompt ~= "" then
    return send_ask(client, payload, ctx.bufnr)
  end
  vim.ui.input({ prompt = "Ask gdm: " }, function(text)
    if text and text ~= "" then
      payload.prompt = text
      send_ask(client, payload, ctx.bufnr)
    end
  end)
end

--- Pending patches, as last told by gdm/patchProposed.
function M.pending()
  local out = {}
  for _, patch in pairs(M.state.patches) do
    if patch.status == "pending" or patch.status == "partial" then
      table.insert(out, patch)
    end
  end
  return out
end

--- A statusline component: "gdm $0.0123 · day $0.45 · 2 pending" (empty before the first cost).
function M.statusline()
  local cost = M.state.cost
  local pending = #M.pending()
  if not cost and pending == 0 then
    return ""
  end
  local parts = { cost and string.format("gdm $%.4f", cost.taskUsd or 0) or "gdm" }
  if cost then
    table.insert(parts, string.format("day $%.4f", cost.dayUsd or 0))
  end
  for _, status in pairs(M.state.tasks) do
    if status == "running" then
      table.insert(parts, "working")
      break
    end
  end
  if pending > 0 then
    table.insert(parts, pending .. " pending")
  end
  return table.concat(parts, " · ")
end

--- Turn on Neovim's inline completions (0.12+) in the buffers gdm attaches to, with the accept key.
--- Nothing on older Neovims: they have no `vim.lsp.inline_completion`.
function M.inline_completions(config)
  local inline = vim.lsp.inline_completion
  if not inline or config.inline_completion == false then
    return false
  end
  local key = config.inline_completion.key
  vim.api.nvim_create_autocmd("LspAttach", {
    group = vim.api.nvim_create_augroup("gdm_inline_completion", { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if not client or client.name ~= "gdm" then
        return
      end
      inline.enable(true, { bufnr = args.buf })
      if key then
        vim.keymap.set("i", key, function()
          if not inline.get() then -- nothing shown: the key does what it did
            return key
          end
        end, { expr = true, replace_keycodes = true, buffer = args.buf, desc = "gdm: accept the inline completion" })
      end
    end,
  })
  return true
end

--- Configure gdm; starts it on the configured filetypes.
function M.setup(opts)
  M.state.config = vim.tbl_deep_extend("force", defaults, opts or {})
  local config = M.state.config
  local ok, lspconfig = pcall(require, "lspconfig")
  if config.lspconfig and ok then
    local configs = require("lspconfig.configs")
    if not configs.gdm then
      configs.gdm = {
        default_config = {
          cmd = config.cmd,
          filetypes = config.filetypes,
          root_dir = lspconfig.util.root_pattern(unpack(config.root_markers)),
          init_options = config.settings,
          settings = { gdm = config.settings },
          handlers = handlers(),
        },
      }
    end
    lspconfig.gdm.setup({})
  else
    local group = vim.api.nvim_create_augroup("gdm_start", { clear = true })
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = config.filetypes,
      callback = function(args)
        M.start(args.buf)
      end,
    })
  end
  vim.lsp.commands["gdm.ask"] = ask_command
  M.inline_completions(config)
  local lenses = vim.api.nvim_create_augroup("gdm_lenses", { clear = true })
  vim.api.nvim_create_autocmd(config.lens_events, { group = lenses, callback = refresh_lenses })
  vim.api.nvim_create_user_command("GdmAsk", function(args)
    M.ask(args.args, args.line1, args.line2)
  end, { nargs = "+", range = true, desc = "Ask gdm about the current line or range" })
  vim.api.nvim_create_user_command("GdmFollowUp", function(args)
    M.follow_up(args.args, args.line1, args.line2)
  end, { nargs = "*", range = true, desc = "Continue gdm's last task (a follow-up in its conversation)" })
end

return M
