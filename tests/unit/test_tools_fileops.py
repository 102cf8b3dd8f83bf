"""`delete_file` and `rename_file`: proposals the user reviews, never disk operations; the task
reads and edits a file it moves under its new path, and the risk says what a move can break."""

import shutil

import pytest

from gdm.agent.testrun import overlay
from gdm.patches.model import FilePatch, HunkStatus, PatchKind, PatchStatus
from gdm.tools.base import ToolError
from tests.unit.test_tools import ctx, run  # noqa: F401 - the same workspace, patch book and tool runner


def reasons(patch: FilePatch) -> set[str]:
    return {r.code for r in patch.risk.reasons}


async def test_delete_is_a_pending_patch_and_the_task_no_longer_sees_the_file(ctx, workspace):
    out = await run(ctx, "delete_file", path="test_calc.py")
    patch = ctx.patches.get(out.patch_ids[0])
    assert patch.kind is PatchKind.DELETE and patch.new_text == "" and "NOT deleted yet" in out.text
    assert (workspace / "test_calc.py").exists()  # nothing happens before review
    assert ctx.view.read("test_calc.py", "t1") is None and ctx.view.read("test_calc.py", None) is not None
    assert {"file_deleted", "test_removed"} <= reasons(patch) and patch.risk.tier.rank >= 2
    with pytest.raises(ToolError, match="no such file"):
        await run(ctx, "edit_file", path="test_calc.py", old_text="def", new_text="async def")
    with pytest.raises(ToolError, match="delete it"):
        await run(ctx, "write_file", path="test_calc.py", content="x = 1\n")


async def test_delete_supersedes_the_tasks_own_edits_and_withdraws_its_own_new_file(ctx, workspace):
    edit = await run(ctx, "edit_file", path="calc.py", old_text="return a + b", new_text="return b + a")
    await run(ctx, "delete_file", path="calc.py")
    assert ctx.patches.get(edit.patch_ids[0]).status is PatchStatus.REJECTED
    created = await run(ctx, "write_file", path="notes.md", content="hello\n")
    out = await run(ctx, "delete_file", path="notes.md")
    assert out.patch_ids == created.patch_ids and "Withdrew" in out.text
    assert ctx.patches.get(created.patch_ids[0]).status is PatchStatus.REJECTED
    for bad, match in (("nope.py", "no such file"), ("../etc/passwd", "leaves the workspace"), (".env", "secrets")):
        with pytest.raises(ToolError, match=match):
            await run(ctx, "delete_file", path=bad)


async def test_rename_is_pending_and_the_task_edits_the_file_under_its_new_name(ctx, workspace):
    out = await run(ctx, "rename_file", path="calc.py", new_path="pkg/calculator.py")
    patch = ctx.patches.get(out.patch_ids[0])
    assert patch.kind is PatchKind.RENAME and patch.new_path == "pkg/calculator.py" and patch.hunks == []
    assert patch.status is PatchStatus.PENDING and "rename from calc.py" in patch.diff()
    assert (workspace / "calc.py").exists() and not (workspace / "pkg").exists()
    assert "file_renamed" in reasons(patch)
    # The task reads and edits the file under its new name; the edit lands on the file where it is now.
    assert ctx.view.read("pkg/calculator.py", "t1") == (workspace / "calc.py").read_text()
    assert ctx.view.read("calc.py", "t1") is None
    edit = await run(ctx, "edit_file", path="pkg/calculator.py", old_text="return a + b", new_text="return b + a")
    assert ctx.patches.get(edit.patch_ids[0]).path == "calc.py"
    assert "return b + a" in ctx.view.read("pkg/calculator.py", "t1")
    assert "pkg/calculator.py" in ctx.view.list_files(task_id="t1") and "calc.py" not in ctx.view.list_files(task_id="t1")
    with pytest.raises(ToolError, match="edit it there"):
        await run(ctx, "write_file", path="calc.py", content="x = 1\n")
    with pytest.raises(ToolError, match="already proposes to move"):
        await run(ctx, "rename_file", path="pkg/calculator.py", new_path="other.py")
    # Accepting the move carries the file's other open patches along.
    ctx.patches.decide(patch, HunkStatus.ACCEPTED)
    ctx.patches.moved("calc.py", "pkg/calculator.py")
    assert ctx.patches.get(edit.patch_ids[0]).path == "pkg/calculator.py" and patch.status is PatchStatus.ACCEPTED


async def test_rename_refuses_to_overwrite_and_moves_the_tasks_own_new_file(ctx, workspace):
    with pytest.raises(ToolError, match="already exists"):
        await run(ctx, "rename_file", path="calc.py", new_path="test_calc.py")
    with pytest.raises(ToolError, match="another file"):
        await run(ctx, "rename_file", path="calc.py", new_path="./calc.py")
    with pytest.raises(ToolError, match="no such file"):
        await run(ctx, "rename_file", path="nope.py", new_path="yes.py")
    created = await run(ctx, "write_file", path="draft.py", content="X = 1\n")
    out = await run(ctx, "rename_file", path="draft.py", new_path="final.py")
    assert out.patch_ids == created.patch_ids and ctx.patches.get(created.patch_ids[0]).path == "final.py"


async def test_moving_a_test_file_out_of_the_runners_sight_is_high_risk(ctx):
    out = await run(ctx, "rename_file", path="test_calc.py", new_path="disabled_calc.py")
    patch = ctx.patches.get(out.patch_ids[0])
    assert "test_removed" in reasons(patch) and patch.risk.tier.rank >= 3
    kept = await run(ctx, "rename_file", path="calc.py", new_path="core/calc.py")
    assert "test_removed" not in reasons(ctx.patches.get(kept.patch_ids[0]))


async def test_rename_survives_a_round_trip_through_the_store_format(ctx):
    out = await run(ctx, "rename_file", path="calc.py", new_path="core/calc.py")
    patch = ctx.patches.get(out.patch_ids[0])
    ctx.patches.decide(patch, HunkStatus.REJECTED)
    again = FilePatch.from_dict(patch.to_dict())
    assert again == patch and again.status is PatchStatus.REJECTED


async def test_the_scratch_copy_shows_deletions_and_moves(ctx, workspace, tmp_path):
    await run(ctx, "rename_file", path="calc.py", new_path="core/calc.py")
    await run(ctx, "delete_file", path="test_calc.py")
    copy = tmp_path / "copy"
    shutil.copytree(workspace, copy)
    overlay(ctx, "t1", copy)
    assert (copy / "core" / "calc.py").read_text() == (workspace / "calc.py").read_text()
    assert not (copy / "calc.py").exists() and not (copy / "test_calc.py").exists()
