"""MCP tools below the protocol: names, schemas, result rendering, workspace offers, and the
manager against gdm's real fault server (environment, cwd, gate, timeout, stop)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import mcp_types as types
import pytest

from gdm.config import Settings
from gdm.tools.asking import answers as actions, question as message
from gdm.mcp_tools.client import render
from gdm.mcp_tools.manager import McpManager
from gdm.mcp_tools.specs import all_specs, workspace_specs
from gdm.mcp_tools.tools import cap_output, provider_schema, tool_name, unique_names
from gdm.tools.base import DENY, ApprovalRequest, ToolContext, ToolError, ToolRegistry
from tests.mcp_servers import alive, fault_server, pids

PROVIDER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_names_are_sanitised_to_the_provider_limit():
    assert tool_name("git", "git_status") == "mcp__git__git_status"
    assert tool_name("my server", "dotted.name/x") == "mcp__my_server__dotted_name_x"
    long = tool_name("a-very-long-server-name", "and_an_even_longer_tool_name_that_goes_on_and_on")
    assert PROVIDER_NAME.match(long) and len(long) == 64
    assert long != tool_name("a-very-long-server-name", "and_an_even_longer_tool_name_that_goes_on_and_ON")


def test_colliding_names_get_a_suffix():
    names = unique_names([("a.b", "x"), ("a_b", "x"), ("s", "read")], taken=["mcp__s__read"])
    assert names == ["mcp__a_b__x", "mcp__a_b__x_2", "mcp__s__read_2"]
    assert all(PROVIDER_NAME.match(n) for n in names)


def test_schema_is_the_servers_own_minus_rejected_keywords():
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"n": {"type": "integer", "minimum": 1, "title": "N"}}, "required": ["n"],
              "additionalProperties": False}
    cleaned = provider_schema(schema)
    assert "$schema" not in cleaned
    assert cleaned["properties"] == schema["properties"] and cleaned["required"] == ["n"]
    assert provider_schema({}) == {"type": "object", "properties": {}}
    for bad in ([1], {"type": "array"}, {"type": "object", "properties": ["x"]},
                {"type": "object", "properties": {}, "required": "x"}):
        with pytest.raises(ValueError):
            provider_schema(bad)


def test_long_output_keeps_head_and_tail():
    text = "H" * 15_000 + "middle" + "T" * 15_000
    capped = cap_output(text)
    assert capped.startswith("H" * 10_000) and capped.endswith("T" * 10_000) and "middle" not in capped
    assert "characters of the result cut" in capped and cap_output("short") == "short"


def test_render_text_structured_image_and_resources():
    result = types.CallToolResult(content=[
        types.TextContent(text='{"a": 1}'),
        types.ImageContent(data="aGVsbG8=", mime_type="image/png"),
        types.ResourceLink(name="readme", uri="file:///r.md", mime_type="text/markdown"),
        types.EmbeddedResource(resource=types.TextResourceContents(uri="mem://x", text="abc", mime_type="text/plain")),
    ], structured_content={"a": 1})
    text = render(result).text
    assert text.splitlines() == ['{"a": 1}', "[image: image/png, 5 bytes; not shown to the model]",
                                 "[resource link: readme <file:///r.md>, text/markdown]",
                                 "[embedded resource <mem://x>, text/plain, 3 characters of text]"]
    only = render(types.CallToolResult(content=[], structured_content={"t": 3}, is_error=True))
    assert only.text == 'structured content: {"t": 3}' and only.is_error


def test_workspace_files_are_offers_and_settings_win(tmp_path):
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "git": {"command": "evil"}, "tool": {"command": "run", "args": ["${workspaceFolder}/x"]},
        "remote": {"type": "sse", "url": "http://h"}, "secret": {"command": "x", "env": {"K": "${input:key}"}}}}))
    (tmp_path / ".vscode" / "mcp.json").write_text(json.dumps({"servers": {
        "web": {"type": "http", "url": "http://127.0.0.1:1/mcp", "headers": {"X": "1"}}}}))
    specs, problems = workspace_specs(tmp_path)
    assert [(s.name, s.source) for s in specs] == [("git", ".mcp.json"), ("tool", ".mcp.json"),
                                                    ("web", ".vscode/mcp.json")]
    assert specs[1].config.args == [f"{tmp_path}/x"] and specs[2].config.headers == {"X": "1"}
    assert any("'remote'" in p and "not supported" in p for p in problems)
    assert any("'secret'" in p and "${" in p for p in problems)
    settings = Settings.model_validate({"mcpServers": {"git": {"command": "mcp-server-git"}}})
    merged, _ = all_specs(settings.mcp_servers, tmp_path)
    assert [(s.name, s.from_workspace) for s in merged] == [("git", False), ("tool", True), ("web", True)]
    assert merged[0].config.command == "mcp-server-git"
    (tmp_path / ".mcp.json").write_text("{not json")
    assert "not readable JSON" in workspace_specs(tmp_path)[1][0]


def test_approval_messages_name_server_tool_and_arguments():
    call = ApprovalRequest("t-1", "mcp__git__git_add", '{"files": ["a"]}', "/w", kind="mcp", server="git",
                           server_tool="git_add")
    assert "'git_add'" in message(call) and "'git'" in message(call) and '"files"' in message(call)
    assert list(actions(call)) == ["Allow once", "Always allow this tool", "Deny"]
    start = ApprovalRequest("t-1", "x", "python srv.py", "/w", kind="mcp-server", server="x", server_tool=".mcp.json")
    assert ".mcp.json" in message(start) and list(actions(start)) == ["Start it for this session", "Don't start"]
    shell = ApprovalRequest("t-1", "run_command", "ls", "/w")
    assert list(actions(shell)) == ["Allow once", "Always allow this command", "Deny"]


class _View:
    def __init__(self, root: Path) -> None:
        self.root = root


async def test_manager_environment_cwd_gate_timeout_and_stop(tmp_path, monkeypatch):
    """One real fault server: scrubbed environment plus the user's env, the workspace as cwd,
    ask/deny without an approver, the injectable timeout, and stopping on settings removal."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-notarealkeybutlookslikeone0123456789")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    log = tmp_path / "fault.log"
    config = fault_server(log, FROM_USER="given")
    settings = Settings.model_validate({"mcpServers": {"fault": config}, "mcpPolicy": "allow", "user": "ann"})
    manager = McpManager(tmp_path, settings)
    reported: list[str] = []
    manager.report = reported.append
    manager.call_timeout_s = 1
    audit: list[tuple[str, dict]] = []
    ctx = ToolContext("t-1", _View(tmp_path), None, None, None, audit=lambda k, d: audit.append((k, d)))
    try:
        registry = await manager.registry(ToolRegistry([]), ctx)
        assert "mcp__fault__echo" in registry.names() and "mcp__fault__bad_schema" not in registry.names()
        assert any("bad_schema" in m for m in reported)
        whoami = registry.get("mcp__fault__whoami")
        args = {"names": ["OPENAI_API_KEY", "HARMLESS_SETTING", "FROM_USER"]}
        seen = json.loads((await whoami.run(whoami.check_args(args), ctx)).text.splitlines()[0])
        assert seen == {"cwd": str(tmp_path), "env": {"OPENAI_API_KEY": None, "HARMLESS_SETTING": "visible",
                                                      "FROM_USER": "given"}}
        assert audit[-1] == ("mcp", {"tool": "mcp__fault__whoami", "server": "fault", "serverTool": "whoami",
                                     "arguments": args, "policy": "allow", "decision": "allow_once",
                                     "reason": "mcp policy allow", "by": "ann"})
        slow = registry.get("mcp__fault__slow")
        with pytest.raises(ToolError, match="did not answer within 1 s"):
            await slow.run({"seconds": 30, "timeout_s": 600}, ctx)
        with pytest.raises(ToolError, match="missing required argument"):
            slow.check_args({})

        manager.update(Settings.model_validate({"mcpServers": {"fault": config}, "mcpPolicy": "ask"}))
        with pytest.raises(ToolError, match="nobody to ask"):
            await registry.get("mcp__fault__echo").run({"text": "x"}, ctx)

        async def deny(_request: ApprovalRequest) -> str:
            return DENY
        ctx.approve = deny
        with pytest.raises(ToolError, match="denied by the user"):
            await registry.get("mcp__fault__echo").run({"text": "x"}, ctx)

        [pid] = pids(log)
        manager.update(Settings())
        for _ in range(400):
            if not alive(pid):
                break
            await asyncio.sleep(0.05)
        assert not alive(pid)
    finally:
        await manager.aclose()
    assert os.environ["OPENAI_API_KEY"]  # the parent's environment is untouched
