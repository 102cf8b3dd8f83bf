"""Nothing breaks the server: 2,000 seeded malformed messages and frames on one real server process.

Every request gets an answer (a result or -32600/-32601/-32602/-32700, never -32603), the
process neither dies nor hangs, and stdout holds only JSON-RPC frames (tests/e2e/fuzz.py)."""

from __future__ import annotations

from tests.e2e.editor import server_env
from tests.e2e.fuzz import run_fuzz

SEED = 16


async def test_two_thousand_fuzzed_messages_break_nothing(workspace, tmp_path):
    env = server_env(tmp_path, GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'gdm.db'}")
    report = await run_fuzz(2000, SEED, workspace, env, stderr=tmp_path / "stderr.txt")
    summary = (f"{report.sent} sent, {report.requests} requests, {report.answered} answered, codes "
               f"{dict(report.codes)}; " + " | ".join(report.examples) + "\n" + (tmp_path / "stderr.txt").read_text()[-3000:])
    assert report.ok(), summary
    assert report.answered == report.requests, summary
    assert report.sent == 2000, summary
