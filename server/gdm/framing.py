"""LSP's base protocol framing (`Content-Length` headers, then a JSON body), read so that no input
loses the framing: a parser fed bytes, handing back messages and what was wrong with them.

pygls' reader trusts the header: a length too small, too large, negative, missing or not a number,
or a long line without a newline, and it reads the following messages as headers or bodies — the
server goes deaf for good. Here a body is also delimited by its JSON (a valid body never holds a
raw `Content-Length: N` line, since JSON strings cannot hold raw newlines), so the parser finds
where a message really ends and where the next one starts, and says what the header got wrong.
Memory is bounded: garbage without a header is skipped, never buffered whole. No pygls here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_HEADER_BYTES = 8 * 1024  # a header block longer than this is garbage
MAX_BODY_BYTES = 256 * 1024 * 1024  # a longer Content-Length is refused (its JSON still delimits it)
KEEP_BYTES = 64  # kept of skipped garbage: a header may begin in its last bytes

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:[^\r\n]*")  # `Name: value`
# A header line inside a body: the message ended before it (JSON cannot hold a raw newline).
_NEXT_HEADER = re.compile(rb"content-length[ \t]*:[^\r\n]*\r?\n", re.IGNORECASE)
_TOKENS = re.compile(rb'"(?:[^"\\\r\n]|\\.)*"|["{}\[\]]')
_WS = b" \t\r\n"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # `\ud800`: JSON may spell a lone surrogate
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # what is left once pairs are joined
INCOMPLETE, INVALID = -1, -2
_NO_BODY = object()


@dataclass(frozen=True)
class Frame:
    """One message from the wire: its JSON value (`NOT_JSON` if none could be read) and what was wrong."""

    message: Any
    problem: str | None = None

    @property
    def readable(self) -> bool:
        """True when the body was JSON (possibly with a framing problem)."""
        return self.message is not NOT_JSON


NOT_JSON: Any = _NO_BODY
_WAIT_MORE: Any = object()  # a step made progress without a frame


def json_extent(data: bytes | bytearray, start: int = 0) -> int:
    """Where the JSON object or array starting at `start` ends (exclusive), INCOMPLETE or INVALID."""
    if start >= len(data) or data[start] not in b"{[":
        return INVALID
    stack: list[int] = []
    for match in _TOKENS.finditer(data, start):
        token = match.group()
        if token == b'"':  # a string not closed: more bytes may close it, a raw newline never
            return INVALID if b"\n" in data[match.start():] else INCOMPLETE
        first = token[0]
        if first in b"{[":
            stack.append(first)
        elif first in b"}]":
            if not stack or stack.pop() != (ord("{") if first == ord("}") else ord("[")):
                return INVALID
            if not stack:
                return match.end()
    return INCOMPLETE


def _mend_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate (JSON allows `"\\ud800"`, UTF-8 cannot carry it) made U+FFFD.

    Left in, one reaches a path, the store or the reply and fails to encode there; U+FFFD keeps a
    document's UTF-16 positions, since both are one code unit. Iterative: depth is checked later."""
    def mend(item: Any) -> Any:
        return _LONE_SURROGATE.sub("\ufffd", item) if isinstance(item, str) else item
    value = mend(value)
    stack = [value] if isinstance(value, (dict, list)) else []
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            node.update((mend(key), mend(child)) for key, child in items)
            children = node.values()
        else:
            node[:] = [mend(child) for child in node]
            children = node
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return value


def _loads(body: bytes | bytearray) -> tuple[Any, str | None]:
    """The JSON value of a body, or NOT_JSON and why."""
    try:
        value = json.loads(bytes(body))
        return (_mend_surrogates(value) if _SURROGATE_ESCAPE.search(body) else value), None
    except UnicodeDecodeError as exc:
        why = f"the body is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        try:  # read it leniently, so that a request still gets its answer (an error naming this)
            return _mend_surrogates(json.loads(bytes(body).decode("utf-8", "replace"))), why
        except (ValueError, RecursionError):
            return NOT_JSON, why
    except RecursionError:
        return NOT_JSON, "the body is nested too deeply to read"
    except ValueError as exc:
        return NOT_JSON, f"the body is not valid JSON ({exc})"


def _skip_ws(buf: bytearray) -> None:
    count = len(buf) - len(buf.lstrip(_WS))
    if count:
        del buf[:count]


class FrameParser:
    """Turns the bytes of stdin into Frames: `feed` as bytes arrive, `close` at the end of input."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._body: tuple[int | None, str | None] | None = None  # (declared length, problem) once headers are read
        self._in_garbage = False
        self._scanned = 0  # how much of a sized body was searched for a next header already

    def feed(self, data: bytes) -> list[Frame]:
        """Take more bytes; return every frame now complete."""
        self._buf += data
        frames: list[Frame] = []
        while (frame := self._step()) is not None:
            if frame is not _WAIT_MORE:
                frames.append(frame)
        return frames

    def close(self) -> list[Frame]:
        """The input ended: whatever is left is a message cut short."""
        _skip_ws(self._buf)
        if not self._buf and self._body is None:
            return []
        size, self._buf, self._body = len(self._buf), bytearray(), None
        return [Frame(NOT_JSON, f"the input ended inside a message ({size} bytes unread)")]

    # -- one step: a frame, _WAIT_MORE (progress without a frame), or None (needs bytes) ------

    def _step(self) -> Frame | Any:
        if self._body is None:
            return self._headers()
        length, problem = self._body
        if length is None:
            return self._delimited(problem)
        return self._sized(length)

    def _garbage(self, size: int, why: str) -> Frame | Any:
        del self._buf[:size]
        if self._in_garbage:
            return _WAIT_MORE
        self._in_garbage = True
        return Frame(NOT_JSON, why)

    def _headers(self) -> Frame | Any:
        _skip_ws(self._buf)
        buf = self._buf
        if not buf:
            return None
        if buf[0] in b"{[":
            self._body = (None, "no Content-Length header before this message")
            return _WAIT_MORE
        end = _HEADER_END.search(buf, 0, MAX_HEADER_BYTES + 4)
        if end is None:
            if len(buf) <= MAX_HEADER_BYTES:
                return None
            start = _LENGTH.search(buf, 1)
            size = start.start() if start else len(buf) - KEEP_BYTES
            return self._garbage(size, "bytes that are not an LSP message were skipped")
        block = bytes(buf[:end.start()])
        matches = list(_LENGTH.finditer(block))
        if not matches:
            return self._garbage(end.end(), f"a header without Content-Length was skipped: {block[:80]!r}")
        found = matches[-1]
        before = block[:found.start()].splitlines()
        if found.start() and not all(_HEADER_LINE.fullmatch(line) for line in before):
            # Garbage before the header (the rest of a message cut short): reported, the message kept.
            del buf[:found.start()]
            return self._garbage(0, "bytes that are not an LSP message were skipped before a header")
        self._in_garbage = False
        del buf[:end.end()]
        self._body = self._declared(found.group(1).strip())
        self._scanned = 0
        return _WAIT_MORE

    @staticmethod
    def _declared(value: bytes) -> tuple[int | None, str | None]:
        text = value.decode("latin-1")
        if not value.isdigit():
            return None, f"Content-Length {text!r} is not a byte count"
        length = int(value)
        if length == 0:
            return None, "Content-Length 0: a message cannot be empty"
        if length > MAX_BODY_BYTES:
            return None, f"Content-Length {length} is more than gdm reads ({MAX_BODY_BYTES})"
        return length, None

    def _sized(self, length: int) -> Frame | Any:
        buf = self._buf
        cut = _NEXT_HEADER.search(buf, max(0, self._scanned - KEEP_BYTES), length)
        self._scanned = min(len(buf), length)
        if cut is not None:  # the next message starts inside this one: the length was too large
            return self._ended_at(cut.start(), f"Content-Length {length} is more than the message")
        if len(buf) < length:
            # A complete JSON value before the declared end: the length was too large, and a client
            # waiting for the answer would never send the missing bytes.
            tail = buf.rstrip(_WS)
            if tail and tail[-1] in b"}]" and (end := json_extent(buf)) > 0:
                return self._ended_at(end, f"Content-Length {length} is more than the message ({end} bytes)")
            return None
        message, why = _loads(buf[:length])
        if message is not NOT_JSON:
            del buf[:length]
            self._body = None
            return Frame(message, why)
        end = json_extent(buf)
        if 0 < end < length:  # the JSON ends before the declared length, and more follows: too large
            return self._ended_at(end, f"Content-Length {length} is more than the message ({end} bytes)")
        after = bytes(buf[length:length + KEEP_BYTES]).lstrip(_WS)
        if after and _LENGTH.match(after):
            end = INVALID  # a header follows the declared end: the length was right, the body is bad
        if end == INCOMPLETE and not after:
            return None  # too small, or a bad body: the next bytes tell
        if end == INCOMPLETE or end > length:  # the JSON goes on past the declared end: too small
            self._body = (None, f"Content-Length {length} is less than the message")
            return _WAIT_MORE
        del buf[:length]
        self._body = None
        return Frame(NOT_JSON, why)

    def _ended_at(self, end: int, problem: str) -> Frame:
        body = bytes(self._buf[:end])
        del self._buf[:end]
        self._body = None
        message, why = _loads(body) if body.strip(_WS) else (NOT_JSON, "the message is empty")
        return Frame(message, problem if message is not NOT_JSON else f"{problem}; {why}")

    def _delimited(self, problem: str | None) -> Frame | Any:
        buf = self._buf
        _skip_ws(buf)
        if not buf:
            return None
        end = json_extent(buf)
        if end == INVALID:
            self._body = None
            cut = _NEXT_HEADER.search(buf)
            size = cut.start() if cut else len(buf)
            return self._garbage(size, f"{problem}; what follows is not a JSON message")
        if end == INCOMPLETE:
            cut = _NEXT_HEADER.search(buf)
            if cut is not None:
                return self._ended_at(cut.start(), f"{problem}; the message is cut short")
            if len(buf) > MAX_BODY_BYTES:
                self._body = None
                return self._garbage(len(buf) - KEEP_BYTES, f"{problem}; the message is too long")
            return None
        return self._ended_at(end, problem or "the message's length is unknown")

