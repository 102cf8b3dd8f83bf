"""Neovim (headless) with the shipped Lua module (editors/nvim) against the real server and the
scripted model: ask by a `gdm:` comment's code action and by "Ask gdm…" (prompt typed in
vim.ui.input), approve a shell command (:GdmAsk) in Neovim's prompt, accept by code lens,
reject by code action, cost in the statusline component and in $/progress."""

from __future__ import annotations

from tests.editors.conftest import REPO, EditorRun, assert_flow, require

DRIVERS = REPO / "tests" / "editors" / "drivers"
DRIVER = DRIVERS / "nvim_driver.lua"


def test_neovim_comment_ask_lens_accept_action_reject_cost(editor_run: EditorRun) -> None:
    nvim = require("nvim", "neovim")
    result = editor_run.run([nvim, "--headless", "-n", "-i", "NONE", "-u", str(DRIVER)])
    assert_flow(result)
    assert result["input_prompt"] == "Ask gdm: "  # "Ask gdm…" asked for its prompt in Neovim's UI
    assert result["statusline"].startswith(f"gdm ${result['task_usd']:.4f} · day $"), result["statusline"]
    assert any(m and "$0.0" in str(m) for m in result["progress"]), result["progress"]
    assert any(m and f"${result['task_usd']:.4f}, day $" in str(m) for m in result["log"]), result["log"]
    # Approval through Neovim's own prompt: the command ran (the model's next turn expects its output).
    assert any("wants to run" in line for line in result["approval"]), result.get("approval")
    assert sorted(result["task_statuses"]) == ["done", "done", "done"], result["task_statuses"]


def test_neovim_module_registers_with_lspconfig_when_present(editor_run: EditorRun) -> None:
    # nvim-lspconfig is not packaged in Debian 12: a stand-in with its API (lspconfig.configs,
    # util.root_pattern, lspconfig.<name>.setup) checks the module's lspconfig branch.
    nvim = require("nvim", "neovim")
    driver = DRIVERS / "nvim_lspconfig_driver.lua"
    result = editor_run.run([nvim, "--headless", "-n", "-i", "NONE", "-u", str(driver)])
    assert result.get("error") is None, result
    assert result["cmd"] == ["gdm-lsp", "--x"]
    assert result["init_options"] == {"model": "m"} and result["settings"] == {"gdm": {"model": "m"}}
    assert result["root"] == ".git,pyproject.toml,package.json,go.mod,Cargo.toml"
    assert result["handlers"] == ["gdm/costUpdate", "gdm/patchProposed", "gdm/taskEvent", "workspace/codeLens/refresh"]
    assert result["setup_calls"] == 1 and result["ask_command"] == "function"
