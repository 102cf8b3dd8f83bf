"""Neovim (headless) with the shipped Lua module (editors/nvim) against the real server and the
scripted model: ask by a `gdm:` comment's code action and by "Ask gdm…" (prompt typed in
vim.ui.input), approve a shell command (:GdmAsk) in Neovim's prompt, accept by code lens,
reject by code action, cost in the statusline component and in $/progress."""

from __future__ import annotations

from tests.editors.conftest import REPO, EditorRun, assert_flow, require

DRIVER = REPO / "tests" / "editors" / "drivers" / "nvim_driver.lua"


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
