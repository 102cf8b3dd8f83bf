"""The one way a front end gets a session: the LSP server (features/lifecycle.py), the ACP agent
(acp/agent.py) and the headless commands (headless.py, cli.py) all open theirs here, with the
standard collaborators (agent/session.py's SessionParts).

Opening writes the session's row and reads the store: call it from a worker thread when an
event loop is running.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gdm.agent.session import Session, SessionParts
from gdm.agent.task_runner import new_id
from gdm.config import Settings
from gdm.context.workspace import BufferSource

if TYPE_CHECKING:
    from gdm.store.repo import Store


def open_session(*, root: Path, settings: Settings, store: Store, buffers: BufferSource,
                 session_id: str | None = None, stream: bool = True) -> Session:
    """A session over `root` on `store`, given its collaborators."""
    session_id = session_id or new_id("s")
    parts = SessionParts.standard(store, session_id, settings)
    return Session(root=root, settings=settings, store=store, buffers=buffers, session_id=session_id,
                   stream=stream, parts=parts)
