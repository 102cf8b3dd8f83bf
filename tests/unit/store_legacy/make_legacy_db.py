"""Build a database as the gdm before migrations did, with data in it; prints what it wrote (JSON).

    python tests/unit/store_legacy/make_legacy_db.py URL

Runs in a process of its own (see tables_before_migrations.py). Writes two sessions of two
workspaces, tasks (one left "running", as a killed server left it), a pending and an accepted
patch, turns, tool calls, costs on two days and audit rows, the way that gdm's store wrote them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from sqlmodel import Session, SQLModel, create_engine


def _legacy_tables():
    path = Path(__file__).with_name("tables_before_migrations.py")
    spec = importlib.util.spec_from_file_location("gdm_legacy_tables", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def main(url: str) -> None:
    t = _legacy_tables()
    engine = create_engine(url)
    SQLModel.metadata.create_all(engine, tables=[c.__table__ for c in t.ALL_TABLES])
    from gdm.patches.model import make_patch  # noqa: PLC0415 - the patch format of that gdm (unchanged)

    patch = make_patch(patch_id="t-old1-p1", task_id="t-old1", path="calc.py", base_text="x = 1\n",
                       new_text="x = 2\n").to_dict()
    with Session(engine) as s:
        s.add(t.SessionRow(id="s-old1", workspace="/ws/one", model="openai/scripted"))
        s.add(t.SessionRow(id="s-old2", workspace="/ws/two", model="openai/scripted", status="ended"))
        s.add(t.TaskRow(id="t-old1", session_id="s-old1", prompt="fix it", uri="file:///ws/one/calc.py"))
        s.add(t.TaskRow(id="t-old2", session_id="s-old2", prompt="done one", status="done"))
        s.add(t.TurnRow(task_id="t-old1", index=0, model="openai/scripted",
                        request_json=json.dumps({"messages": [{"role": "user", "content": "fix it"}], "tools": []}),
                        response_json="{}", tokens_in=100, tokens_out=20, cost_usd=0.25))
        s.add(t.ToolCallRow(task_id="t-old1", turn_index=0, call_id="c1", name="read_file",
                            arguments="{}", result="x = 1", is_error=False))
        s.add(t.PatchRow(id="t-old1-p1", task_id="t-old1", session_id="s-old1", path="calc.py",
                         status="pending", risk_score=0.1, risk_tier="LOW", data_json=json.dumps(patch)))
        s.add(t.PatchRow(id="t-old2-p1", task_id="t-old2", session_id="s-old2", path="b.py",
                         status="accepted", data_json=json.dumps({**patch, "id": "t-old2-p1"})))
        s.add(t.CostRow(session_id="s-old1", task_id="t-old1", model="openai/scripted", tokens_in=100,
                        tokens_out=20, usd=0.25, day="2030-01-01"))
        s.add(t.CostRow(session_id="s-old2", task_id="t-old2", model="openai/scripted", tokens_in=10,
                        tokens_out=2, usd=None, day="2030-01-02"))
        s.add(t.AuditRow(session_id="s-old1", task_id="t-old1", kind="task.start", detail_json='{"prompt": "fix it"}'))
        s.add(t.AuditRow(session_id="s-old1", task_id="t-old1", kind="shell.approved", detail_json='{"command": "ls"}'))
        s.commit()
    engine.dispose()
    print(json.dumps({"sessions": 2, "tasks": 2, "turns": 1, "tool_calls": 1, "patches": 2, "costs": 2,
                      "audit": 2, "usd": 0.25}))


if __name__ == "__main__":
    main(sys.argv[1])
