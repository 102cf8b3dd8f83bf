"""`gdm.usage` over LSP: after a task, the store's rows by model and by day — the same rows
`gdm usage --format json` prints for that database — and a clear InvalidParams for a bad day or
grouping, with the server still answering afterwards."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from gdm import cli
from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor

USAGE = Command.USAGE.identifier


@pytest.fixture
async def editor(workspace: Path, tmp_path: Path, settings: dict):
    ed, _result = await start_editor(workspace, tmp_path, init_options=settings)
    yield ed
    await stop_editor(ed)


def _cli_rows(db_url: str, by: str, since: str) -> list[dict]:
    """What `gdm usage --by BY --since DAY --format json` prints for this database."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        cli.main(["usage", "--database-url", db_url, "--by", by, "--since", since, "--format", "json"])
    assert not done.value.code
    return json.loads(out.getvalue())


async def test_gdm_usage_after_a_task_by_model_and_day(editor, settings):
    empty = await editor.command(USAGE, {"by": "model"})
    assert empty == {"by": "model", "since": None, "rows": []}

    task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
    done = await editor.wait_done(task_id, timeout=120)
    assert done["status"] == "done"

    today = datetime.now(timezone.utc).date().isoformat()
    by_model = await editor.command(USAGE, {"since": today, "by": "model"})
    assert by_model["by"] == "model" and by_model["since"] == today
    [row] = by_model["rows"]
    assert row["model"] == "openai/scripted" and row["calls"] >= 1 and row["usd"] > 0
    assert set(row) == {"model", "calls", "tokensIn", "tokensOut", "usd", "unpricedCalls"}

    by_day = await editor.command(USAGE, {"since": today})  # by defaults to day
    assert [(r["day"], r["calls"]) for r in by_day["rows"]] == [(today, row["calls"])]
    by_task = await editor.command(USAGE, {"by": "task"})
    assert [r["task"] for r in by_task["rows"]] == [task_id]

    # The same rows as the command line's JSON for this database (one query behind both).
    assert by_model["rows"] == _cli_rows(settings["databaseUrl"], "model", today)
    assert by_day["rows"] == _cli_rows(settings["databaseUrl"], "day", today)


@pytest.mark.parametrize("payload, message", [
    ({"since": "yesterday"}, "since must be a day"),
    ({"since": 7}, "since"),
    ({"by": "week"}, "by"),
    ({"by": None}, "by"),
])
async def test_gdm_usage_refuses_bad_params_and_keeps_answering(editor, payload, message):
    with pytest.raises(JsonRpcInvalidParams, match=message):
        await editor.command(USAGE, payload)
    assert (await editor.command(USAGE, {}))["rows"] == []
