"""The one module that imports the `mcp` SDK: a connection to one MCP server.

A `Connection` runs on the event loop it is opened on (the manager's own loop, see manager.py):
the SDK's client is an anyio context, entered and left by one long-lived asyncio task, and
every request goes through it from other tasks of the same loop. Results come back as plain
text (`render`), never as SDK types, so nothing above this module knows the SDK. A stdio server's
process is tagged and remembered (processes.py), so that gdm's exit can kill one that will not stop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from gdm import __version__
from gdm.config import McpHttpServer, McpStdioServer
from gdm.mcp_tools.processes import TAG_ENV, find_server, kill_server, new_tag
from gdm.mcp_tools.results import CallResult, McpFailure, RemoteTool

log = logging.getLogger(__name__)

MAX_PAGES = 50  # tools/list pages read from one server; a paginator that never ends cannot hang a task


def describe_error(exc: BaseException) -> str:
    """A one-line reason from an exception, looking inside anyio's exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe_error(e) for e in exc.exceptions)
    if isinstance(exc, MCPError):
        return f"{exc.message} (MCP error {exc.code})"
    if isinstance(exc, ValidationError):
        return f"the server's answer is not valid MCP ({exc.error_count()} error(s): {exc.errors()[0].get('msg')})"
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _closed(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return any(_closed(e) for e in exc.exceptions)
    return isinstance(exc, MCPError) and exc.code == types.CONNECTION_CLOSED


class Connection:
    """One started MCP server (stdio child process or streamable HTTP session)."""

    def __init__(self, config: McpStdioServer | McpHttpServer, cwd: Path, env: dict[str, str]) -> None:
        self.config = config
        self.cwd = cwd
        self.env = env  # stdio only: the whole environment of the child (already scrubbed)
        self.tag = new_tag() if isinstance(config, McpStdioServer) else None  # marks the child's environment
        self.pid: int | None = None  # the stdio server's process (its group: the SDK starts it in a session)
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None  # the same task, kept after close() lets go of it
        self.ended: str | None = None  # why the connection ended, once it has

    def _stdio(self) -> StdioServerParameters:
        # The child's stderr goes to ours (the editor's log of gdm), as with any language server.
        assert isinstance(self.config, McpStdioServer)
        return StdioServerParameters(command=self.config.command, args=list(self.config.args),
                                     env={**self.env, TAG_ENV: str(self.tag)}, cwd=str(self.cwd),
                                     encoding_error_handler="replace")

    async def _http(self, stack: AsyncExitStack) -> Any:
        assert isinstance(self.config, McpHttpServer)
        http = await stack.enter_async_context(create_mcp_http_client(headers=dict(self.config.headers)))
        return streamable_http_client(self.config.url, http_client=http)

    async def open(self, timeout_s: float) -> list[RemoteTool]:
        """Start the server, complete the handshake and read its tool list, within `timeout_s`."""
        self._stop = asyncio.Event()
        ready: asyncio.Future[list[RemoteTool]] = asyncio.get_running_loop().create_future()
        self._task = self._runner = asyncio.ensure_future(self._run(ready))
        try:
            return await asyncio.wait_for(asyncio.shield(ready), timeout_s)
        except asyncio.TimeoutError:
            await self.close()
            raise McpFailure(f"no answer to initialize and tools/list within {timeout_s:g} s", timeout=True) from None

    async def _run(self, ready: asyncio.Future[list[RemoteTool]]) -> None:
        """Own the SDK client from enter to exit: anyio needs both in one task."""
        assert self._stop is not None
        try:
            async with AsyncExitStack() as stack:
                server = await self._http(stack) if isinstance(self.config, McpHttpServer) else self._stdio()
                client = Client(server, client_info=types.Implementation(name="gdm", version=__version__),
                                cache=None)
                self._client = await stack.enter_async_context(client)
                if self.tag is not None:
                    self.pid = await asyncio.to_thread(find_server, self.tag)
                tools = await self._list(self._client)
                if not ready.done():
                    ready.set_result(tools)
                await self._stop.wait()
            self.ended = self.ended or "stopped"
        except asyncio.CancelledError:
            self.ended = self.ended or "stopped"
            if not ready.done():
                ready.set_exception(McpFailure("start cancelled"))
            raise
        except BaseException as exc:  # noqa: BLE001 - the connection's boundary: reported, never swallowed
            self.ended = describe_error(exc)
            if not ready.done():
                ready.set_exception(McpFailure(self.ended, closed=True))
            else:
                log.warning("MCP connection ended: %s", self.ended)
        finally:
            self._client = None

    @staticmethod
    async def _list(client: Client) -> list[RemoteTool]:
        tools: list[RemoteTool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools += [RemoteTool(t.name, t.description or t.title or "", t.input_schema) for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    @property
    def finished(self) -> bool:
        """Never started, or ended (with its process, unless the SDK abandoned one it could not kill)."""
        return self._runner is None or self._runner.done()

    def kill(self) -> bool:
        """SIGKILL a stdio server's process group if it still runs; whether it did (the exit path)."""
        if self.tag is None:
            return False
        pid = self.pid or find_server(self.tag)  # not yet known: the handshake never finished
        if pid is None or not kill_server(pid, self.tag):
            return False
        log.warning("gdm: the MCP server %s (pid %d) was still running at exit; killed", self.config.command, pid)
        return True

    @property
    def alive(self) -> bool:
        """Started and not ended."""
        return self._client is not None and self._task is not None and not self._task.done()

    async def call(self, name: str, arguments: dict[str, Any], timeout_s: float) -> CallResult:
        """Call a tool; McpFailure when the server is gone, times out or answers what is not MCP."""
        client = self._client
        if client is None or not self.alive:
            raise McpFailure(f"the server is not running ({self.ended or 'not started'})", closed=True)
        try:
            # The SDK's own timeout cancels the request on the server; ours is the backstop.
            result = await asyncio.wait_for(client.call_tool(name, arguments, read_timeout_seconds=timeout_s),
                                            timeout_s + 5)
        except asyncio.TimeoutError:
            raise McpFailure(f"no answer within {timeout_s:g} s", timeout=True) from None
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                raise McpFailure(f"no answer within {timeout_s:g} s", timeout=True) from None
            raise McpFailure(describe_error(exc), closed=_closed(exc)) from None
        except (ValidationError, ValueError, TypeError) as exc:
            raise McpFailure(describe_error(exc)) from None
        return render(result)

    async def close(self) -> None:
        """Stop the server (the SDK closes stdin, then terminates the process tree) and wait for it."""
        task, self._task = self._task, None
        if self._stop is not None:
            self._stop.set()
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except asyncio.TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        except BaseException as exc:  # noqa: BLE001 - stopping: the reason was recorded by _run
            log.debug("MCP server stopped with %s", describe_error(exc))


def render(result: types.CallToolResult) -> CallResult:
    """Text and structured content as they are; images, audio and resources as a short description."""
    parts: list[str] = []
    for block in result.content:
        parts.append(_block_text(block))
    structured = result.structured_content
    if structured is not None and not _said(structured, parts):
        parts.append(f"structured content: {json.dumps(structured, ensure_ascii=False, sort_keys=True)}")
    return CallResult("\n".join(parts) if parts else "(the tool returned no content)", result.is_error)


def _said(structured: Any, parts: list[str]) -> bool:
    """Whether the text blocks already say what the structured content does (FastMCP sends both)."""
    if isinstance(structured, dict) and list(structured) == ["result"] and isinstance(structured["result"], str):
        return "\n".join(parts) == structured["result"] or structured["result"] in parts
    dumped = _normalised(json.dumps(structured, ensure_ascii=False))
    return any(_normalised(p) == dumped for p in parts)


def _normalised(text: str) -> str:
    try:
        return json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)
    except (ValueError, TypeError):
        return text


def _size(data: str) -> str:
    try:
        return f"{len(base64.b64decode(data, validate=False)):,} bytes"
    except (ValueError, TypeError):
        return f"{len(data):,} base64 characters"


def _block_text(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent):
        return f"[image: {block.mime_type}, {_size(block.data)}; not shown to the model]"
    if isinstance(block, types.AudioContent):
        return f"[audio: {block.mime_type}, {_size(block.data)}; not played to the model]"
    if isinstance(block, types.ResourceLink):
        mime = f", {block.mime_type}" if block.mime_type else ""
        return f"[resource link: {block.name} <{block.uri}>{mime}]"
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        mime = f", {res.mime_type}" if res.mime_type else ""
        if isinstance(res, types.TextResourceContents):
            return f"[embedded resource <{res.uri}>{mime}, {len(res.text):,} characters of text]"
        return f"[embedded resource <{res.uri}>{mime}, {_size(res.blob)}]"
    return f"[{getattr(block, 'type', type(block).__name__)} content]"
