"""The ACP front end's pure parts: prompt blocks → task, settings from `_meta.gdm` and mcpServers,
event mapping, the transport's judgement of malformed messages, the outbox's order and joining."""

from __future__ import annotations

import asyncio
from pathlib import Path

import acp
import pytest
from acp import schema

from gdm.acp import mapping
from gdm.acp.outbox import Outbox
from gdm.acp.prompt import BadPrompt, parse
from gdm.acp.state import session_settings
from gdm.acp.transport import _invalid
from gdm.agent import events as ev
from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook


@pytest.fixture
def view(workspace: Path) -> WorkspaceView:
    return WorkspaceView(workspace, NoBuffers(), PatchBook())


def test_text_and_a_resource_link_become_prompt_and_focus(view: WorkspaceView) -> None:
    link = acp.resource_link_block("calc.py", (view.root / "calc.py").as_uri() + "#L9-11")
    prompt = parse([acp.text_block("Guard divide"), link], view)
    assert prompt.spec.prompt.startswith("Guard divide") and "(attached: calc.py, lines 9-11)" in prompt.spec.prompt
    assert (prompt.spec.path, prompt.spec.start_line, prompt.spec.end_line) == ("calc.py", 8, 10)
    assert prompt.fetch == ["calc.py"] and prompt.buffers == {}


def test_an_embedded_whole_file_is_the_editors_text_and_others_are_quoted(view: WorkspaceView) -> None:
    first = acp.resource_block(acp.embedded_text_resource((view.root / "calc.py").as_uri(), "EDITOR TEXT"))
    second = acp.resource_block(acp.embedded_text_resource((view.root / "test_calc.py").as_uri(), "TESTS TEXT"))
    prompt = parse([acp.text_block("Look"), first, second], view)
    assert prompt.spec.path == "calc.py"
    assert prompt.buffers == {"calc.py": "EDITOR TEXT", "test_calc.py": "TESTS TEXT"}
    assert "TESTS TEXT" in prompt.spec.prompt and "EDITOR TEXT" not in prompt.spec.prompt


@pytest.mark.parametrize(("text", "read_only", "words"), [
    ("/explain the loop", True, "Explain what the selected code does"),
    ("/write-tests", False, "Write tests for the selected code"),
    ("/fix it crashes on zero", False, "it crashes on zero"),
    ("/explainer is not a command", False, "/explainer"),
])
def test_slash_commands(view: WorkspaceView, text: str, read_only: bool, words: str) -> None:
    spec = parse([acp.text_block(text)], view).spec
    assert spec.read_only is read_only and words in spec.prompt


@pytest.mark.parametrize(("blocks", "words"), [
    ([acp.text_block("  ")], "no text"),
    ([acp.text_block("x"), acp.resource_link_block("p", "file:///etc/passwd")], "outside this session's folder"),
    ([acp.image_block("aGk=", "image/png")], "not supported"),
    ([acp.resource_block(acp.embedded_blob_resource("{root}/x.bin", "aGk="))], "binary"),
])
def test_bad_prompts_say_why(view: WorkspaceView, blocks: list, words: str) -> None:
    for block in blocks:
        resource = getattr(block, "resource", None)
        if resource is not None:
            resource.uri = resource.uri.replace("{root}", view.root.as_uri())
    with pytest.raises(BadPrompt, match=words):
        parse(blocks, view)


def test_meta_gdm_overrides_the_environment_and_mcp_servers_join(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GDM_MODEL", "openai/from-env")
    monkeypatch.setenv("GDM_MAX_TURNS", "7")
    stdio = schema.McpServerStdio(name="git", command="/usr/bin/mcp-git", args=["--repo", "."],
                                  env=[schema.EnvVariable(name="A", value="1")])
    http = schema.HttpMcpServer(type="http", name="web", url="http://127.0.0.1:9/mcp",
                                headers=[schema.HttpHeader(name="X", value="y")])
    result = session_settings({"model": "openai/from-meta", "mcpServers": {"time": {"command": "mcp-time"}}},
                              [stdio, http])
    s = result.settings
    assert (s.model, s.max_turns, result.errors) == ("openai/from-meta", 7, [])
    assert set(s.mcp_servers) == {"time", "git", "web"}
    assert s.mcp_servers["git"].args == ["--repo", "."] and s.mcp_servers["git"].env == {"A": "1"}
    assert s.mcp_servers["web"].headers == {"X": "y"}


def test_bad_meta_is_reported_and_defaulted() -> None:
    assert session_settings("not an object", None).errors[0].startswith("_meta.gdm must be an object")
    result = session_settings({"maxTurns": "lots"}, None)
    assert result.settings.max_turns == 30 and "maxTurns" in result.errors[0]


def test_tool_calls_map_to_kinds_and_absolute_locations(tmp_path: Path) -> None:
    assert [mapping.tool_kind(n) for n in ("read_file", "search", "edit_file", "delete_file", "rename_file",
                                           "run_command", "mcp__git__log")] == \
        ["read", "search", "edit", "delete", "move", "execute", "other"]
    call = mapping.start(tmp_path, ev.ToolCall("t", "c1", "rename_file", {"path": "a.py", "new_path": "b/a.py"}))
    assert [loc.path for loc in call.locations] == [str(tmp_path / "a.py"), str(tmp_path / "b/a.py")]
    outside = mapping.start(tmp_path, ev.ToolCall("t", "c2", "read_file", {"path": "../x", "start_line": 3}))
    assert outside.locations == []
    hits = mapping.finish(tmp_path, ev.ToolResult("t", "c3", "search", True, "calc.py:9: def divide\nx.py:2: y"))
    assert [(loc.path, loc.line) for loc in hits.locations] == [(str(tmp_path / "calc.py"), 9),
                                                                (str(tmp_path / "x.py"), 2)]


@pytest.mark.parametrize(("message", "problem"), [
    ({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, None),
    ({"jsonrpc": "2.0", "id": 1, "result": {}}, None),
    ([{"jsonrpc": "2.0"}], "batches"),
    (3, "JSON object"),
    ({"id": 1, "method": "x"}, "jsonrpc"),
    ({"jsonrpc": "2.0", "id": 1, "method": 5}, "method"),
    ({"jsonrpc": "2.0", "id": 1, "method": "x", "params": "s"}, "params"),
    ({"jsonrpc": "2.0"}, "neither"),
])
def test_the_transport_names_what_is_malformed(message: object, problem: str | None) -> None:
    found = _invalid(message)
    assert (found is None) if problem is None else (problem in found)


async def test_the_outbox_keeps_order_and_joins_text_queued_behind_a_busy_pipe() -> None:
    sent: list = []
    gate, busy = asyncio.Event(), asyncio.Event()

    async def send(update: object) -> None:
        busy.set()
        await gate.wait()
        sent.append(update)
    box = Outbox(send)
    box.text("a")  # goes out first, alone: the pipe is then busy with it
    await busy.wait()
    box.text("b")
    box.text("c")
    box.put(mapping.thought("t"))
    box.text("d")
    gate.set()
    await box.flush()
    assert [getattr(u.content, "text", None) for u in sent] == ["a", "bc", "t", "d"]
    assert [u.session_update for u in sent] == ["agent_message_chunk"] * 2 + ["agent_thought_chunk",
                                                                               "agent_message_chunk"]
