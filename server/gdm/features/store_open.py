"""Opening the configured store for the server: patient with a transient failure, loud about a
fallback (DESIGN.md, "The team store").

- A transient failure (a PostgreSQL server not up yet, a lock another server holds while it
  migrates, a dropped connection: `StoreError.transient`) is retried with backoff for up to
  `OPEN_PATIENCE_S`, the user told once that gdm is waiting. It is never a reason to use another
  store: after the patience the error stands (gdm commands then say the store is missing).
- A URL that cannot work (malformed, a missing driver, bad credentials, a database newer than this
  gdm) falls back to the default SQLite store, shown with `window/showMessage` and in the `store`
  field of `gdm.cost` / `gdm/costUpdate` (`fallback` is the reason), so that nobody's costs go to
  a local file unnoticed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.store import open_store, store_error_type

if TYPE_CHECKING:
    from gdm.server import GdmServer
    from gdm.store.repo import Store

OPEN_PATIENCE_S = 30.0
FIRST_DELAY_S, MAX_DELAY_S = 0.2, 3.0


async def open_configured_store(server: GdmServer, url: str | None, *, patience_s: float = OPEN_PATIENCE_S) -> Store:
    """The store at `url` (None: the default SQLite file), retried while its failure is transient;
    the default store in its place only for a URL that cannot work. Raises the store's error when
    neither opens."""
    loop = asyncio.get_running_loop()
    deadline, delay, told = loop.time() + patience_s, FIRST_DELAY_S, False
    while True:
        try:
            return await asyncio.to_thread(open_store, url)
        except store_error_type() as exc:
            transient = bool(getattr(exc, "transient", False))
            if transient and loop.time() + delay < deadline:
                if not told:
                    server.show(f"gdm: its store is not available yet ({exc}); retrying for up to "
                                f"{patience_s:.0f} s.", lsp.MessageType.Warning)
                    told = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_S)
                continue
            if url is None or transient:
                raise
            reason = str(exc)
        server.show(f"gdm: cannot open databaseUrl ({reason}); using the default SQLite store instead — "
                    f"costs and patches are kept there, not in the configured database.")
        store = await asyncio.to_thread(open_store, None)
        store.fallback_reason = reason
        return store
