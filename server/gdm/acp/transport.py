"""Newline-delimited JSON-RPC on stdio that answers malformed input instead of dropping it.

The SDK's own stdio framing logs a line that is not JSON and goes on without a word to the client,
and a line that is JSON but not an object stops its receive loop. Here every such line gets a
JSON-RPC error back (-32700 parse error, -32600 invalid request) and the agent keeps reading.
Writes are serialised (several handlers answer at once) and wait for the pipe to drain.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, BinaryIO

from acp.core import AgentSideConnection

log = logging.getLogger(__name__)

LINE_LIMIT = 50 * 1024 * 1024  # as the SDK: a prompt may embed whole files


class _Drain(asyncio.Protocol):
    """Flow control for a write pipe: `drained()` waits while the pipe is full."""

    def __init__(self) -> None:
        self._resumed: asyncio.Future[None] | None = None
        self.lost: BaseException | None = None

    def pause_writing(self) -> None:
        self._resumed = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)
        self._resumed = None

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or BrokenPipeError("the client closed its input")
        self.resume_writing()

    async def drained(self) -> None:
        if self._resumed is not None:
            await self._resumed


class LineTransport:
    """The SDK's message-level Transport over a byte reader and a write pipe."""

    def __init__(self, reader: asyncio.StreamReader, pipe: asyncio.WriteTransport, flow: _Drain) -> None:
        self._reader = reader
        self._pipe = pipe
        self._flow = flow
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message as one line."""
        data = (json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
        async with self._lock:
            if self._flow.lost is not None:
                raise ConnectionError(f"cannot write to the client: {self._flow.lost}")
            self._pipe.write(data)
            await self._flow.drained()

    async def receive(self) -> dict[str, Any] | None:
        """The next well-formed message; None at the end of input. Malformed lines are answered."""
        while True:
            try:
                line = await self._reader.readline()
            except ValueError as exc:  # a line longer than LINE_LIMIT
                await self._error(None, -32700, f"Parse error: message longer than {LINE_LIMIT} bytes ({exc})")
                continue
            if not line:
                return None
            text = line.strip()
            if not text:
                continue
            try:
                message = json.loads(text)
            except ValueError as exc:
                await self._error(None, -32700, f"Parse error: not JSON ({exc}); send one JSON-RPC object per line")
                continue
            problem = _invalid(message)
            if problem is None:
                return message
            await self._error(message.get("id") if isinstance(message, dict) else None, -32600,
                              f"Invalid request: {problem}")

    async def close(self) -> None:
        """Close the write side."""
        self._pipe.close()

    async def _error(self, request_id: Any, code: int, message: str) -> None:
        log.warning("bad input from the client: %s", message)
        if not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
            request_id = None
        await self.send({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def _invalid(message: Any) -> str | None:
    """Why a decoded line is not a JSON-RPC 2.0 message this agent can route, or None."""
    if isinstance(message, list):
        return "batches are not supported; send one message per line"
    if not isinstance(message, dict):
        return f"a message must be a JSON object, got {type(message).__name__}"
    if message.get("jsonrpc") != "2.0":
        return "\"jsonrpc\" must be \"2.0\""
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            return "\"method\" must be a non-empty string"
        if "params" in message and not isinstance(message["params"], (dict, list, type(None))):
            return "\"params\" must be an object"
        return None
    if "id" not in message:
        return "neither a request, a notification nor a response"
    return None


async def connect(agent: Any, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve `agent` over these pipes until the input ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    pipe, flow = await loop.connect_write_pipe(_Drain, stdout)
    conn = AgentSideConnection(agent, LineTransport(reader, pipe, flow), listening=False)
    try:
        await conn.listen()
    finally:
        await conn.close()
