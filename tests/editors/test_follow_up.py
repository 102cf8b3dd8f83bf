"""Follow-ups in the real editors (issue 17): headless Neovim's `:GdmFollowUp` and batch Emacs +
eglot's `gdm-follow-up` continue the last task's conversation against the real server and the
scripted model. The follow-up's first model request carries the earlier conversation (asserted on
what the scripted model received), its change extends the earlier task's pending patch (one patch,
now the follow-up task's), and accepting it lands both changes in the editor's buffer."""

from __future__ import annotations

from gdm.scripted import ScriptedModel

from tests.editors.conftest import REPO, EditorRun, original_calc, require, with_comment

DRIVERS = REPO / "tests" / "editors" / "drivers"
FIRST = "EDTEST conversation first"
MORE = "EDTEST conversation more"


def both_changes() -> str:
    """calc.py with the first task's and the follow-up's docstrings (the comment of the fixture stays)."""
    text = with_comment(original_calc())
    return (text.replace('    """Return a + b."""\n', '    """Return the sum of a and b."""\n', 1)
                .replace('    """Return a / b."""\n', '    """Return the quotient of a and b."""\n', 1))


def assert_conversation(result: dict, model: ScriptedModel) -> None:
    detail = f"{result.get('error')}\nsteps: {result.get('steps')}\n{result.get('_output')}"
    assert result.get("error") is None, detail
    assert model.failures == [], model.failures
    first, follow = result["first_task"], result["follow_task"]
    assert first and follow and first != follow, detail
    statuses = result["task_statuses"]
    assert sorted(statuses.values() if isinstance(statuses, dict) else statuses) == ["done", "done"], statuses

    # The follow-up's first request: the earlier ask, its tool call and result, its answer, then the new prompt.
    opening = next(body["messages"] for body in model.requests
                   if MORE in str([m for m in body["messages"] if m["role"] == "user"][-1]["content"]))
    roles = [m["role"] for m in opening]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"], roles
    assert FIRST in str(opening[1]["content"])
    assert opening[2]["tool_calls"][0]["function"]["name"] == "edit_file"
    assert "EDTEST-FIRST-ANSWER" in str(opening[4]["content"])

    # One pending patch before and after: the first task's, extended and now the follow-up's.
    [before] = result["pending_after_first"]
    [after] = result["pending_after_follow_up"]
    assert before["taskId"] == first and after["taskId"] == follow
    assert after["patchId"] == before["patchId"] and after["hunks"] == 2, (before, after)
    assert result["after_accept"] == both_changes(), result["after_accept"]


def test_neovim_gdm_follow_up_continues_the_last_task(editor_run: EditorRun, editors_model: ScriptedModel) -> None:
    nvim = require("nvim", "neovim")
    result = editor_run.run([nvim, "--headless", "-n", "-i", "NONE", "-u", str(DRIVERS / "nvim_follow_up_driver.lua")])
    assert_conversation(result, editors_model)


def test_emacs_gdm_follow_up_continues_the_last_task(editor_run: EditorRun, editors_model: ScriptedModel) -> None:
    emacs = require("emacs", "emacs-nox elpa-eglot")
    result = editor_run.run([emacs, "-Q", "--batch", "-l", str(DRIVERS / "eglot_follow_up_driver.el")])
    assert_conversation(result, editors_model)
