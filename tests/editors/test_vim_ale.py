"""Vim + ALE (silent Ex mode) with the shipped plugin (editors/vim) against the real server and
the scripted model: ALE has no lenses and never answers workspace/applyEdit, so review is by
code action and the server must judge the accept by the text ALE sends back."""

from __future__ import annotations

import os

import pytest

from tests.editors.conftest import REPO, EditorRun, assert_flow, require

DRIVER = REPO / "tests" / "editors" / "drivers" / "ale_driver.vim"
ALE = "/usr/share/vim/vimfiles/pack/dist-bundle/opt/ale"


def test_vim_ale_comment_ask_action_accept_action_reject_cost(editor_run: EditorRun) -> None:
    vim = require("vim", "vim")
    require_ale()
    result = editor_run.run([vim, "-N", "-n", "-i", "NONE", "-u", str(DRIVER), "-es"])
    assert_flow(result)
    assert result["statusline"].startswith(f"gdm ${result['task_usd']:.4f} · day $"), result["statusline"]
    assert any("task cost $" in m for m in result["shown"]), result["shown"]
    # Approval: the editor declares no showMessageRequest support, so gdm denies (the safe default);
    # the scripted model's next turn expects the command's output, so that task ends in error.
    assert sorted(result["task_statuses"]) == ["done", "done", "error"], result["task_statuses"]


def require_ale() -> None:
    """ALE is a Vim package, not a binary: a missing one fails the test, saying how to install it."""
    if not os.path.isdir(ALE):
        pytest.fail(f"ALE is not installed at {ALE} (Debian package vim-ale): run `bash editors/ci.sh`",
                    pytrace=False)
