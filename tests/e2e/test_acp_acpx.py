"""`gdm acp` driven by acpx, the headless ACP client from npm (installed by scripts/ci/acp.sh):
a task edits a file through acpx and the file holds the change; with every permission denied, it
does not."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, REPO
from tests.e2e.acp_client import agent_env
from tests.e2e.test_acp import GUARDED, ORIGINAL

ACPX = Path(os.environ.get("GDM_ACPX") or REPO / ".test-artifacts" / "acpx" / "node_modules" / ".bin" / "acpx")


@pytest.fixture(scope="module")
def acpx() -> Path:
    if not ACPX.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"acpx is not installed at {ACPX}: scripts/test.sh runs scripts/ci/acp.sh first")
        pytest.skip(f"acpx is not installed at {ACPX}: run bash scripts/ci/acp.sh")
    return ACPX


async def run_acpx(acpx: Path, workspace: Path, tmp_path: Path, model: ScriptedModel, policy: list[str],
                   ok_codes: tuple[int, ...]) -> list[dict]:
    """`acpx --agent 'gdm acp' --cwd WS <policy> --format json exec PROMPT`; the JSON-RPC it printed."""
    env = {**agent_env(tmp_path), "HOME": str(tmp_path / "home"), "GDM_MODEL": "openai/scripted",
           "GDM_API_BASE": model.base_url, "GDM_DATABASE_URL": f"sqlite:///{tmp_path / 'gdm.db'}",
           "GDM_TEST_COMMAND": "true"}
    agent = f"{sys.executable} -m gdm.cli acp"
    proc = await asyncio.create_subprocess_exec(
        str(acpx), "--agent", agent, "--cwd", str(workspace), *policy, "--format", "json", "--timeout", "240",
        "exec", "ACP guard divide", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        cwd=str(tmp_path))
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode in ok_codes, (err.decode(errors="replace")[-2000:], out.decode(errors="replace")[-3000:])
    return [json.loads(line) for line in out.decode().splitlines() if line.strip().startswith("{")]


# Denied: acpx's --deny-all refuses its fs reads too (gdm then reports failed reads, never the disk), so the
# denial of the edit itself is --approve-reads with no one to ask: every other permission is denied
# (acpx exits 5, "permission denied", when nothing it was asked was approved).
POLICIES = [(["--approve-all"], True, (0,)),
            (["--approve-reads", "--non-interactive-permissions", "deny"], False, (0, 5))]


@pytest.mark.parametrize(("policy", "applied", "codes"), POLICIES, ids=["approved", "denied"])
async def test_acpx_runs_a_task_and_the_file_holds_the_change_only_when_approved(
        acpx: Path, workspace: Path, tmp_path: Path, policy: list[str], applied: bool, codes: tuple[int, ...]) -> None:
    (tmp_path / "home").mkdir()
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "acp.json").read_text())) as model:
        messages = await run_acpx(acpx, workspace, tmp_path, model, policy, codes)
        assert model.failures == []
    text = (workspace / "calc.py").read_text()
    assert (GUARDED in text) is applied and (text == ORIGINAL) is not applied
    methods = [m.get("method") for m in messages]
    assert "session/request_permission" in methods
    [answer] = [m for m in messages if "result" in m and isinstance(m["result"], dict) and "stopReason" in m["result"]]
    assert answer["result"]["stopReason"] == "end_turn"
    assert ("fs/write_text_file" in methods) is applied
