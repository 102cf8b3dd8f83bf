"""Tool-result facts (tools/facts.py) read from what the real tools write, so a change of a tool's
format that the facts no longer read fails here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.tools import default_tools
from gdm.tools.base import ToolContext, counter_ids
from gdm.tools.facts import facts_of
from gdm.tools.search import MAX_MATCHES
from gdm.tools.shell import CommandResult, RunCommand, describe


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    book = PatchBook()
    return ToolContext("t1", WorkspaceView(workspace, NoBuffers(), book), book, RiskContext(), counter_ids("t1-p"),
                       shell_policy="allow")


async def facts(ctx: ToolContext, tool_name: str, **args) -> dict:
    tool = RunCommand() if tool_name == "run_command" else default_tools().get(tool_name)
    return facts_of(tool_name, True, (await tool.run(tool.check_args(args), ctx)).text)


async def test_search_counts_every_hit_and_says_when_the_list_was_cut(ctx, workspace):
    lines = (workspace / "calc.py").read_text().lower().splitlines()
    assert await facts(ctx, "search", query="divide(", path="calc.py") == {"hits": sum("divide(" in x for x in lines)}
    assert await facts(ctx, "search", query="no such text anywhere") == {"hits": 0}
    (workspace / "many.txt").write_text("needle\n" * (MAX_MATCHES + 50))
    assert await facts(ctx, "search", query="needle", path="many.txt") == {"hits": MAX_MATCHES, "more": True}


async def test_line_per_item_tools(ctx):
    listed = await facts(ctx, "list_files")
    assert listed["hits"] >= 1 and "more" not in listed
    assert await facts(ctx, "list_files", pattern="*.nothing") == {"hits": 0}
    assert await facts(ctx, "find_symbol", name="divide") == {"hits": 1}
    assert await facts(ctx, "find_symbol", name="no_such_symbol") == {"hits": 0}
    assert await facts(ctx, "find_references", name="no_such_symbol") == {"hits": 0}


async def test_a_command_gives_its_exit_code_and_last_output_line(ctx):
    py = sys.executable
    ran = await facts(ctx, "run_command", command=f"{py} -c \"print('collected'); print(); print('3 passed in 0.01s')\"")
    assert ran == {"exitCode": 0, "lastLine": "3 passed in 0.01s"}
    assert await facts(ctx, "run_command", command="exit 3") == {"exitCode": 3}
    assert await facts(ctx, "run_command", command="sleep 5", timeout_s=1) == {"timedOut": True}
    # The whole output counts, not the 2,000 characters an event carries.
    long = await facts(ctx, "run_command", command=f"{py} -c \"print('x' * 5000); print('1 failed, 2 passed')\"")
    assert long["lastLine"] == "1 failed, 2 passed"
    # The sandbox could not start: nothing ran, which is not an exit code.
    unavailable = describe("pytest -q", CommandResult(None, "", not_run="bwrap: No permissions"), 60)
    assert facts_of("run_command", True, unavailable) == {"notRun": True}


def test_failed_calls_and_unknown_formats_have_no_facts():
    assert facts_of("search", False, "search: invalid regex") == {}
    assert facts_of("run_command", True, "not what describe() writes") == {}
    assert facts_of("read_file", True, "anything") == {}
    assert facts_of("edit_file", True, "Proposed change to calc.py as pending patch p-1 (1 hunk(s), +2 -0 lines)") == {}
    assert facts_of("mcp__git__status", True, "x:1: y") == {}
