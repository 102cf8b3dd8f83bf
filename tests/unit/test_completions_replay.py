"""Inline completions recorded and replayed: a session's completion calls (fill in the middle and the
chat hole filler, through litellm to the scripted model) are read back from the store and from an
exported fixture, and asked again offline give the same suggestions; `gdm replay` says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gdm.agent.session import Session
from gdm.cli import main
from gdm.completions import replay as completion_replay
from gdm.completions.engine import for_session
from gdm.completions.state import Request
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.models import replay
from gdm.scripted import ScriptedModel
from gdm.store import open_store
from tests.conftest import FIXTURES, SCRIPTED_PRICES


def record(workspace: Path, tmp_path: Path, model: ScriptedModel) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'gdm.db'}"
    settings = resolve([{"model": "openai/scripted", "apiBase": model.base_url, "prices": SCRIPTED_PRICES,
                         "databaseUrl": url}]).settings
    store = open_store(url)
    session = Session(root=workspace, settings=settings, store=store, buffers=NoBuffers())
    text = (workspace / "calc.py").read_text() + "\n\ndef produc"

    async def run() -> list[str]:
        engine = for_session(session, lambda uri: None)
        fim = await engine.complete(Request((workspace / "calc.py").as_uri(), "calc.py", 1, text, len(text), True))
        session.update_settings(resolve([{**settings.model_dump(by_alias=True), "completionModel": "openai/gpt-4.1"}]).settings)
        chat_text = "def times(a, b):\n    "
        chat = await engine.complete(Request((workspace / "x.py").as_uri(), "x.py", 1, chat_text, len(chat_text), True))
        await engine.parts.accounting.settle()
        return [fim.text, chat.text]
    assert asyncio.run(run()) == ["t(values: list[float]) -> float:", "return a * b"]
    store.close()
    return session.id, url


def test_completion_calls_replay_offline_from_the_store_and_a_fixture(workspace, tmp_path, capsys):
    with ScriptedModel(FIXTURES / "scripts" / "completions.json") as model:
        session_id, url = record(workspace, tmp_path, model)
    with open_store(url) as store:
        recording = replay.Recording.from_store(store, session_id)
    assert [c["mode"] for c in recording.completions] == ["fim", "chat"]
    assert asyncio.run(completion_replay.check(recording.completions)) == []
    fixture = replay.export(recording, tmp_path / "fixture.json")
    assert replay.load(fixture).completions == recording.completions
    with pytest.raises(SystemExit) as done:
        main(["replay", str(fixture), "--workspace", str(workspace)])
    assert done.value.code == 0 and "✓ 2 inline completion(s)" in capsys.readouterr().out
    # A recording that no longer matches what the reply cleans to, or a request never recorded, is found.
    changed = [{**recording.completions[0], "text": "something else"}, recording.completions[1]]
    [problem] = asyncio.run(completion_replay.check(changed))
    assert problem.startswith("completion 1: suggested 't(values") and "recorded 'something else'" in problem
    client = completion_replay.ReplayCompletions(recording.completions)
    with pytest.raises(replay.LLMError, match="not recorded"):
        asyncio.run(client.fill("never asked", ""))
