"""The model settings of issue 6 over LSP: `timeoutS` (a slow answer is timed out and retried)
and `cheapModel` (a task title from the cheap model, its cost in the task's; the title shown in the
task's progress and in the change annotation of its patch)."""

from __future__ import annotations

from gdm.commands import Command
from tests.e2e.test_models_faults import PRICES, done_task, faulty, serving, still_serving, stored  # noqa: F401


async def test_timeout_is_retried(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty, timeoutS=1) as editor:
        done, task_id = await done_task(editor, "Fault: slow model")
        assert done["status"] == "done", editor.events(task_id)
        assert len(faulty.requests) == 2  # the one that took too long, then the retry
        await still_serving(editor)
    assert stored(tmp_path, task_id)[:2] == ("done", 1)


async def test_cheap_model_titles_the_task_and_its_cost_counts(workspace, tmp_path, faulty):
    prices = {**PRICES, "openai/scripted-cheap": {"inputPerMTok": 0.1, "outputPerMTok": 0.4}}
    async with serving(workspace, tmp_path, faulty, cheapModel="openai/scripted-cheap", prices=prices) as editor:
        done, task_id = await done_task(editor, "Both dialects: document divide")
        assert done["status"] == "done" and faulty.failures == []
        thinking = [e["text"] for e in editor.events(task_id, "thinking")]
        assert thinking[0] == "Title: Document divide"
        assert [r["model"] for r in faulty.requests][:2] == ["scripted-cheap", "scripted"]
        cost = await editor.command(Command.COST.identifier, {"taskId": task_id})
        models = {row["model"] for row in cost["byModel"]}
        assert {"openai/scripted-cheap", "openai/scripted"} <= models
        # The title in the progress: reported once it exists (begin went out before), then heading the reports.
        reports = [p.message for p in editor.client.progress_reports[task_id] if p.kind == "report"]
        assert "Document divide" in reports, reports
        after = reports[reports.index("Document divide") + 1:]
        assert any(m.startswith("Document divide — read_file") for m in after), reports
        # ...and in the change annotation of the task's patch, when it is accepted.
        (patch_id,) = done["patchIds"]
        assert (await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id}))["applied"]
        annotation = editor.applied[-1].edit.change_annotations[patch_id]
        assert annotation.label == "gdm: Document divide"
