"""What an MCP server gives back, as plain data: no SDK types above client.py (importing the SDK
costs ~1 s, so only a session that really starts a server pays it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class McpFailure(Exception):
    """A server that could not be reached or answered wrongly; `closed`: it is gone (exited, hung up)."""

    def __init__(self, message: str, *, closed: bool = False, timeout: bool = False) -> None:
        super().__init__(message)
        self.closed = closed
        self.timeout = timeout


@dataclass(frozen=True)
class RemoteTool:
    """A tool as the server lists it: its own name, description and input schema."""

    name: str
    description: str
    input_schema: Any


@dataclass(frozen=True)
class CallResult:
    """What a call gave back, as text for the model; `is_error`: the tool itself reported a failure."""

    text: str
    is_error: bool
