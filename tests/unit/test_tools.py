"""The model-facing tools against a real workspace copy: results, errors the model can read."""

from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import PatchKind
from gdm.patches.risk import RiskContext
from gdm.tools import default_tools
from gdm.tools.base import ToolContext, ToolError, counter_ids

NAMES = ["read_file", "list_files", "search", "code_map", "find_symbol", "find_references", "file_outline", "edit_file", "write_file", "delete_file", "rename_file"]


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    book = PatchBook()
    return ToolContext("t1", WorkspaceView(workspace, NoBuffers(), book), book,
                       RiskContext(mentioned_paths={"calc.py"}), counter_ids("t1-p"))


async def run(ctx, name, **args):
    tool = default_tools().get(name)
    return await tool.run(tool.check_args(args), ctx)


def test_tool_names_and_schemas_are_the_contract():
    tools = default_tools()
    assert tools.names() == NAMES
    props = {s["function"]["name"]: set(s["function"]["parameters"]["properties"]) for s in tools.schemas()}
    assert props == {"read_file": {"path", "start_line", "end_line"}, "list_files": {"path", "pattern"},
                     "search": {"query", "path", "regex"}, "code_map": {"focus", "max_tokens"},
                     "find_symbol": {"name", "kind"}, "find_references": {"name", "path"}, "file_outline": {"path"},
                     "edit_file": {"path", "old_text", "new_text"},
                     "write_file": {"path", "content"}, "delete_file": {"path"},
                     "rename_file": {"path", "new_path"}}


async def test_read_file_whole_and_range(ctx):
    whole = (await run(ctx, "read_file", path="calc.py")).text
    assert whole.startswith('"""A tiny calculator')
    part = (await run(ctx, "read_file", path="calc.py", start_line=9, end_line=10)).text
    assert part.splitlines()[1:] == ["def divide(a: float, b: float) -> float:", '    """Return a / b."""']
    with pytest.raises(ToolError, match="outside the file"):
        await run(ctx, "read_file", path="calc.py", start_line=500)
    with pytest.raises(ToolError, match="no such file"):
        await run(ctx, "read_file", path="nope.py")


async def test_edit_is_a_pending_patch_not_a_write(ctx, workspace):
    before = (workspace / "calc.py").read_text()
    out = await run(ctx, "edit_file", path="calc.py", old_text="return a + b", new_text="return b + a")
    assert "pending patch t1-p-1" in out.text and out.patch_ids == ["t1-p-1"]
    assert (workspace / "calc.py").read_text() == before
    assert "return b + a" in (await run(ctx, "read_file", path="calc.py")).text
    # A second edit of the same file extends the same patch.
    out2 = await run(ctx, "edit_file", path="calc.py", old_text="return a / b", new_text="return a / (b or 1)")
    assert out2.patch_ids == ["t1-p-1"]
    patch = ctx.patches.get("t1-p-1")
    assert "b + a" in patch.new_text and "(b or 1)" in patch.new_text and patch.risk is not None


async def test_edit_errors_the_model_can_recover_from(ctx):
    with pytest.raises(ToolError, match="not found"):
        await run(ctx, "edit_file", path="calc.py", old_text="return a * b", new_text="x")
    with pytest.raises(ToolError, match="occurs 3 times"):
        await run(ctx, "edit_file", path="calc.py", old_text="return", new_text="x")
    with pytest.raises(ToolError, match="whitespace"):
        await run(ctx, "edit_file", path="calc.py", old_text="return  a + b", new_text="x")
    with pytest.raises(ToolError, match="leaves the workspace"):
        await run(ctx, "edit_file", path="../calc.py", old_text="a", new_text="b")
    tool = default_tools().get("edit_file")
    with pytest.raises(ToolError, match="missing required"):
        tool.check_args({"path": "calc.py"})
    with pytest.raises(ToolError, match="must be string"):
        tool.check_args({"path": 3, "old_text": "a", "new_text": "b"})


async def test_edit_matches_crlf_files(ctx, workspace):
    (workspace / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    await run(ctx, "edit_file", path="win.py", old_text="a = 1\nb = 2", new_text="a = 1\nb = 3")
    assert ctx.patches.get("t1-p-1").new_text == "a = 1\r\nb = 3\r\n"


async def test_write_file_creates(ctx, workspace):
    out = await run(ctx, "write_file", path="pkg/new.py", content="X = 1\n")
    patch = ctx.patches.get(out.patch_ids[0])
    assert patch.kind is PatchKind.CREATE and not (workspace / "pkg").exists()
    assert "pkg/new.py" in (await run(ctx, "list_files")).text
    assert (await run(ctx, "read_file", path="pkg/new.py")).text == "X = 1\n"


async def test_search(ctx):
    out = (await run(ctx, "search", query="def divide")).text
    assert out == "calc.py:9: def divide(a: float, b: float) -> float:"
    assert "test_calc.py:1:" in (await run(ctx, "search", query="^from", regex=True)).text
    assert "no matches" in (await run(ctx, "search", query="zebra")).text
    with pytest.raises(ToolError, match="invalid regex"):
        await run(ctx, "search", query="(", regex=True)


async def test_secrets_are_not_read(ctx, workspace):
    (workspace / ".env").write_text("OPENAI_API_KEY=sk-live-123\n")
    with pytest.raises(ToolError, match="secrets"):
        await run(ctx, "read_file", path=".env")
    assert "no matches" in (await run(ctx, "search", query="sk-live")).text
