"""`gdm demo`: one real task, end to end, against the bundled scripted model.

No key and no network: the scripted OpenAI-compatible model (gdm.scripted) serves on
127.0.0.1 and litellm reaches it through its real HTTP path. The task runs on a temporary copy
of `fixtures/workspaces/calc`, so the demo never touches the repository.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

from gdm.headless import copy_workspace, run_ask
from gdm.config import resolve
from gdm.scripted import ScriptedModel

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROMPT = "Make divide() fail clearly on zero"
# A made-up price so the demo shows real arithmetic: USD per million tokens.
DEMO_PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0}}


def run_demo(*, keep: bool, out: TextIO) -> int:
    """Run the demo task, print tool calls, the risk-scored patch and the cost; apply it to the copy."""
    if not (FIXTURES / "scripts" / "demo.json").is_file():
        out.write(f"gdm demo: fixtures not found at {FIXTURES} (run it from a clone of the repository)\n")
        return 2
    workspace = copy_workspace(FIXTURES / "workspaces" / "calc")
    data = Path(tempfile.mkdtemp(prefix="gdm-demo-db-"))
    with ScriptedModel(FIXTURES / "scripts" / "demo.json") as model:
        settings = resolve([{"model": "openai/scripted", "apiBase": model.base_url, "prices": DEMO_PRICES,
                             "databaseUrl": f"sqlite:///{data / 'gdm.db'}"}]).settings
        out.write(f"gdm demo — scripted model at {model.base_url}, workspace {workspace}\n")
        out.write(f"Request on calc.py lines 9-11: {PROMPT!r}\n\n")
        code = asyncio.run(run_ask(settings, workspace, PROMPT, "calc.py", "9:11", True, out))
        if model.failures:
            out.write("scripted model expectations failed:\n" + "\n".join(model.failures) + "\n")
            code = code or 1
    out.write("\ncalc.py after accepting the patch:\n")
    out.write((workspace / "calc.py").read_text(encoding="utf-8"))
    if keep:
        out.write(f"\n(workspace kept at {workspace}; store at {data / 'gdm.db'})\n")
    else:
        shutil.rmtree(workspace.parent, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
    return code
