"""The ACP agent: `initialize`, `session/new|load|prompt|cancel|set_mode` over the gdm engine.

Handlers are thin: check the request, find the session, hand the work to state.py / turn.py /
history.py, answer an ACP type. Every failure the client caused is a JSON-RPC error with a
sentence saying what was wrong; the agent keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import acp
from acp import RequestError, schema

from gdm.acp import commit, history, mapping
from gdm.acp.buffers import ClientBuffers, ClientRefused
from gdm.acp.prompt import BadPrompt, parse
from gdm.acp.state import MODES, AcpSession, ClientFs, session_settings
from gdm.acp.turn import Turn
from gdm.agent.factory import open_session
from gdm.agent.session import new_id
from gdm.config import Settings
from gdm.store import open_store, store_error_type

log = logging.getLogger(__name__)

CANCEL_FLUSH_S = 0.5
SHUTDOWN_WAIT_S = 2.0  # for cancelled prompts to write their final status  # updates already queued still go out before `cancelled` is answered


def invalid(message: str, **data: Any) -> RequestError:
    """A JSON-RPC invalid-params error whose message says what was wrong."""
    return RequestError(-32602, message, data or None)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("an update could not be sent: %s", task.exception())


def _version() -> str:
    try:
        return metadata.version("gdm")
    except metadata.PackageNotFoundError:
        return "0"


class GdmAgent(acp.Agent):
    """One `gdm acp` process: any number of ACP sessions, each a gdm session."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.fs = ClientFs()
        self.sessions: dict[str, AcpSession] = {}
        self.stores: dict[str | None, Any] = {}

    def on_connect(self, conn: Any) -> None:
        """The client side of the connection (session updates, permissions, fs)."""
        self.conn = conn

    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None,
                         **kwargs: Any) -> schema.InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self.fs = ClientFs(bool(getattr(fs, "read_text_file", False)), bool(getattr(fs, "write_text_file", False)))
        return schema.InitializeResponse(
            protocol_version=acp.PROTOCOL_VERSION,
            agent_capabilities=schema.AgentCapabilities(
                load_session=True, prompt_capabilities=schema.PromptCapabilities(embedded_context=True)),
            auth_methods=[], agent_info=schema.Implementation(name="gdm", title="gdm", version=_version()))

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        raise invalid(f"gdm has no authentication methods (asked for {method_id!r}): keys come from the "
                      f"environment (apiKeyEnv)")

    # -- sessions --------------------------------------------------------------------------

    async def new_session(self, cwd: str, mcp_servers: list[Any] | None = None, **kwargs: Any) -> schema.NewSessionResponse:
        state = await self._open(cwd, new_id("s"), kwargs.get("gdm"), mcp_servers)
        self._after(self._announce(state))
        meta = {"gdm": {"settingsErrors": state.notes}} if state.notes else None
        return schema.NewSessionResponse(session_id=state.id, modes=mapping.modes(state.mode, MODES), field_meta=meta)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: list[Any] | None = None,
                           **kwargs: Any) -> schema.LoadSessionResponse:
        if not isinstance(session_id, str) or not session_id:
            raise invalid("session/load needs a sessionId")
        state = self.sessions.get(session_id)
        if state is None or state.session.view.root != Path(os.path.realpath(cwd)):
            state = await self._open(cwd, session_id, kwargs.get("gdm"), mcp_servers, existing=True)
        try:
            items = await asyncio.to_thread(history.updates, state.session.store, session_id, state.session.view.root)
        except KeyError as exc:
            raise invalid(f"no stored session {session_id!r}", sessionId=session_id) from exc
        await history.send_all(self._sender(state.id), items)
        self._after(self._announce(state))
        return schema.LoadSessionResponse(modes=mapping.modes(state.mode, MODES))

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any) -> Any:
        raise RequestError.method_not_found("session/list")

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> schema.SetSessionModeResponse:
        state = self._state(session_id)
        if mode_id not in MODES:
            raise invalid(f"unknown mode {mode_id!r}; the modes are {', '.join(MODES)}", modeId=mode_id)
        state.set_mode(mode_id)
        self._after(self._sender(state.id)(schema.CurrentModeUpdate(session_update="current_mode_update",
                                                                    current_mode_id=mode_id)))
        return schema.SetSessionModeResponse()

    # -- prompts ---------------------------------------------------------------------------

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> schema.PromptResponse:
        state = self._state(session_id)
        if state.running is not None and not state.running.done():
            raise RequestError(-32600, f"a prompt is already running in session {session_id}: wait for its answer "
                                       f"or send session/cancel", {"sessionId": session_id})
        message = commit.commit_message_of(prompt)
        if message is not None:  # `/commit [message]`: no model-tool loop
            return schema.PromptResponse(stop_reason=await commit.run(state, self.conn, message))
        try:
            parsed = parse(prompt, state.session.view)
        except BadPrompt as exc:
            raise invalid(str(exc), sessionId=session_id) from exc
        turn = Turn(state, self.conn)
        task = asyncio.ensure_future(turn.run(parsed))
        state.running = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()  # the connection is going away: so does the task
            raise
        finally:
            if state.running is task:
                state.running = None
        if task.cancelled():
            try:
                await asyncio.wait_for(turn.outbox.flush(), CANCEL_FLUSH_S)
            except TimeoutError:
                log.warning("session %s: updates still queued when the cancel was answered", session_id)
            return schema.PromptResponse(stop_reason="cancelled")
        error = task.exception()
        if isinstance(error, RequestError):
            raise error
        if error is not None:
            log.error("session %s: the task failed", session_id, exc_info=error)
            raise RequestError(-32603, f"gdm: internal error: {error}", {"sessionId": session_id}) from error
        return schema.PromptResponse(stop_reason=task.result())

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        state = self.sessions.get(session_id)
        if state is None:
            log.warning("session/cancel for an unknown session %r", session_id)
            return
        if state.running is not None:
            state.running.cancel()

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(f"_{method}")

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        log.info("ignored extension notification _%s", method)

    # -- helpers ---------------------------------------------------------------------------

    def _state(self, session_id: Any) -> AcpSession:
        state = self.sessions.get(session_id) if isinstance(session_id, str) else None
        if state is None:
            raise invalid(f"unknown session {session_id!r}: start one with session/new (or session/load)",
                          sessionId=session_id)
        return state

    def _sender(self, session_id: str) -> Any:
        return lambda update: self.conn.session_update(session_id=session_id, update=update)

    def _after(self, work: Any) -> None:
        """Send after the answer (the client learns the session id from the answer): a task started
        now runs once this handler has returned and its answer is written."""
        asyncio.ensure_future(work).add_done_callback(_log_failure)

    async def _announce(self, state: AcpSession) -> None:
        await self._sender(state.id)(mapping.commands())

    async def _open(self, cwd: Any, session_id: str, meta: Any, mcp_servers: list[Any] | None,
                    existing: bool = False) -> AcpSession:
        """A gdm session rooted at `cwd` with this session's settings."""
        if not isinstance(cwd, str) or not os.path.isabs(cwd) or not os.path.isdir(cwd):
            raise invalid(f"cwd must be the absolute path of an existing folder, got {cwd!r}", cwd=cwd)
        result = session_settings(meta, mcp_servers)
        for note in result.errors:
            log.warning("%s", note)
        store = await self._store(result.settings)
        if existing and not await asyncio.to_thread(lambda: any(s["id"] == session_id for s in store.sessions())):
            raise invalid(f"no stored session {session_id!r} in {result.settings.database_url or 'the default store'}",
                          sessionId=session_id)
        buffers = ClientBuffers(Path(os.path.realpath(cwd)), self._reader(session_id) if self.fs.read else None)
        session = await asyncio.to_thread(lambda: open_session(root=Path(cwd), settings=result.settings, store=store,
                                                               buffers=buffers, session_id=session_id))
        state = AcpSession(session, buffers, self.fs, notes=list(result.errors))
        self.sessions[session_id] = state
        return state

    def _reader(self, session_id: str) -> Any:
        async def read(path: str) -> str:
            try:
                response = await self.conn.read_text_file(session_id=session_id, path=path)
            except RequestError as exc:
                raise ClientRefused(str(exc) + (f" ({exc.data})" if exc.data else "")) from exc
            return response.content
        return read

    async def _store(self, settings: Settings) -> Any:
        url = settings.database_url
        if url not in self.stores:
            try:
                self.stores[url] = await asyncio.to_thread(open_store, url)
            except store_error_type() as exc:
                raise RequestError(-32603, f"gdm: the store cannot be opened: {exc}") from exc
        return self.stores[url]

    async def shutdown(self) -> None:
        """Stop running prompts (their tasks are stored as cancelled), mark the sessions ended as
        the LSP server does on shutdown, close model loops and stores."""
        running = [s.running for s in self.sessions.values() if s.running is not None]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=SHUTDOWN_WAIT_S)
        for state in self.sessions.values():
            try:
                await asyncio.to_thread(state.session.store.end_session, state.id)
            except store_error_type() as exc:
                log.error("session %s could not be marked ended: %s", state.id, exc)
            state.session.model_loop.close()
        for store in self.stores.values():
            store.close()
