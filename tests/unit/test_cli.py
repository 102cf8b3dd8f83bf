"""The headless commands as a user runs them: `gdm demo` and `gdm ask`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.editor import server_env


def gdm(*args: str, env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gdm.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_demo_shows_tool_calls_patch_risk_and_cost(tmp_path):
    result = gdm("demo", env=server_env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "→ search(query=divide()" in out and "→ edit_file(" in out
    assert "risk LOW" in out and "+        raise ValueError" in out
    assert "Cost: task $0.009590" in out
    assert 'raise ValueError("cannot divide by zero")' in out.split("after accepting")[1]


def test_ask_headless_with_apply(workspace, tmp_path, scripted):
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=scripted.base_url,
                     GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    result = gdm("ask", "Document add and mean", "--workspace", str(workspace), "--file", "calc.py",
                 "--range", "4:6", "--apply", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "applied calc.py (2 hunk(s))" in result.stdout
    assert "price unknown" in result.stdout  # no `prices` for openai/scripted here: never a silent $0
    assert "(ValueError if empty)" in (workspace / "calc.py").read_text()


def test_ask_headless_applies_moves_and_deletions(workspace, tmp_path, scripted):
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=scripted.base_url,
                     GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    moved = gdm("ask", "Move the calculator into a package", "--workspace", str(workspace), "--apply", env=env)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "rename from calc.py" in moved.stdout and moved.stdout.rstrip().count("moved calc.py to pkg/calculator.py") == 1
    assert not (workspace / "calc.py").exists()
    assert "(now in pkg/)" in (workspace / "pkg" / "calculator.py").read_text()  # its edit landed, then it moved
    assert (workspace / "test_calc.py").read_text().startswith("from pkg.calculator import")
    tests = gdm("ask", "Delete the calculator's tests", "--workspace", str(workspace), "--apply", env=env)
    assert "not applying test_calc.py: CRITICAL risk" in tests.stdout, tests.stdout + tests.stderr
    assert (workspace / "test_calc.py").exists()  # deleting unmentioned tests waits for a person
    (workspace / "notes.txt").write_text("scratch\n")
    notes = gdm("ask", "Delete notes.txt, it is scratch", "--workspace", str(workspace), "--apply", env=env)
    assert notes.returncode == 0 and "deleted notes.txt" in notes.stdout, notes.stdout + notes.stderr
    assert not (workspace / "notes.txt").exists()


def test_ask_without_model_is_a_clear_error(workspace, tmp_path):
    result = gdm("ask", "hello", "--workspace", str(workspace), env=server_env(tmp_path))
    # Issue 16: the headless fix is named (a flag or variable, not an editor setting), no cost line.
    assert result.returncode == 2
    assert "--model" in result.stdout and "GDM_MODEL" in result.stdout and "Cost" not in result.stdout


def test_ask_bad_range_and_path(workspace, tmp_path):
    env = server_env(tmp_path, GDM_MODEL="openai/scripted")
    bad_range = gdm("ask", "x", "--workspace", str(workspace), "--file", "calc.py", "--range", "9-3", env=env)
    assert bad_range.returncode != 0 and "--range" in bad_range.stderr
    outside = gdm("ask", "x", "--workspace", str(workspace), "--file", "../etc/passwd", env=env)
    assert outside.returncode == 2 and "leaves the workspace" in outside.stdout


def test_ask_headless_shows_each_nearby_change_as_its_own_hunk(workspace, tmp_path):
    import json

    from gdm.scripted import ScriptedModel
    from tests.conftest import FIXTURES

    with ScriptedModel(json.loads((FIXTURES / "scripts" / "checks.json").read_text())) as model:
        env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=model.base_url,
                         GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", GDM_TEST_COMMAND="true",
                         GDM_CHECK_COMMANDS="")
        result = gdm("ask", "Nearby edits: document add and divide", "--workspace", str(workspace), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "@@ -2,7 +2,7 @@ hunk 0" in result.stdout and "@@ -7,7 +7,7 @@ hunk 1" in result.stdout


def test_ask_without_key_names_the_providers_variable_and_prints_no_cost(workspace, tmp_path):
    env = {k: v for k, v in server_env(tmp_path).items() if k != "OPENAI_API_KEY"}
    result = gdm("ask", "hello", "--workspace", str(workspace), "--model", "openai/gpt-4.1", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "OPENAI_API_KEY" in result.stdout and "GDM_API_KEY_ENV" in result.stdout
    assert "gdm.apiKeyEnv" not in result.stdout and "Cost" not in result.stdout


def test_ask_checks_file_and_range_before_any_model_call(workspace, tmp_path):
    # A model URL nobody listens on: reaching it would show as a turn and an error.
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE="http://127.0.0.1:9/v1")
    for args, message in ((["--file", "nope.py"], "--file nope.py does not exist"),
                          (["--file", "calc.py", "--range", "300:301"], "--range goes past the end of calc.py"),
                          (["--range", "1:2"], "--range needs --file")):
        result = gdm("ask", "x", "--workspace", str(workspace), *args, env=env)
        assert result.returncode == 2 and message in result.stdout, result.stdout + result.stderr
        assert "Turn 1" not in result.stdout and "Cost" not in result.stdout


def test_gdm_version(tmp_path):
    result = gdm("--version", env=server_env(tmp_path))
    assert result.returncode == 0 and result.stdout.startswith("gdm 0.")


def test_gdm_map_and_symbols_from_the_command_line(workspace, tmp_path):
    # Both subcommands were registered after the first parse, so argparse refused them
    # ("invalid choice: 'map'"); they are run here as a user types them.
    env = server_env(tmp_path)
    shown = gdm("map", "--workspace", str(workspace), "--tokens", "512", "--focus", "calc.py", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("calc.py:") and "def add(" in shown.stdout
    found = gdm("symbols", "add", "--workspace", str(workspace), env=env)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("calc.py:") and "add" in found.stdout
    missing = gdm("symbols", "no_such_name_anywhere", "--workspace", str(workspace), env=env)
    assert missing.returncode == 1 and missing.stdout == ""
    bad = gdm("map", "--workspace", str(tmp_path / "nowhere"), env=env)
    assert bad.returncode == 2 and "is not a folder" in bad.stderr
