"""Fixtures for the real-editor tests: a workspace with a `gdm:` comment, the scripted model
playing fixtures/scripts/editors.json, and a runner for a headless editor process.

Set GDM_EDITOR_TESTS_NO_EDITS=1 to play the same conversations without any tool call (the model
answers in text only): every editor test must then fail, which proves it checks the server's work.
Debugging: EDITOR_TEST_LSP_DEBUG=1 makes the Neovim driver write an LSP debug log (under the
test's XDG_CACHE_HOME); EDITOR_TEST_DEBUG=<file.el> loads extra Lisp into the lsp-mode driver.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, REPO, SCRIPTED_PRICES

EDITORS_SCRIPT = FIXTURES / "scripts" / "editors.json"
COMMENT = "    # gdm: EDTEST guard divide\n"
GUARD = '    if b == 0:\n        raise ZeroDivisionError("divide() by zero")\n'
EDITOR_TIMEOUT_S = 120
INSTALL_HINT = ("install the editors the tests drive with `bash editors/ci.sh` (Debian: apt-get install -y "
                "--no-install-recommends neovim emacs-nox elpa-eglot elpa-lsp-mode vim vim-ale)")


def require(binary: str, package: str) -> str:
    """The path of an editor binary; a missing one fails the test (never a silent skip)."""
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"`{binary}` is not installed (Debian package {package}): {INSTALL_HINT}", pytrace=False)
    return path


def original_calc() -> str:
    return (FIXTURES / "workspaces" / "calc" / "calc.py").read_text()


def with_comment(text: str) -> str:
    """calc.py with a `gdm:` instruction comment above divide()'s return."""
    return text.replace("    return a / b\n", COMMENT + "    return a / b\n", 1)


def expected_after_accept() -> str:
    """calc.py once the comment's patch is accepted: guard added, comment line gone."""
    return original_calc().replace("    return a / b\n", GUARD + "    return a / b\n", 1)


def _no_edits(conversations: list[dict]) -> list[dict]:
    """The same conversations answered in text only: the server then proposes nothing."""
    return [{"match": c["match"], "turns": [{"reply": {"content": "I would rather not change anything."},
                                            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}]}
            for c in conversations]


@pytest.fixture
def editors_model() -> Iterator[ScriptedModel]:
    """The scripted model playing editors.json (or its text-only twin, see the module doc)."""
    conversations = json.loads(EDITORS_SCRIPT.read_text())["conversations"]
    if os.environ.get("GDM_EDITOR_TESTS_NO_EDITS") == "1":
        conversations = _no_edits(conversations)
    with ScriptedModel({"conversations": conversations}) as model:
        yield model


@dataclass
class EditorRun:
    """One headless editor session against the real server; the driver writes result.json."""

    tmp: Path
    workspace: Path
    settings: dict
    env: dict[str, str] = field(default_factory=dict)

    @property
    def result_file(self) -> Path:
        return self.tmp / "result.json"

    def run(self, argv: list[str], *, stdin: str | None = None) -> dict:
        """Run the editor; return what its driver recorded, failing with its output if it recorded nothing."""
        proc = subprocess.run(argv, cwd=self.workspace, env=self.env, input=stdin or "", text=True,
                              capture_output=True, timeout=EDITOR_TIMEOUT_S)
        output = f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
        if not self.result_file.exists():
            pytest.fail(f"{argv[0]} recorded no result\n{output}", pytrace=False)
        result = json.loads(self.result_file.read_text())
        result["_output"] = output
        return result


@pytest.fixture
def editor_run(tmp_path: Path, editors_model: ScriptedModel) -> EditorRun:
    """A fresh calc workspace with a `gdm:` comment, settings for the scripted model, the driver's env."""
    workspace = tmp_path / "calc"
    shutil.copytree(FIXTURES / "workspaces" / "calc", workspace)
    (workspace / "calc.py").write_text(with_comment(original_calc()))
    (workspace / ".git").mkdir()  # the project root marker the shipped configs look for
    settings = {"model": "openai/scripted", "apiBase": editors_model.base_url, "prices": SCRIPTED_PRICES,
                "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}"}
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDM_", "OPENAI_", "ANTHROPIC_"))}
    env.update({
        "HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "xdg"), "XDG_CONFIG_HOME": str(tmp_path / "xdgc"),
        "XDG_STATE_HOME": str(tmp_path / "xdgs"), "XDG_CACHE_HOME": str(tmp_path / "xdgcache"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(REPO / "server"), "TERM": "dumb",
        "GDM_TEST_REPO": str(REPO), "GDM_TEST_WORKSPACE": str(workspace),
        "GDM_TEST_SETTINGS": json.dumps(settings), "GDM_TEST_RESULT": str(tmp_path / "result.json"),
        "GDM_TEST_SERVER": json.dumps([sys.executable, "-m", "gdm"]),
    })
    return EditorRun(tmp_path, workspace, settings, env)


def assert_flow(result: dict) -> None:
    """What every editor test checks: the comment's patch accepted (guard in, comment out), the
    prompt's patch rejected (the text keeps only the accepted change), a task cost above zero."""
    detail = (f"{result.get('error')}\nsteps: {result.get('steps')}\noffered: "
              f"{result.get('offered') or result.get('unpicked')}\n{result['_output']}")
    assert result.get("error") is None, detail
    assert result["after_accept"] == expected_after_accept(), detail
    assert COMMENT not in result["after_accept"] and GUARD in result["after_accept"]
    assert result["after_reject"] == expected_after_accept(), detail
    assert result["task_usd"] > 0, detail
