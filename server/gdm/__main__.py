"""`python -m gdm` / `gdm-lsp`: serve LSP on stdio.

Only JSON-RPC may reach the real stdout. litellm (and anything else) may print: so JSON-RPC is
written to a duplicate of the original stdout descriptor, and descriptor 1 and `sys.stdout` are
pointed at stderr before anything else is imported.
"""

from __future__ import annotations

import logging
import os
import sys

SWITCH_INTERVAL_S = 0.0002


def main() -> None:
    """Serve LSP on stdin/stdout until the client says exit."""
    rpc_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("GDM_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Model calls, store writes and tokenizing run in other threads; by default a thread that wants
    # the GIL back waits up to 5 ms for it, so each hand-over could hold up a code action that long
    # (measured: code action p99 while tasks end 150-190 ms at 5 ms, 33-56 ms at 0.2 ms).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    from gdm.server import GdmServer  # noqa: PLC0415 - only after stdout is made safe
    from gdm.stdio import serve  # noqa: PLC0415

    serve(GdmServer().ls, sys.stdin.buffer, rpc_out)


if __name__ == "__main__":
    main()
