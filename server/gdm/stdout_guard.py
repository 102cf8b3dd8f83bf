"""Keep stdout for JSON-RPC alone: both front ends (LSP, ACP) speak on stdio.

litellm and other libraries print banners and log records to `sys.stdout`, which would corrupt the
message stream (shared/NOTES.md). Before anything heavy is imported, the real stdout is duplicated
for the protocol and file descriptor 1 and `sys.stdout` are pointed at stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import BinaryIO

# Model calls, store writes and tokenizing run in other threads; by default a thread that wants
# the GIL back waits up to 5 ms for it, so each hand-over could hold up a code action that long
# (measured: code action p99 while tasks end 150-190 ms at 5 ms, 33-56 ms at 0.2 ms).
SWITCH_INTERVAL_S = 0.0002


def claim_stdout() -> BinaryIO:
    """The process's real stdout for the protocol; everything else written to stdout goes to stderr.

    Also sets up logging on stderr (`GDM_LOG_LEVEL`) and the GIL switch interval both servers use.
    """
    rpc_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    logging.basicConfig(level=os.environ.get("GDM_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return rpc_out
