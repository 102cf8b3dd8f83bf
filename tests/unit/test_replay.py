"""Record and replay: a session run against the scripted model is re-run offline from the store,
and from an exported fixture, and gives the same tool calls and patches."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from gdm.agent.session import Session, TaskSpec
from gdm.cli import main, replay_recording
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.models import replay
from gdm.scripted import ScriptedModel
from gdm.store import open_store
from tests.conftest import SCRIPTED_PRICES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROMPTS = [("Make divide() fail clearly on zero", "calc.py", 8, 10),
           ("Document add and mean", "calc.py", 0, 6)]


def record(workspace: Path, settings: dict) -> tuple[str, str]:
    """Run two tasks for real (litellm → scripted model); returns (session id, database url)."""
    s = resolve([settings]).settings
    store = open_store(s.database_url)
    session = Session(root=workspace, settings=s, store=store, buffers=NoBuffers())

    async def run() -> None:
        for i, (prompt, path, start, end) in enumerate(PROMPTS):
            async for _event in session.run_task(f"t-0000000{i}", TaskSpec(prompt, path, start, end)):
                pass
    asyncio.run(run())
    store.close()
    return session.id, s.database_url


@pytest.fixture(scope="module")
def session_db(tmp_path_factory):
    """One real recorded session for the whole module (recording costs seconds)."""
    tmp = tmp_path_factory.mktemp("recorded")
    workspace = tmp / "calc"
    shutil.copytree(FIXTURES / "workspaces" / "calc", workspace)
    conversations = []
    for name in ("demo.json", "e2e.json"):
        conversations += json.loads((FIXTURES / "scripts" / name).read_text())["conversations"]
    with ScriptedModel({"conversations": conversations}) as scripted:
        settings = {"model": "openai/scripted", "apiBase": scripted.base_url, "prices": SCRIPTED_PRICES,
                    "databaseUrl": f"sqlite:///{tmp / 'gdm.db'}"}
        session_id, url = record(workspace, settings)
        assert scripted.failures == []
    return session_id, url


@pytest.fixture
def recorded(session_db, tmp_path):
    session_id, url = session_db
    with open_store(url) as store:
        recording = replay.Recording.from_store(store, session_id)
    fresh = tmp_path / "fresh"
    shutil.copytree(FIXTURES / "workspaces" / "calc", fresh)
    return recording, fresh, url


def test_recording_has_every_task_turn_tool_call_and_patch(recorded):
    recording, _, _ = recorded
    assert [t.prompt for t in recording.tasks] == [p[0] for p in PROMPTS]
    first = recording.tasks[0]
    assert len(first.turns) == 4 and [c["name"] for c in first.tool_calls] == ["search", "read_file", "edit_file"]
    assert first.path == "calc.py" and (first.start_line, first.end_line) == (8, 10)
    assert [p["path"] for p in first.patches] == ["calc.py"] and "raise ValueError" in first.patches[0]["diff"]


async def test_replay_gives_identical_tool_calls_and_patches(recorded):
    recording, fresh, _ = recorded
    assert await replay_recording(recording, fresh) == [[], []]


async def test_replay_reports_a_different_outcome(recorded):
    recording, fresh, _ = recorded
    calc = fresh / "calc.py"
    calc.write_text(calc.read_text().replace("return a / b", "return a / b  # changed"))
    problems = await replay_recording(recording, fresh)
    assert problems[0] and any("differ" in p for p in problems[0])


async def test_replay_client_runs_out_of_turns_clearly(recorded):
    recording, _, _ = recorded
    client = replay.ReplayClient(recording.tasks[0])
    for _ in recording.tasks[0].turns:
        await client.complete([{"role": "user", "content": "x"}])
    with pytest.raises(replay.LLMError, match="only 4 were recorded"):
        await client.complete([])
    assert client.divergences  # the requests were not the recorded ones


def test_export_then_replay_the_fixture_from_the_command_line(recorded, tmp_path, capsys):
    recording, fresh, url = recorded
    target = tmp_path / "out" / "session.json"
    with pytest.raises(SystemExit) as exported:
        main(["export", recording.session_id, str(target), "--database-url", url])
    assert exported.value.code == 0
    data = json.loads(target.read_text())
    assert data["format"] == replay.FORMAT and len(data["tasks"]) == 2
    with pytest.raises(SystemExit) as replayed:
        main(["replay", str(target), "--workspace", str(fresh)])
    assert replayed.value.code == 0
    assert "✓ Make divide() fail clearly on zero" in capsys.readouterr().out


def test_replay_from_the_store_by_session_id(recorded, capsys):
    recording, fresh, url = recorded
    with pytest.raises(SystemExit) as replayed:
        main(["replay", recording.session_id, "--workspace", str(fresh), "--database-url", url])
    assert replayed.value.code == 0


def test_unknown_session_and_bad_fixture_are_clear(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(SystemExit) as missing:
        main(["replay", "s-nope", "--database-url", url])
    assert missing.value.code == 2 and "no session 's-nope'" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}')
    with pytest.raises(SystemExit) as wrong:
        main(["replay", str(bad)])
    assert wrong.value.code == 2 and "not a gdm replay fixture" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "replays").glob("*.json")))
async def test_bundled_replay_fixtures_replay_identically(name, tmp_path):
    """The second offline path: recorded sessions checked in under fixtures/replays/."""
    recording = replay.load(FIXTURES / "replays" / name)
    workspace = tmp_path / "calc"
    shutil.copytree(FIXTURES / "workspaces" / "calc", workspace)
    assert recording.tasks and await replay_recording(recording, workspace) == [[] for _ in recording.tasks]
