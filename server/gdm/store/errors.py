"""The store's error, and which database errors are worth trying again (`StoreError.transient`)."""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError


class StoreError(Exception):
    """The database could not be opened, read or written; the message says which and why.

    ``transient`` is True when trying again may succeed (a server not up yet, a lock held, a
    connection dropped), False when it cannot (a malformed URL, a missing driver, a database
    newer than this gdm, bad credentials, a read-only file)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


# Words of errors that no retry mends, though the driver reports them as operational.
_PERMANENT = (
    "does not exist", "authentication failed", "no password supplied", "permission denied",
    "unable to open database file", "readonly database", "read-only", "not a database",
    "disk i/o error", "database or disk is full", "no such table", "no such column",
    "could not translate host name", "invalid dsn", "malformed",
)
_TRANSIENT = (
    "database is locked", "database table is locked", "busy", "connection refused",
    "the database system is starting up", "the database system is shutting down",
    "too many connections", "remaining connection slots", "server closed the connection",
    "connection reset", "timeout", "timed out", "terminating connection", "could not connect",
    "already exists",  # another server's DDL raced ours: it is there now
)


def is_transient(exc: BaseException) -> bool:
    """True when the same call may succeed if tried again shortly."""
    if isinstance(exc, (ArgumentError, ImportError)):
        return False
    text = str(exc).lower()
    if any(word in text for word in _PERMANENT):
        return False
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    return any(word in text for word in _TRANSIENT)
