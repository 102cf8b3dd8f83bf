"""`gdm acp` end to end: the SDK's client side against the real subprocess and the scripted model.

Every row of DESIGN.md's ACP mapping, approve and reject, modes, cancel, load. Bad input is in
test_acp_bad_input.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import acp
import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, SCRIPTED_PRICES
from tests.e2e.acp_client import ACCEPT, ACCEPT_ALL, REJECT, EditorClient, ask, new_session, start_agent

GUARDED = 'if b == 0:\n        raise ValueError("divide by zero")'


@pytest.fixture
def acp_model() -> Iterator[ScriptedModel]:
    """The scripted model playing fixtures/scripts/acp.json."""
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "acp.json").read_text())) as model:
        yield model


def gdm_settings(model: ScriptedModel, tmp_path: Path, **extra) -> dict:
    """`_meta.gdm` for the scripted model, a store in tmp_path, no test run after edits."""
    return {"model": "openai/scripted", "apiBase": model.base_url, "prices": SCRIPTED_PRICES,
            "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}", "testCommand": "true", **extra}


async def test_initialize_new_session_and_a_reviewed_edit(workspace: Path, tmp_path: Path,
                                                          acp_model: ScriptedModel) -> None:
    client = EditorClient(workspace, permission=ACCEPT)
    async with start_agent(client, tmp_path) as (conn, _proc):
        sid = await new_session(conn, workspace, gdm_settings(acp_model, tmp_path))
        answer = await ask(conn, sid, "ACP guard divide")
        assert answer.stop_reason == "end_turn"
    assert GUARDED in (workspace / "calc.py").read_text()
    assert client.writes == ["calc.py"]
    kinds = client.kinds()
    assert "available_commands_update" in kinds and "agent_thought_chunk" in kinds and "usage_update" in kinds
    calls = client.calls()
    assert [c["kind"] for c in calls.values()] == ["read", "search", "edit"]
    read = next(c for c in calls.values() if c["kind"] == "read")
    assert read["locations"] == [{"path": str(workspace / "calc.py"), "line": 9}]
    edit = next(c for c in calls.values() if c["kind"] == "edit")
    diff = next(c for c in edit["content"] if c["type"] == "diff")
    assert diff["path"] == str(workspace / "calc.py") and diff["old_text"].count("return a / b") == 1
    assert GUARDED in diff["new_text"]
    assert edit["title"].startswith("Applied:") and "risk" in edit["title"]
    assert client.permissions and client.permissions[0].title.startswith("Accept?")
    assert "divide() now raises ValueError" in client.text()
