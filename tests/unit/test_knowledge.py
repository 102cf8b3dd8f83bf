"""What the model knows of the project, through the real loop: the map in the first message, the
code tools against the scripted model (litellm's real HTTP path), and the project rules — found
nearest-first, cut to a budget, named in the first thinking event and by `gdm ask`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec
from gdm.agent.testrun import detect_test_command
from gdm.config import resolve
from gdm.context.rules import find_rules, rules_test_command
from gdm.context.workspace import NoBuffers
from gdm.headless import run_ask
from gdm.scripted import ScriptedModel
from gdm.store import open_store

from tests.conftest import FIXTURES, scripted_settings


@pytest.fixture
def codemap_model():
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "codemap.json").read_text())) as model:
        yield model


def session_for(workspace: Path, model: ScriptedModel, tmp_path: Path, **extra) -> Session:
    settings = resolve([scripted_settings(model, tmp_path, **extra)]).settings
    return Session(root=workspace, settings=settings, store=open_store(settings.database_url), buffers=NoBuffers())


async def run(session: Session, prompt: str, path: str | None = None, read_only: bool = False) -> list[ev.Event]:
    return [e async for e in session.run_task("t-1", TaskSpec(prompt, path, read_only=read_only))]


@pytest.mark.parametrize("read_only", [False, True])
async def test_the_model_finds_symbols_outlines_and_references_through_the_loop(workspace, codemap_model, tmp_path,
                                                                                read_only):
    session = session_for(workspace, codemap_model, tmp_path)
    events = await run(session, "Code map check: where is divide defined and used?", read_only=read_only)
    assert codemap_model.failures == []
    assert events[-1].status == "done"
    calls = [e.name for e in events if isinstance(e, ev.ToolCall)]
    assert calls == ["find_symbol", "file_outline", "find_references", "code_map"]
    assert all(e.ok for e in events if isinstance(e, ev.ToolResult))
    first = codemap_model.requests[0]["messages"][1]["content"]
    assert first.index("Request: Code map check") < first.index("Code map of the workspace")


async def test_map_tokens_zero_means_no_map(workspace, codemap_model, tmp_path):
    session = session_for(workspace, codemap_model, tmp_path, mapTokens=0)
    await run(session, "Code map check: where is divide defined and used?")
    assert "Code map of the workspace" not in codemap_model.requests[0]["messages"][1]["content"]
    assert codemap_model.failures  # the script's first expectation wants the map


def rules_workspace(root: Path) -> Path:
    (root / "pkg" / "deep").mkdir(parents=True)
    (root / "AGENTS.md").write_text("ROOT RULE: be brief.\nRun the tests with `pytest -q tests/`.\n")
    (root / "pkg" / "CLAUDE.md").write_text("NEAR RULE: use tabs.\n")
    (root / "pkg" / "deep" / "mod.py").write_text("def f():\n    pass\n")
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "AGENTS.md").write_text("NOT FOR pkg\n")
    return root


def test_rules_are_found_nearest_last_with_the_root_as_base(tmp_path):
    root = rules_workspace(tmp_path / "ws")
    rules = find_rules(root, "pkg/deep/mod.py")
    assert rules.files == ["AGENTS.md", "pkg/CLAUDE.md"]
    assert rules.text.index("ROOT RULE") < rules.text.index("NEAR RULE") and "NOT FOR" not in rules.text
    assert find_rules(root, None).files == ["AGENTS.md"]
    assert find_rules(tmp_path / "ws" / "elsewhere").files == ["AGENTS.md"]


def test_every_kind_of_rules_file_is_read(tmp_path):
    root = tmp_path / "kinds"
    for rel in ["AGENT.md", "GEMINI.md", ".rules", ".cursorrules", ".windsurfrules", ".cursor/rules/style.mdc",
                ".clinerules/a.md", ".github/copilot-instructions.md"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"rule from {rel}\n")
    rules = find_rules(root)
    assert set(rules.files) == {"AGENT.md", "GEMINI.md", ".rules", ".cursorrules", ".windsurfrules",
                                ".cursor/rules/style.mdc", ".clinerules/a.md", ".github/copilot-instructions.md"}


def test_rules_over_the_budget_are_cut_with_a_note_keeping_the_nearest(tmp_path):
    root = rules_workspace(tmp_path / "ws")
    (root / "AGENTS.md").write_text("ROOT " * 5000)
    rules = find_rules(root, "pkg/deep/mod.py", max_chars=2000)
    assert "NEAR RULE: use tabs." in rules.text and "cut here" in rules.text and rules.cut == ["AGENTS.md"]
    assert len(rules.text) < 2400


def test_a_test_command_named_in_the_rules_is_the_detected_one(tmp_path, workspace):
    root = rules_workspace(tmp_path / "ws")
    assert rules_test_command(root) == "pytest -q tests/"
    assert detect_test_command(root) == "pytest -q tests/"
    assert detect_test_command(root, rules=False) is None
    assert rules_test_command(workspace) is None  # calc has no rules: pytest is detected as before
    assert "pytest" in (detect_test_command(workspace) or "")


async def test_rules_reach_the_system_prompt_and_the_first_thinking_event(tmp_path, codemap_model):
    root = rules_workspace(tmp_path / "ws")
    session = session_for(root, codemap_model, tmp_path)
    events = await run(session, "Rules check", "pkg/deep/mod.py")
    assert codemap_model.failures == []
    thinking = [e.text for e in events if isinstance(e, ev.Thinking)]
    assert thinking[0] == "Project rules: AGENTS.md, pkg/CLAUDE.md"
    system = codemap_model.requests[0]["messages"][0]["content"]
    assert system.index("ROOT RULE") < system.index("NEAR RULE")


async def test_rules_off_reads_none(tmp_path, codemap_model):
    root = rules_workspace(tmp_path / "ws")
    session = session_for(root, codemap_model, tmp_path, rules="off")
    events = await run(session, "Rules check", "pkg/deep/mod.py")
    assert not [e for e in events if isinstance(e, ev.Thinking) and e.text.startswith("Project rules")]
    assert "ROOT RULE" not in codemap_model.requests[0]["messages"][0]["content"]


async def test_gdm_ask_prints_the_rules_files_used(tmp_path, codemap_model):
    root = rules_workspace(tmp_path / "ws")
    settings = resolve([scripted_settings(codemap_model, tmp_path)]).settings
    out = io.StringIO()
    code = await run_ask(settings, root, "Rules check", "pkg/deep/mod.py", None, False, out)
    assert code == 0 and "Project rules: AGENTS.md, pkg/CLAUDE.md" in out.getvalue()
