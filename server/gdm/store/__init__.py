"""Persistence: sessions, tasks, turns, tool calls, patches, costs (sqlmodel; SQLite or PostgreSQL).

`open_store` imports sqlmodel on first use: importing it costs ~0.3 s, which must not sit on
the path to the `initialize` result (measured by benchmarks/startup.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gdm.store.repo import Store


def open_store(url: str | None) -> Store:
    """Open (and create) the store at `url`; None means the SQLite file in the user data dir."""
    from gdm.store.repo import Store  # noqa: PLC0415 - lazy for start-up time, see module docstring

    return Store(url)


def store_error_type() -> type[Exception]:
    """The store's error class (lazily, like `open_store`)."""
    from gdm.store.errors import StoreError  # noqa: PLC0415 - lazy for start-up time (sqlalchemy.exc only)

    return StoreError
