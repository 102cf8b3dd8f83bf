"""`python -m gdm.scripted SCRIPT.json [--host H] [--port N]`: serve a script until killed.

Prints the base URL on one line (and flushes) so a parent process can read it, then serves.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from gdm.scripted.script import ScriptError
from gdm.scripted.server import ScriptedModel


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the scripted model, print its base URL, and wait for a signal."""
    parser = argparse.ArgumentParser(prog="python -m gdm.scripted", description=__doc__)
    parser.add_argument("script", help="path to a scripted-conversation JSON file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        model = ScriptedModel(args.script, host=args.host, port=args.port)
    except ScriptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stopped = threading.Event()
    # SIGTERM ends the wait like Ctrl-C does, so the port is released cleanly either way.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with model:
        print(model.base_url, flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass  # Ctrl-C is the normal way to stop an interactive run.
    return 0


if __name__ == "__main__":
    sys.exit(main())
