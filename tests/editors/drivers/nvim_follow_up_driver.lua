-- Drives headless Neovim through a conversation with the shipped module (editors/nvim): :GdmAsk,
-- then :GdmFollowUp (continues the last task), then the follow-up task's changes accepted with
-- gdm.task.accept; records the tasks, the pending patches and the buffer in $GDM_TEST_RESULT.
local ws = os.getenv("GDM_TEST_WORKSPACE")
local result = { steps = {} }

local common = dofile(os.getenv("GDM_TEST_REPO") .. "/tests/editors/drivers/nvim_common.lua")(result)
local text, wait, write = common.text, common.wait, common.write

local function over(gdm, n)
  local count = 0
  for _, status in pairs(gdm.state.tasks) do
    count = count + ((status ~= "running") and 1 or 0)
  end
  return count >= n
end

local function pending(gdm)
  local out = {}
  for _, patch in ipairs(gdm.pending()) do
    table.insert(out, { patchId = patch.patchId, taskId = patch.taskId, hunks = #patch.hunks,
                        conversationId = patch.conversationId or vim.NIL })
  end
  return out
end

local function main()
  vim.opt.runtimepath:prepend(os.getenv("GDM_TEST_REPO") .. "/editors/nvim")
  local gdm = require("gdm")
  gdm.setup({ cmd = vim.fn.json_decode(os.getenv("GDM_TEST_SERVER")),
              settings = vim.fn.json_decode(os.getenv("GDM_TEST_SETTINGS")) })
  vim.cmd("filetype on")
  vim.cmd("edit " .. ws .. "/calc.py")
  wait("client initialized", function()
    local client = gdm.client(0)
    return client and client.initialized
  end)
  wait("session open (first gdm/costUpdate)", function() return gdm.state.cost ~= nil end)

  vim.api.nvim_win_set_cursor(0, { vim.fn.search("Return a + b", "w"), 4 })
  vim.cmd("GdmAsk EDTEST conversation first")
  wait("first task over", function() return over(gdm, 1) end)
  result.first_task = gdm.state.last_task
  wait("patch of the first task", function() return #gdm.pending() == 1 end)
  result.pending_after_first = pending(gdm)

  vim.api.nvim_win_set_cursor(0, { vim.fn.search("Return a / b", "w"), 4 })
  vim.cmd("GdmFollowUp EDTEST conversation more")
  wait("follow-up asked", function() return gdm.state.last_task ~= result.first_task end)
  result.follow_task = gdm.state.last_task
  wait("follow-up over", function() return over(gdm, 2) end)
  result.task_statuses = gdm.state.tasks
  wait("the patch extended by the follow-up", function()
    local p = gdm.pending()
    return #p == 1 and p[1].taskId == result.follow_task
  end)
  result.pending_after_follow_up = pending(gdm)

  -- Accept all the follow-up task's changes; Neovim applies the workspace/applyEdit.
  local client = gdm.client(0)
  local answered = false
  client.request("workspace/executeCommand",
    { command = "gdm.task.accept", arguments = { { taskId = result.follow_task } } },
    function(err, _) result.accept_error = err and (err.message or vim.inspect(err)) or vim.NIL; answered = true end, 0)
  wait("accept answered", function() return answered end)
  wait("accepted", function() return #gdm.pending() == 0 end)
  result.after_accept = text()
end

local ok, err = pcall(main)
if not ok then
  result.error = tostring(err)
end
result.final = text()
write()
vim.cmd(ok and "qa!" or "cq!")
