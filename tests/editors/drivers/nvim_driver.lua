-- Drives headless Neovim through gdm's whole flow with the shipped module (editors/nvim):
-- a `gdm:` comment's code action, accept by code lens, :GdmAsk, reject by code action; records
-- the buffer text, the statusline, $/progress and the messages in $GDM_TEST_RESULT.
local repo = os.getenv("GDM_TEST_REPO")
local ws = os.getenv("GDM_TEST_WORKSPACE")
local result = { progress = {}, log = {}, shown = {}, steps = {} }

local common = dofile(os.getenv("GDM_TEST_REPO") .. "/tests/editors/drivers/nvim_common.lua")(result)
local text, wait, write = common.text, common.wait, common.write

-- The user's choice in a vim.ui.select menu (code actions, several lenses on a line).
local function pick(wanted)
  vim.ui.select = function(items, opts, on_choice)
    local titles = {}
    for i, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or tostring(item)
      table.insert(titles, title)
      if title:find(wanted, 1, true) then
        return on_choice(item, i)
      end
    end
    result.unpicked = { wanted = wanted, offered = titles }
    on_choice(nil, nil)
  end
end

local function goto_line(pattern)
  local line = vim.fn.search(pattern, "w")
  assert(line > 0, "no line matches " .. pattern)
  vim.api.nvim_win_set_cursor(0, { line, 4 })
end

local function record_handlers()
  for method, list in pairs({ ["$/progress"] = "progress", ["window/logMessage"] = "log",
                              ["window/showMessage"] = "shown" }) do
    local original = vim.lsp.handlers[method]
    vim.lsp.handlers[method] = function(err, res, ctx, config)
      local value = res and (res.value or res)
      table.insert(result[list], value and (value.message or value.title or value.kind) or vim.NIL)
      if method == "$/progress" then
        return original(err, res, ctx, config)
      end
    end
  end
end

local function main()
  if os.getenv("EDITOR_TEST_LSP_DEBUG") then vim.lsp.set_log_level("debug") end
  vim.opt.runtimepath:prepend(repo .. "/editors/nvim")
  record_handlers()
  local gdm = require("gdm")
  gdm.setup({ cmd = vim.fn.json_decode(os.getenv("GDM_TEST_SERVER")),
              settings = vim.fn.json_decode(os.getenv("GDM_TEST_SETTINGS")) })
  vim.cmd("filetype on")
  vim.cmd("edit " .. ws .. "/calc.py")
  wait("client initialized", function()
    local client = gdm.client(0)
    return client and client.initialized
  end)
  -- gdm sends the day's totals once its session is open; code actions before that are "Ask gdm…" only.
  wait("session open (first gdm/costUpdate)", function() return gdm.state.cost ~= nil end)

  -- Ask through the `gdm:` comment's code action.
  goto_line("# gdm: EDTEST")
  pick("gdm: EDTEST guard divide")
  vim.lsp.buf.code_action()
  -- A task is over when gdm/taskEvent says "done": its patch is then complete (the comment's
  -- removal joins it at the end).
  wait("comment task done", function() return vim.tbl_contains(vim.tbl_values(gdm.state.tasks), "done") end)
  wait("patch of the comment", function() return #gdm.pending() == 1 end)
  local first = gdm.pending()[1]

  -- Accept it through the code lenses above its hunks.
  pick("Accept")
  wait("accepted by lens", function()
    if gdm.state.patches[first.patchId].status == "accepted" then
      return true
    end
    vim.lsp.codelens.refresh()
    -- get(0) is not the current buffer on 0.7: pass its number.
    for _, lens in ipairs(vim.lsp.codelens.get(vim.api.nvim_get_current_buf())) do
      if lens.command and lens.command.title:find("Accept", 1, true) then
        vim.api.nvim_win_set_cursor(0, { lens.range.start.line + 1, 0 })
        vim.lsp.codelens.run()
        vim.wait(300)
        break
      end
    end
  end)
  result.after_accept = text()

  -- Ask with a prompt ("Ask gdm…" code action, prompt typed in vim.ui.input), then reject
  -- through a code action on the hunk.
  goto_line("Return a + b")
  vim.ui.input = function(opts, on_confirm)
    result.input_prompt = opts.prompt
    on_confirm("EDTEST document add")
  end
  pick("Ask gdm…")
  vim.lsp.buf.code_action()
  wait("prompt task done", function()
    local done = 0
    for _, status in pairs(gdm.state.tasks) do
      done = done + (status == "done" and 1 or 0)
    end
    return done == 2
  end)
  wait("patch of the prompt", function() return #gdm.pending() == 1 end)
  local second = gdm.pending()[1]
  vim.api.nvim_win_set_cursor(0, { second.hunks[1].range.start.line + 1, 0 })
  pick("gdm: Reject this change")
  vim.lsp.buf.code_action()
  wait("rejected", function() return gdm.state.patches[second.patchId].status == "rejected" end)
  result.after_reject = text()
  -- A shell command needs approval: Neovim asks with its own inputlist; the user picks "Allow once".
  vim.fn.inputlist = function(items)
    for i, item in ipairs(items) do
      if item:find("Allow once", 1, true) then
        result.approval = items
        return i - 2 -- items are the message, "Request Actions:", then "1. …"
      end
    end
    return 0
  end
  vim.cmd("GdmAsk EDTEST approve shell")
  wait("approved task done", function()
    local done = 0
    for _, status in pairs(gdm.state.tasks) do
      done = done + ((status == "done" or status == "error") and 1 or 0)
    end
    return done == 3
  end)
  result.task_statuses = vim.tbl_values(gdm.state.tasks)
  wait("task cost", function() return (gdm.state.cost.taskUsd or 0) > 0 end)
  result.task_usd = gdm.state.cost.taskUsd
  result.statusline = gdm.statusline()
end

local ok, err = pcall(main)
if not ok then
  result.error = tostring(err)
end
result.final = text()
write()
vim.cmd(ok and "qa!" or "cq!")
