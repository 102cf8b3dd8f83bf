"""Toolchains keep working in the sandbox (real bubblewrap): what tests and checks after edits run,
and what an allowed command usually is — pytest, ruff, mypy with its cache, npm test, tsc, eslint,
git reads and a commit, a new venv — with the home read-only (the Node tools come from a cache in
it, as nvm's or pyenv's would), no network and writes only where the policy says.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gdm.context.secrets import scrub_env
from gdm.sandbox import Sandbox, scratch_policy, shell_policy
from gdm.tools.shell import run_process

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("GDM_CI_CACHE", Path.home() / ".cache" / "gdm-ci"))
NODE_BIN = CACHE / "node-tools" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
FILES = {
    "calc.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    "package.json": '{"name": "tc", "version": "1.0.0", "private": true, "scripts": {"test": "node --test"}}\n',
    "sum.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\n"
                   "test('sum', () => assert.strictEqual(1 + 2, 3));\n",
    "util.ts": "export function twice(x: number): number {\n  return x * 2;\n}\n",
    "eslint.config.js": 'module.exports = [{ files: ["**/*.js"], rules: { "no-unused-vars": "error" } }];\n',
}
GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com"}


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """tsc and eslint from npm (scripts/ci/sandbox.sh, idempotent)."""
    if not (NODE_BIN / "tsc").exists() or not (NODE_BIN / "eslint").exists():
        subprocess.run(["bash", str(REPO / "scripts" / "ci" / "sandbox.sh")], check=True)
    return NODE_BIN


@pytest.fixture
def project(tmp_path: Path) -> Path:
    ws = tmp_path / "project"
    ws.mkdir()
    for name, text in FILES.items():
        (ws / name).write_text(text)
    env = {**os.environ, **GIT}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=ws, env=env, check=True)
    return ws


async def run(command: str, ws: Path, policy) -> tuple[int | None, str]:
    jail = await Sandbox().jail(policy)
    result = await run_process(command, ws, 180, {**scrub_env(os.environ), **GIT}, jail=jail)
    assert result.not_run is None, result.not_run
    return result.exit_code, result.output


@pytest.mark.parametrize("command,expect", [
    (f"{sys.executable} -m pytest -q -p no:cacheprovider", "1 passed"),
    (f"{VENV_BIN / 'ruff'} check --select F calc.py", "All checks passed"),
    (f"{VENV_BIN / 'mypy'} calc.py", "Success: no issues found"),
    ("npm test", "# pass 1"),
    ("git log --oneline && git status --short && echo '# more' >> calc.py && git diff --stat "
     "&& git commit -qam edit && echo commits: $(git rev-list --count HEAD)", "commits: 2"),
    (f"{sys.executable} -m venv venv2 && venv2/bin/python -c 'import sys; print(sys.prefix)'", "venv2"),
], ids=["pytest", "ruff", "mypy", "npm test", "git", "venv"])
async def test_a_toolchain_runs_as_a_shell_command(project, command, expect):
    code, out = await run(command, project, shell_policy(project, project, False))
    assert code == 0 and expect in out, out[-2000:]


async def test_tsc_and_eslint_run_from_a_cache_under_the_home(project, node_tools):
    code, out = await run(f"{node_tools / 'tsc'} --noEmit util.ts && {node_tools / 'eslint'} sum.test.js && echo ok",
                          project, shell_policy(project, project, False))
    assert code == 0 and out.strip().endswith("ok"), out[-2000:]
    (project / "bad.js").write_text("const unused = 1;\n")
    code, out = await run(f"{node_tools / 'eslint'} bad.js", project, shell_policy(project, project, False))
    assert code == 1 and "no-unused-vars" in out, out[-2000:]


async def test_checks_write_their_caches_where_the_policy_allows_and_nowhere_else(project, tmp_path):
    caches = tmp_path / "caches"
    caches.mkdir()
    policy = scratch_policy("checks", project, project, False, (caches,))
    code, out = await run(f"MYPY_CACHE_DIR={caches / 'mypy'} {VENV_BIN / 'mypy'} calc.py && touch ../outside", project,
                          policy)
    assert code != 0 and "Read-only file system" in out, out
    assert (caches / "mypy").is_dir() and not (tmp_path / "outside").exists()


async def test_nothing_is_left_in_the_workspace_but_what_the_command_wrote(project):
    before = set(os.listdir(project))
    code, out = await run("ls -a && touch made-by-the-command", project, shell_policy(project, project, False))
    assert code == 0
    assert set(os.listdir(project)) == before | {"made-by-the-command"}  # no placeholder left behind
    for placeholder in (".vscode", ".gdm", ".idea"):
        assert placeholder in out.split()  # they stood there, read-only, while the command ran
