"""`gdm acp`: serve the Agent Client Protocol on stdio.

Only ACP may reach the real stdout. As for LSP (`gdm/__main__.py`), JSON-RPC is written to a
duplicate of the original stdout descriptor, and descriptor 1 and `sys.stdout` are pointed at
stderr before anything that could print (litellm's banners) is imported.
"""

from __future__ import annotations

import asyncio
import sys
from typing import BinaryIO

from gdm.stdout_guard import claim_stdout


def main() -> None:
    """Serve ACP on stdin/stdout until the client closes stdin."""
    rpc_out = claim_stdout()
    try:
        asyncio.run(serve(sys.stdin.buffer, rpc_out))
    except (KeyboardInterrupt, BrokenPipeError):
        pass


async def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Run the agent over these byte streams (pipes) until the input ends."""
    from gdm.acp.agent import GdmAgent  # noqa: PLC0415 - only after stdout is made safe
    from gdm.acp.transport import connect  # noqa: PLC0415

    agent = GdmAgent()
    try:
        await connect(agent, stdin, stdout)
    finally:
        await agent.shutdown()


if __name__ == "__main__":
    main()
