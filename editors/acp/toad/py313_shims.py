"""Make Toad 0.6.20 (which requires Python >= 3.14) run on Python 3.13, for `run.sh` on machines
without 3.14 (this one: pyenv 3.6-3.13.0, nothing newer offline). Three changes to the installed
`toad` package, each for one 3.14 feature it relies on; running this twice changes nothing more:

1. annotations evaluated lazily (PEP 649): `from __future__ import annotations` atop each module,
   or 3.13 raises NameError on names defined later in the module;
2. then `toad.jsonrpc` sees its handlers' annotations as strings and `eval`s them in its own
   globals: evaluated in the handler's module instead;
3. `concurrent.futures.InterpreterPoolExecutor` (new in 3.14): a ThreadPoolExecutor.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FUTURE = "from __future__ import annotations\n"
EVAL_OLD = "eval(parameter.annotation)\n"
EVAL_NEW = 'eval(parameter.annotation, getattr(callable, "__func__", callable).__globals__)\n'
POOL_OLD, POOL_NEW = "concurrent.futures.InterpreterPoolExecutor(", "concurrent.futures.ThreadPoolExecutor("


def main() -> int:
    spec = importlib.util.find_spec("toad")
    if spec is None or spec.origin is None:
        print("toad is not installed in this Python", file=sys.stderr)
        return 1
    root = Path(spec.origin).parent
    changed = 0
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = text if FUTURE in text else FUTURE + text
        new = new.replace(EVAL_OLD, EVAL_NEW).replace(POOL_OLD, POOL_NEW)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    print(f"toad on Python {sys.version.split()[0]}: {changed} module(s) shimmed in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
