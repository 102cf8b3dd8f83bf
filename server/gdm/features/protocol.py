"""The JSON-RPC layer under every feature: each message is checked before pygls sees it.

pygls drops or mishandles what is not a well-formed LSP message: a request whose params do not
deserialize (a position line of -1, `hover {}`), an unknown method without params, a request sent
to a notification method, or any request after `shutdown` is never answered; an id of `{}` or a
method of `null` raises inside it; params nested hundreds deep end in a RecursionError. Here
every request gets an answer — a result, or the JSON-RPC error its fault calls for (-32700 parse
error, -32600 invalid request, -32601 method not found, -32602 invalid params) — and a
notification that cannot be read is logged and dropped, never half-handled.

Params are structured first by a converter without cattrs' detailed validation, which stops at
the first fault: the detailed one collects one error per element, so a 100,000-character string
where a list belongs took 9 s to structure and 27 s to log, and the server stalled (fuzz seed 2).
Only a small message that fails is structured again in detail, to name where it went wrong.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import cattrs
from lsprotocol import types as lsp
from lsprotocol.converters import get_converter
from pygls.exceptions import (JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams,
                              JsonRpcInvalidRequest, JsonRpcMethodNotFound, JsonRpcParseError)
from pygls.protocol import (JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage,
                            LanguageServerProtocol, _params_field_structure_hook, _result_field_structure_hook)

from gdm.framing import Frame

log = logging.getLogger(__name__)

MAX_DEPTH = 64  # deeper params than any LSP message has; deeper ones are refused, not recursed into
MAX_REASON = 300  # characters of a deserialization error quoted back to the client
DETAIL_BUDGET = 2000  # values + string characters of params small enough to structure again in detail
_ABSENT = object()


def depth_exceeds(value: Any, limit: int) -> bool:
    """True when lists/objects nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def size_exceeds(value: Any, limit: int) -> bool:
    """True when params hold more than `limit` values and string characters (counted until past it)."""
    stack, size = [value], 0
    while stack:
        item = stack.pop()
        size += 1 + (len(item) if isinstance(item, str) else 0)
        if size > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def quick_converter() -> cattrs.Converter:
    """pygls' converter (lsprotocol's hooks and its own), failing at the first fault it meets."""
    converter = get_converter(cattrs.Converter(detailed_validation=False))
    converter.register_structure_hook(JsonRPCRequestMessage, _params_field_structure_hook)
    converter.register_structure_hook(JsonRPCResponseMessage, _result_field_structure_hook)
    converter.register_structure_hook(JsonRPCNotification, _params_field_structure_hook)
    return converter


def _valid_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _is_notification_method(method: str) -> bool:
    types = lsp.METHOD_TO_TYPES.get(method)
    return types is not None and types[1] is None and method != lsp.SHUTDOWN and method != lsp.EXIT


class MessageGate(LanguageServerProtocol):
    """pygls' protocol with every incoming message checked first (`receive`), answered where pygls would not."""

    def receive(self, frame: Frame) -> None:
        """Handle one frame from the wire: a message, or what was wrong with the bytes."""
        if not frame.readable:
            log.warning("gdm: unreadable input: %s", frame.problem)
            self.answer_error(None, JsonRpcParseError(f"Parse error: {frame.problem}"))
            return
        message = frame.message
        if not isinstance(message, dict):
            kind = "a batch (an array)" if isinstance(message, list) else type(message).__name__
            self.answer_error(None, JsonRpcInvalidRequest(f"Invalid request: a message must be an object, got {kind}"))
            return
        msg_id = message.get("id", _ABSENT)
        is_request = "method" in message and msg_id is not _ABSENT
        reply_id = msg_id if _valid_id(msg_id) else None
        fault = self._fault(message, frame.problem, msg_id)
        if fault is None:
            try:
                self._dispatch(message, is_request)
            except Exception as exc:  # noqa: BLE001 - the message boundary: one message never ends the server
                log.exception("gdm: handling %r failed", message.get("method"))
                if is_request:
                    self.answer_error(reply_id, JsonRpcInternalError(f"Internal error: {exc}"))
        elif "method" in message:
            if is_request:
                self.answer_error(reply_id, fault)
            else:
                log.warning("gdm: dropped notification %r: %s", message.get("method"), fault.message)
        elif _valid_id(msg_id) and ("result" in message or "error" in message):
            self._fail_response(message, fault)
        else:
            self.answer_error(reply_id, fault)

    def _fault(self, message: dict[str, Any], problem: str | None, msg_id: Any) -> JsonRpcException | None:
        """Why this message cannot be handled, or None."""
        method = message.get("method", _ABSENT)
        if problem is not None:
            return JsonRpcParseError(f"Parse error: {problem}")
        if message.get("jsonrpc") != "2.0":
            return JsonRpcInvalidRequest('Invalid request: "jsonrpc" must be "2.0"')
        if msg_id is not _ABSENT and not _valid_id(msg_id):
            return JsonRpcInvalidRequest(f"Invalid request: an id must be a number or a string, got {msg_id!r:.60}")
        if method is _ABSENT:
            if msg_id is _ABSENT or ("result" not in message and "error" not in message):
                return JsonRpcInvalidRequest("Invalid request: no method, and not a response")
            return None
        if not isinstance(method, str):
            return JsonRpcInvalidRequest(f"Invalid request: the method must be a string, got {method!r:.60}")
        params = message.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return JsonRpcInvalidRequest(f"Invalid request: params must be an object or an array ({method})")
        if depth_exceeds(params, MAX_DEPTH):
            return JsonRpcInvalidParams(f"Invalid params: {method}'s params nest deeper than {MAX_DEPTH} levels")
        if msg_id is _ABSENT:
            return None
        if self._shutdown and method != lsp.EXIT:
            return JsonRpcInvalidRequest(f"Invalid request: the server is shut down ({method} after shutdown)")
        if _is_notification_method(method):
            return JsonRpcInvalidRequest(f"Invalid request: {method} is a notification; send it without an id")
        if not self._handles(method):
            return JsonRpcMethodNotFound(f"Method not found: {method}")
        return None

    @functools.cached_property
    def _quick_converter(self) -> cattrs.Converter:
        return quick_converter()

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls' structuring, by the quick converter; a small message that fails, again in detail."""
        detailed, self._converter = self._converter, self._quick_converter
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if "method" not in data or size_exceeds(data.get("params"), DETAIL_BUDGET):
                raise  # a response's result type is spent; a large message would take seconds
        finally:
            self._converter = detailed
        return super().structure_message(data)  # raises again, naming the field that is wrong

    def _handles(self, method: str) -> bool:
        return method in self.fm.builtin_features or method in self.fm.features

    def _dispatch(self, message: dict[str, Any], is_request: bool) -> None:
        method = message.get("method")
        if not is_request and method is not None and method in lsp.METHOD_TO_TYPES \
                and not _is_notification_method(method) and method != lsp.EXIT:
            log.warning("gdm: dropped %r sent as a notification: it is a request (it needs an id)", method)
            return
        try:
            structured = self.structure_message(message)
        except JsonRpcException as exc:
            reason = exc.__cause__ or exc
            why = f"Invalid params for {method}: {_summary(reason)}"
            if is_request:
                self.answer_error(message["id"], JsonRpcInvalidParams(why))
            elif method is None:
                self._fail_response(message, JsonRpcInvalidParams(f"Invalid result: {_summary(reason)}"))
            else:
                log.warning("gdm: dropped notification %r: %s", method, why)
            return
        self.handle_message(structured)

    def _fail_response(self, message: dict[str, Any], fault: JsonRpcException) -> None:
        """A response gdm cannot read still settles the request it answers (as an error), so nothing hangs."""
        msg_id = message.get("id")
        if _valid_id(msg_id) and msg_id in self._request_futures:
            self._result_types.pop(msg_id, None)
            self._handle_response(msg_id, None, fault.to_response_error())
        else:
            log.warning("gdm: dropped a response that cannot be read: %s", fault.message)

    def answer_error(self, msg_id: Any, error: JsonRpcException) -> None:
        """Send an error response (`msg_id` None when the request's id cannot be known)."""
        # A plain dict: lsprotocol's converter would leave out an `id` of null, which JSON-RPC requires.
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": error.code, "message": error.message}})


def _summary(exc: BaseException) -> str:
    """A one-line reason from a cattrs error group (its leaf messages), cut short."""
    leaves: list[str] = []

    def walk(error: BaseException) -> None:
        subs = getattr(error, "exceptions", None)
        if subs:
            for sub in subs:
                walk(sub)
        else:
            note = "; ".join(str(n) for n in getattr(error, "__notes__", []))
            text = f"missing field {error}" if isinstance(error, KeyError) else (
                f"a value of the wrong type ({error})" if isinstance(error, TypeError) else str(error))
            leaves.append(f"{text}{f' ({note})' if note else ''}")
    walk(exc)
    text = "; ".join(dict.fromkeys(leaves)) or type(exc).__name__
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "…"
