-- Helpers of the headless Neovim drivers of tests/editors: the buffer text, waiting for a step,
-- and the result file ($GDM_TEST_RESULT). Loaded with dofile: `local t = dofile(<dir>/nvim_common.lua)(result)`.
return function(result)
  local t = {}

  function t.text()
    return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n") .. "\n"
  end

  function t.wait(what, predicate)
    if not vim.wait(30000, predicate, 50) then
      error("timed out waiting for " .. what)
    end
    table.insert(result.steps, what)
  end

  function t.write()
    local file = assert(io.open(os.getenv("GDM_TEST_RESULT"), "w"))
    file:write(vim.fn.json_encode(result))
    file:close()
  end

  return t
end
