"""litellm is imported once, lazily, and its long-lived objects are frozen out of garbage collection:
a full collection over them stopped every thread ~0.3 s in the middle of streaming tasks."""

import subprocess
import sys

PROBE = """
import gc, sys
from gdm.models import llm
assert "litellm" not in sys.modules, "litellm must not be imported before the first model call"
before = gc.get_freeze_count()
llm._litellm()
after_first = gc.get_freeze_count()
llm._litellm()
print(before, after_first, gc.get_freeze_count())
"""


def test_first_import_freezes_litellms_objects_once():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                         env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    before, first, again = map(int, out.stdout.split())
    assert before == 0 and first > 100_000  # hundreds of thousands of objects no longer scanned
    assert again == first  # the second call imports nothing and freezes nothing new


def test_the_server_module_imports_neither_litellm_nor_the_store_tables():
    """Both are imported after `initialize` is answered (litellm ~2.7 s, sqlmodel ~0.4 s)."""
    probe = "import sys, gdm.server; print('litellm' in sys.modules, 'sqlmodel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_answering_initialize_needs_no_pydantic_engine_or_code_map():
    """What `initialize` does not need is imported after its answer (issue 16's start-up goal):
    pydantic (settings and payloads, ~100 ms with the models), the engine, tree-sitter's side."""
    later = ["pydantic", "gdm.config", "gdm.agent.session", "gdm.context.repomap.service", "pathspec",
             "gdm.tools.code", "gdm.store.repo"]
    probe = f"import sys, gdm.server, gdm.stdio; print(*[m for m in {later!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == []
