"""Lifecycle: `initialize`, `initialized`, `workspace/didChangeConfiguration`, `shutdown`, `exit`.

Capabilities and settings are resolved at `initialize`; the store is opened after it (in a
worker thread) so the editor gets its `initialize` result without waiting on the database.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.context.workspace import uri_to_path
from gdm.features import code_map, notifications
from gdm.client_caps import ClientCaps
from gdm.features.store_open import open_configured_store
from gdm.store import store_error_type
from gdm.features.errors import NotReady

if TYPE_CHECKING:
    from gdm.server import GdmServer

log = logging.getLogger(__name__)


def register(server: GdmServer) -> None:
    """Register the lifecycle handlers."""
    ls = server.ls

    @ls.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        server.caps = ClientCaps.from_params(params.capabilities, params.initialization_options)
        server.root = _root_of(params)
        server.apply_settings_layer("initializationOptions", params.initialization_options, defer=True)

    @ls.feature(lsp.INITIALIZED)
    async def initialized(params: lsp.InitializedParams) -> None:
        server.initialized = True
        await pull_configuration(server)
        await open_session(server)

    @ls.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: lsp.DidChangeConfigurationParams) -> None:
        before = server.session.sandbox.state if server.session is not None else None
        if server.caps.configuration:
            await pull_configuration(server)
        else:
            settings = params.settings
            if isinstance(settings, dict) and isinstance(settings.get("gdm"), dict):
                server.apply_settings_layer("workspace/configuration", settings["gdm"])
        if server.session is not None and server.session.sandbox.state != before:
            notifications.cost_update(server, server.session.totals())  # the meter says sandbox on / off

    @ls.feature(lsp.SHUTDOWN)
    def shutdown(params: Any = None) -> None:
        server.tasks.cancel_all()
        if server.session is not None:
            server.session.spending.settle()  # the last completions' rows and outcomes
            server.session.store.end_session(server.session.id)
            server.session.mcp.close()  # every MCP server this session started

    @ls.feature(lsp.EXIT)
    async def exit(params: Any = None) -> None:
        # pygls awaits this before it exits: a stdio MCP server that ignored the stop `shutdown` began
        # is killed now, within the 2 s an editor gives gdm after `exit` (mcp_tools/manager.py, `end`).
        if server.session is not None:
            await server.session.mcp.end()


def _root_of(params: lsp.InitializeParams) -> Path:
    for uri in [params.root_uri] + [f.uri for f in params.workspace_folders or []]:
        if uri:
            path = uri_to_path(uri)
            if path is not None:
                return Path(os.path.realpath(path))
    if params.root_path:
        return Path(os.path.realpath(params.root_path))
    return Path(os.path.realpath(os.getcwd()))


async def pull_configuration(server: GdmServer) -> None:
    """Read section `gdm` with `workspace/configuration`, when the client offers it."""
    if not server.caps.configuration:
        return
    try:
        result = await server.ls.workspace_configuration_async(
            lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="gdm")]))
    except (JsonRpcException, asyncio.TimeoutError) as exc:
        server.log(f"gdm: workspace/configuration failed: {exc}", lsp.MessageType.Warning)
        return
    values = result[0] if result else None
    if values is not None and not isinstance(values, dict):
        values = getattr(values, "_asdict", lambda: values)()
    server.apply_settings_layer("workspace/configuration", values)


async def open_session(server: GdmServer) -> None:
    """Open the store (off the event loop, features/store_open.py) and start the session."""
    future = server.session_future()
    if future.done():
        return
    from gdm.agent import factory  # noqa: PLC0415 - the engine after `initialize`

    try:
        # retries a transient failure; falls back loudly
        store = await open_configured_store(server, server.settings.database_url)
        settings = server.settings  # the newest, read on the loop: resolving them may tell the user something
        session = await asyncio.to_thread(
            lambda: factory.open_session(root=server.root, settings=settings, store=store, buffers=server.buffers))
    except store_error_type() as exc:
        # Without a store nothing could be kept: say so, and make every gdm request say so too.
        server.show(f"gdm: cannot open its store ({exc}); gdm commands are unavailable until this is fixed "
                    f"(set gdm.databaseUrl or check the user data folder).")
        future.set_exception(NotReady(f"gdm is not ready: it cannot open its store ({exc})"))
        return
    server.session = session
    session.mcp.report = lambda message: server.show(message, lsp.MessageType.Warning)
    session.sandbox.report = lambda message: server.show(message, lsp.MessageType.Warning)
    future.set_result(session)
    reopened = len(session.patches.open())
    if reopened:
        server.log(f"gdm: {reopened} pending patch(es) from earlier sessions are ready for review")
        server.refresh_code_lenses()
    notifications.cost_update(server, session.totals())
    code_map.start_indexing(server, session)  # in the background; the first task never waits for it all
