"""The language server object: owns the session, the settings and the running tasks.

Handlers live in `features/`, one module per LSP feature, each with `register(server)`;
they close over this object instead of reaching for globals.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from gdm import __version__, features
from gdm.client_caps import ClientCaps
from gdm.context.workspace import Buffer, uri_to_path
from gdm.documents import adopt
from gdm.features.errors import NotReady
from gdm.features.protocol import MessageGate
from gdm.task_registry import TaskRegistry

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.config import Settings, SettingsResult

log = logging.getLogger(__name__)

SETTING_SOURCES = ("environment", "initializationOptions", "workspace/configuration")
READY_TIMEOUT_S = 10.0  # how long a request waits for the session to open (GDM_READY_TIMEOUT_S: tests)


class LspBuffers:
    """The editor's open documents, by workspace-relative path (a BufferSource)."""

    def __init__(self, server: "GdmServer") -> None:
        self.server = server

    def _docs(self) -> dict[str, Any]:
        root = self.server.root
        found: dict[str, Any] = {}
        for uri, doc in list(self.server.ls.workspace.text_documents.items()):
            path = uri_to_path(uri)
            if path is None:
                continue
            try:
                real = Path(os.path.realpath(path))
            except (ValueError, OSError):  # a URI no file can have (a NUL byte, too long): not a workspace file
                continue
            if root in real.parents:
                found[real.relative_to(root).as_posix()] = doc
        return found

    def buffer(self, path: str) -> Buffer | None:
        doc = self._docs().get(path)
        return None if doc is None else Buffer(doc.source, doc.version)

    def open_paths(self) -> set[str]:
        return set(self._docs())


class GdmProtocol(MessageGate, LanguageServerProtocol):
    """pygls' protocol, telling gdm of every `$/cancelRequest` (pygls consumes them itself), with
    every incoming message checked first (MessageGate: what pygls would drop is answered), and
    documents whose changes cost what the edit costs (documents.py)."""

    on_cancel: Callable[[Any], None] | None = None

    @property
    def _workspace(self) -> Any:
        return self.__dict__.get("_workspace")

    @_workspace.setter
    def _workspace(self, workspace: Any) -> None:  # pygls sets it in `initialize`: gdm's documents (documents.py)
        self.__dict__["_workspace"] = adopt(workspace)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        # pygls cancels a request still in flight; a task outlives the request that started it.
        if not isinstance(msg_id, (int, str)):  # `{"id": {}}`: no request has that id (nor could pygls look it up)
            log.warning("gdm: $/cancelRequest with an id that is not a number or string: %r", msg_id)
            return
        super()._handle_cancel_notification(msg_id)
        if self.on_cancel is not None:
            self.on_cancel(msg_id)


class GdmServer:
    """gdm's language server: one per process (tests build as many as they like)."""

    def __init__(self) -> None:
        self.ls = LanguageServer("gdm", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                                 protocol_cls=GdmProtocol)
        self.caps = ClientCaps()
        self.layers: dict[str, dict[str, Any]] = {}
        self._settings: Settings | None = None  # resolved at first use (pydantic is not needed to answer initialize)
        self.root = Path(os.path.realpath(os.getcwd()))
        self.buffers = LspBuffers(self)
        self.session: Session | None = None
        self._session_ready: asyncio.Future[Session] | None = None
        self.initialized = False  # the client's `initialized` arrived (the session opens after it)
        self.tasks = TaskRegistry()
        self.ls.protocol.on_cancel = self.tasks.cancel_request
        features.register_all(self)

    # -- settings ----------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings from every source, resolved now if a source changed since they were last."""
        if self._settings is None:
            self._resolve_settings()
        assert self._settings is not None
        return self._settings

    def apply_settings_layer(self, source: str, values: Any, *, defer: bool = False) -> SettingsResult | None:
        """Replace one source of settings, re-resolve, and tell the user what was wrong.

        `defer`: only record it; the settings are resolved (and any error shown) at their first use,
        which for `initialize` comes right after its answer."""
        self.layers[source] = values if isinstance(values, dict) else ({} if values is None else values)
        if defer and self.session is None:
            self._settings = None
            return None
        return self._resolve_settings()

    def _resolve_settings(self) -> SettingsResult:
        from gdm.config import env_layer, resolve  # noqa: PLC0415 - pydantic, after `initialize` is answered

        if "environment" not in self.layers:
            self.layers["environment"] = env_layer()
        result = resolve([self.layers.get(s) for s in SETTING_SOURCES], list(SETTING_SOURCES))
        self._settings = result.settings
        for error in result.errors:
            self.show(error, lsp.MessageType.Warning)
        for key in result.ignored:
            self.log(f"gdm: ignoring unknown setting {key}", lsp.MessageType.Info)
        if self.session is not None:
            self.session.update_settings(result.settings)
        return result

    # -- session -----------------------------------------------------------------------

    def session_future(self) -> asyncio.Future[Session]:
        """Resolved once the store is open and the session exists (opened after `initialized`)."""
        if self._session_ready is None:
            self._session_ready = asyncio.get_running_loop().create_future()
        return self._session_ready

    async def get_session(self) -> Session:
        """The session, waiting for start-up to finish if a request came early (bounded: NotReady)."""
        if self.session is not None:
            return self.session
        timeout = float(os.environ.get("GDM_READY_TIMEOUT_S") or READY_TIMEOUT_S)
        try:
            return await asyncio.wait_for(asyncio.shield(self.session_future()), timeout)
        except asyncio.TimeoutError:
            why = ("its store is still opening" if self.initialized else
                   "the client has not sent `initialized`, after which gdm opens its store")
            raise NotReady(f"gdm is not ready after {timeout:g} s: {why}; try again in a moment") from None

    async def session_or_none(self) -> Session | None:
        """The session, waiting as `get_session` does; None (logged) if it is not ready."""
        try:
            return await self.get_session()
        except JsonRpcException as exc:
            self.log(f"gdm: {exc.message}", lsp.MessageType.Warning)
            return None

    # -- talking to the user ---------------------------------------------------------

    def show(self, message: str, kind: lsp.MessageType = lsp.MessageType.Error) -> None:
        """A message the user sees (`window/showMessage`), also logged."""
        log.log(logging.INFO if kind in (lsp.MessageType.Info, lsp.MessageType.Log) else logging.WARNING, "%s", message)
        self.ls.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Log) -> None:
        """A line in the editor's log for gdm (`window/logMessage`)."""
        self.ls.window_log_message(lsp.LogMessageParams(type=kind, message=message))

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """A custom `gdm/*` notification, for clients that take them."""
        if self.caps.custom_notifications:
            self.ls.protocol.notify(method, params)

    def refresh_code_lenses(self) -> None:
        """Ask the editor to re-query code lenses (pending hunks changed)."""
        if self.caps.code_lens_refresh:
            self.ls.workspace_code_lens_refresh(None)
