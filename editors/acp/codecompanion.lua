-- gdm as an ACP agent in Neovim's CodeCompanion. The adapter reuses a built-in ACP adapter's handlers and swaps the command; gdm's
-- settings come from the GDM_* environment. Not tried here (CodeCompanion needs Neovim 0.10+,
-- Debian 12 has 0.7.2); the same `gdm acp` is tested end to end with the SDK's client and acpx.
require("codecompanion").setup({
  adapters = {
    acp = {
      gdm = function()
        return require("codecompanion.adapters").extend("goose", {
          name = "gdm",
          formatted_name = "gdm",
          commands = { default = { "gdm", "acp" } },
          env = { GDM_MODEL = "openai/gpt-4.1", GDM_TASK_BUDGET_USD = "2.0" },
        })
      end,
    },
  },
  strategies = { chat = { adapter = "gdm" } },
})
