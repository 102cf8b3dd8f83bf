"""Serving LSP on stdio with stdin read by the event loop itself.

pygls' stdio server reads every header line and every body in a worker thread: three thread
hand-overs per message, each waiting for the GIL while model calls and store writes keep other
threads busy. Here stdin is an asyncio pipe read in chunks; where it is not a pipe (a regular
file, /dev/null) a worker thread reads the chunks. Framing is gdm's (`framing.FrameParser`:
no header or body, however wrong, loses the framing), and every message goes through the
protocol's `receive` (features/protocol.py); writing is pygls' as before. When stdin ends, the
server says so in one line and exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import BinaryIO

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async
from pygls.lsp.server import LanguageServer

from gdm.framing import FrameParser

log = logging.getLogger(__name__)

READ_LIMIT = 1 << 20  # longest header line; bodies are read by length
CHUNK_BYTES = 1 << 16


class PipeReader:
    """pygls' reader interface over an asyncio StreamReader (EOF reads as b"", as pygls expects)."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        """One header line, or b"" at the end of input."""
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        """A body of n bytes, or b"" if the input ends first."""
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


async def _reader(ls: LanguageServer, stdin: BinaryIO) -> PipeReader | StdinAsyncReader:
    stream = asyncio.StreamReader(limit=READ_LIMIT)
    try:
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except ValueError:  # not a pipe, socket or character device
        return StdinAsyncReader(stdin, ls.thread_pool)
    return PipeReader(stream)


async def _chunks(stdin: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    """A reader of stdin's next chunk (b"" at the end): an asyncio pipe, else a worker thread."""
    fd = stdin.fileno()
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):  # a regular file, /dev/null: epoll cannot watch them
        return lambda: asyncio.to_thread(os.read, fd, CHUNK_BYTES)
    stream = asyncio.StreamReader(limit=READ_LIMIT)
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    return lambda: stream.read(CHUNK_BYTES)


class ClosingWriter(StdoutWriter):
    """pygls' stdout writer, quiet once closed (pygls closes it at `exit`): a message sent after
    that (a task cancelled as the loop ends) is dropped. Writing to the closed file would raise,
    and pygls reports a failed send by sending a message, which fails again, without end."""

    def __init__(self, stdout: BinaryIO) -> None:
        super().__init__(stdout)
        self.closed = False

    def close(self) -> None:
        self.closed = True
        super().close()

    def write(self, data: bytes) -> None:
        if self.closed:
            log.debug("gdm-lsp: not sent, the connection is closed: %d bytes", len(data))
            return
        super().write(data)


async def _serve(ls: LanguageServer, stdin: BinaryIO, stdout: BinaryIO, stop: threading.Event) -> None:
    ls.protocol.set_writer(ClosingWriter(stdout))
    if not hasattr(ls.protocol, "receive"):  # a plain pygls protocol: pygls' own loop
        await run_async(stop_event=stop, reader=await _reader(ls, stdin), protocol=ls.protocol, logger=log,
                        error_handler=ls.report_server_error)
        return
    read, parser = await _chunks(stdin), FrameParser()
    while not stop.is_set():
        try:
            data = await read()
        except OSError as exc:
            print(f"gdm-lsp: cannot read stdin ({exc}); exiting", file=sys.stderr)
            return
        for frame in parser.feed(data) if data else parser.close():
            ls.protocol.receive(frame)
        if not data:
            print("gdm-lsp: stdin closed (the editor is gone); exiting", file=sys.stderr)
            return


def serve(ls: LanguageServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve until the client says exit or stdin ends (what `ls.start_io` does, reading natively)."""
    try:
        asyncio.run(_serve(ls, stdin, stdout, threading.Event()))
    except BrokenPipeError:
        log.error("the connection to the editor is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        ls.shutdown()
