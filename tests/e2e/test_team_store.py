"""Two and three real servers (`python -m gdm`, one editor each) on one database, SQLite file and
PostgreSQL: each user sees their own pending patches, the day budget is per user across windows
(a task in a second window of the same user stops before the call that would pass what the first
spent), `dayUsd` is that user's day, and concurrent tasks lose or double no turn and no cost."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text

from gdm.commands import Command
from tests.conftest import scripted_settings
from tests.e2e.editor import server_env, start_editor, stop_editor

# Dear input, free output: a task of the "Document add and mean" conversation (3 turns of 1,000
# reported prompt tokens) spends exactly 3 x 0.2 = $0.60, while the worst case of the next call
# (its real prompt, a few hundred tokens, output free) is a few cents.
PRICES = {"openai/scripted": {"inputPerMTok": 200.0, "outputPerMTok": 0.0}}
TASK_USD = 0.6
DAY_BUDGET = 0.63  # room for one task per user, not for a second call after it
PROMPT = "Document add and mean"


def _settings(scripted, tmp_path, db_url: str, user: str) -> dict:
    return {**scripted_settings(scripted, tmp_path), "prices": PRICES, "databaseUrl": db_url, "user": user,
            "dayBudgetUsd": DAY_BUDGET, "taskBudgetUsd": 5.0}


async def _ask(editor) -> dict:
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": PROMPT}))["taskId"]
    return await editor.wait_done(task_id, timeout=120)


async def _patches(editor) -> list[dict]:
    return (await editor.command(Command.PATCH_LIST.identifier))["patches"]


async def test_two_users_and_two_windows_on_one_database(workspace, tmp_path, scripted, db_url):
    env = server_env(tmp_path)
    ann = await start_editor(workspace, tmp_path, init_options=_settings(scripted, tmp_path, db_url, "ann"), env=env)
    bob = await start_editor(workspace, tmp_path, init_options=_settings(scripted, tmp_path, db_url, "bob"), env=env)
    editors = [ann[0], bob[0]]
    try:
        done_ann, done_bob = await asyncio.gather(_ask(ann[0]), _ask(bob[0]))  # written at the same time
        assert done_ann["status"] == done_bob["status"] == "done"
        ann_patches, bob_patches = await _patches(ann[0]), await _patches(bob[0])
        assert {p["taskId"] for p in ann_patches} == {done_ann["taskId"]}
        assert {p["taskId"] for p in bob_patches} == {done_bob["taskId"]}

        # A second window of ann's, opened now: her pending patches, not bob's; her day is spent.
        ann2 = await start_editor(workspace, tmp_path, init_options=_settings(scripted, tmp_path, db_url, "ann"),
                                  env=env)
        editors.append(ann2[0])
        assert sorted(p["patchId"] for p in await _patches(ann2[0])) == sorted(p["patchId"] for p in ann_patches)
        served = len(scripted.requests)
        stopped = await _ask(ann2[0])
        assert stopped["status"] == "budget", stopped
        assert len(scripted.requests) == served  # stopped before the call, not after it
        assert any("Day budget reached" in e["message"] for e in ann2[0].events(stopped["taskId"], "error"))

        cost_ann = await ann2[0].command(Command.COST.identifier)
        cost_bob = await bob[0].command(Command.COST.identifier)
        assert abs(cost_ann["dayUsd"] - TASK_USD) < 1e-9 and abs(cost_bob["dayUsd"] - TASK_USD) < 1e-9
        assert cost_ann["user"] == "ann" and cost_bob["store"]["fallback"] is None

        # What ann's second window lists it can accept.
        first = ann_patches[0]["patchId"]
        await ann2[0].command(Command.PATCH_ACCEPT.identifier, {"patchId": first})
        await ann2[0].wait_for(lambda: ann2[0].applied)
    finally:
        for editor in editors:
            await stop_editor(editor)

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            costs = conn.execute(text('SELECT "user", COUNT(*), SUM(usd) FROM costs GROUP BY "user" ORDER BY 1')).all()
            turns = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT task_id || ':' || CAST(\"index\" AS VARCHAR))"
                                      " FROM turns")).one()
            tasks = dict(conn.execute(text("SELECT status, COUNT(*) FROM tasks GROUP BY status")).all())
    finally:
        engine.dispose()
    assert [(u, n) for u, n, _usd in costs] == [("ann", 3), ("bob", 3)]
    assert all(abs(usd - TASK_USD) < 1e-9 for _u, _n, usd in costs)
    assert turns == (6, 6)  # every turn once
    assert tasks == {"done": 2, "budget": 1}
