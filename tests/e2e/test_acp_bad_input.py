"""`gdm acp` given bad input: a JSON-RPC error or a failed tool call with a clear message, the agent
keeps serving, nothing stored is lost. And nothing but ACP ever reaches its stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import acp
import pytest
import pytest_asyncio
from acp import RequestError

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.acp_client import ACCEPT, Agent, agent_env, ask, new_session, shared_agent
from tests.e2e.test_acp import GUARDED, gdm_settings, stored_patches

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def acp_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "acp.json").read_text())) as model:
        yield model


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def agent(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Agent]:
    async with shared_agent(tmp_path_factory.mktemp("acp-bad")) as running:
        yield running


async def raw(agent: Agent, line: bytes, request_id: object = None) -> dict:
    """Write one raw line to the agent's stdin; the error it answers with (matched by id)."""
    seen = len(agent.client.raw)
    agent.proc.stdin.write(line + b"\n")
    await agent.proc.stdin.drain()
    return await agent.client.wait_for(lambda: next(
        (m for m in agent.client.raw[seen:] if "error" in m and m.get("id") == request_id), None), 30)


@pytest.mark.parametrize(("line", "code", "words"), [
    (b"{not json", -32700, "not JSON"),
    (b"[1, 2]", -32600, "batches"),
    (b'"just a string"', -32600, "JSON object"),
    (b'{"id": 5, "method": "initialize"}', -32600, "jsonrpc"),
])
async def test_malformed_lines_are_answered_and_the_agent_goes_on(agent: Agent, workspace: Path, tmp_path: Path,
                                                                  acp_model: ScriptedModel, line: bytes, code: int,
                                                                  words: str) -> None:
    request_id = 5 if b'"id": 5' in line else None
    error = (await raw(agent, line, request_id))["error"]
    assert error["code"] == code and words in error["message"]
    assert await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))  # still serving


async def test_unknown_method_and_invalid_params(agent: Agent) -> None:
    error = (await raw(agent, b'{"jsonrpc": "2.0", "id": 9001, "method": "gdm/nothing", "params": {}}', 9001))["error"]
    assert error["code"] == -32601
    error = (await raw(agent, b'{"jsonrpc": "2.0", "id": 9002, "method": "session/prompt", '
                              b'"params": {"sessionId": "x", "prompt": "not a list"}}', 9002))["error"]
    assert error["code"] == -32602


async def test_unknown_session_ids_are_refused_clearly(agent: Agent, workspace: Path) -> None:
    with pytest.raises(RequestError, match="unknown session 's-nope'"):
        await ask(agent.conn, "s-nope", "hello")
    with pytest.raises(RequestError, match="unknown session"):
        await agent.conn.set_session_mode(session_id="s-nope", mode_id="review")
    await agent.conn.cancel(session_id="s-nope")  # a notification: logged, nothing to answer
    with pytest.raises(RequestError, match="no stored session 's-gone'"):
        await agent.conn.load_session(cwd=str(workspace), session_id="s-gone", mcp_servers=[])


async def test_bad_session_requests(agent: Agent, workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    with pytest.raises(RequestError, match="absolute path of an existing folder"):
        await agent.conn.new_session(cwd="relative/dir", mcp_servers=[])
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    with pytest.raises(RequestError, match="unknown mode 'yolo'"):
        await agent.conn.set_session_mode(session_id=sid, mode_id="yolo")
    outside = acp.resource_link_block("passwd", "file:///etc/passwd")
    with pytest.raises(RequestError, match="outside this session's folder"):
        await ask(agent.conn, sid, "read this", outside)
    with pytest.raises(RequestError, match="no text"):
        await agent.conn.prompt(session_id=sid, prompt=[acp.text_block("   ")])
    with pytest.raises(RequestError, match="not supported"):
        await agent.conn.prompt(session_id=sid, prompt=[acp.image_block("aGk=", "image/png")])
    with pytest.raises(RequestError, match="no authentication methods"):
        await agent.conn.authenticate(method_id="oauth")


async def test_bad_settings_are_told_and_defaulted(agent: Agent, workspace: Path, tmp_path: Path,
                                                   acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    response = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[],
                                            gdm=gdm_settings(acp_model, tmp_path, maxTurns="lots"))
    [error] = response.field_meta["gdm"]["settingsErrors"]
    assert "maxTurns" in error and "lots" in error
    assert (await ask(agent.conn, response.session_id, "ACP stream")).stop_reason == "end_turn"
    assert "maxTurns" in client.text(response.session_id, "agent_thought_chunk")


async def test_a_second_prompt_while_one_runs_is_refused(agent: Agent, workspace: Path, tmp_path: Path,
                                                         acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    first = asyncio.ensure_future(ask(agent.conn, sid, "ACP slow model"))
    await client.wait_for(lambda: "Turn 1" in client.text(sid, "agent_thought_chunk"))
    with pytest.raises(RequestError, match="already running"):
        await ask(agent.conn, sid, "ACP stream")
    await agent.conn.cancel(session_id=sid)
    assert (await asyncio.wait_for(first, 10)).stop_reason == "cancelled"


async def test_after_all_that_a_task_still_works_and_nothing_was_lost(agent: Agent, workspace: Path, tmp_path: Path,
                                                                      acp_model: ScriptedModel) -> None:
    agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP guard divide")).stop_reason == "end_turn"
    assert GUARDED in (workspace / "calc.py").read_text()
    assert [p["status"] for p in stored_patches(tmp_path)] == ["accepted"]
    assert agent.proc.returncode is None


async def test_nothing_but_acp_reaches_stdout(workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    """A whole task (litellm imported, a model call made) with stdout read raw: every line is JSON-RPC."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gdm.cli", "acp", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=agent_env(tmp_path), cwd=str(tmp_path))
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[bytes] = []

    async def call(request_id: int, method: str, params: dict) -> dict:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}).encode()
                         + b"\n")
        await proc.stdin.drain()
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the agent closed its stdout"
            lines.append(line)
            message = json.loads(line)
            if message.get("id") == request_id and "method" not in message:
                return message

    try:
        await call(1, "initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        new = await call(2, "session/new", {"cwd": str(workspace), "mcpServers": [],
                                            "_meta": {"gdm": gdm_settings(acp_model, tmp_path)}})
        answer = await call(3, "session/prompt", {"sessionId": new["result"]["sessionId"],
                                                  "prompt": [{"type": "text", "text": "ACP stream"}]})
        assert answer["result"]["stopReason"] == "end_turn"
    finally:
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), 30)
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in lines)
    assert any(b"agent_message_chunk" in line for line in lines)
