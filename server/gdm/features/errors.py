"""JSON-RPC errors gdm answers with beyond pygls' own (LSP's RequestFailed for a session not ready)."""

from __future__ import annotations

from pygls.exceptions import JsonRpcException

REQUEST_FAILED = -32803  # LSP's RequestFailed: the request was valid, gdm could not do it now


class NotReady(JsonRpcException):
    """The session did not open in time, or cannot open: the request fails with the reason."""

    CODE = REQUEST_FAILED
    MESSAGE = "gdm is not ready"


class RequestFailed(JsonRpcException):
    """A well-formed request gdm cannot do in this state (a commit refused…); `data.reason` says why."""

    CODE = REQUEST_FAILED
    MESSAGE = "gdm could not do it"
