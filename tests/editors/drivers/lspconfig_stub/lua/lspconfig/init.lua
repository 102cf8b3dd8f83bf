-- A stand-in for nvim-lspconfig (not packaged in Debian 12) with the API gdm's module uses:
-- `lspconfig.util.root_pattern`, `require("lspconfig.configs")[name] = {default_config = …}`,
-- then `lspconfig[name].setup(opts)`. It records what it was given.
local configs = require("lspconfig.configs")
local M = { util = {}, calls = {} }

function M.util.root_pattern(...)
  local markers = { ... }
  return function()
    return table.concat(markers, ",")
  end
end

return setmetatable(M, {
  __index = function(_, name)
    local config = configs[name]
    return config and {
      setup = function(opts)
        table.insert(M.calls, { name = name, opts = opts })
      end,
    }
  end,
})
