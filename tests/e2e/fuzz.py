"""A seeded fuzzer for the real server process: malformed LSP over raw bytes on its stdin.

Messages: every method gdm registers and every `gdm.*` command with params broken one place at
a time (wrong types, nulls, huge strings, bad ranges and versions, invalid URIs, unknown ids,
deep nesting), broken envelopes (ids of `{}`, methods of `null`, requests to notification
methods), and frame-level garbage (Content-Length too small, too large, negative, missing, not a
number; invalid JSON and UTF-8; long lines without a newline). The client reads stdout strictly:
anything that is not a `Content-Length` frame holding a JSON-RPC object is junk. It answers the
server's own requests like an editor that declines edits. Used by tests/e2e/test_fuzz.py (CI)
and benchmarks/fuzz.py (10,000 messages).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdm.commands import Command

REPO = Path(__file__).resolve().parents[2]
WINDOW = 32  # requests in flight at once
ANSWER_TIMEOUT_S = float(os.environ.get("GDM_FUZZ_TIMEOUT_S") or 60.0)  # a request unanswered this long is a hang (the machine may be loaded)

BAD_VALUES: list[Any] = [None, -1, 2 ** 31, 2 ** 63, -(2 ** 63), 1.5, True, "", "\x00", "%00", [], {}, [[]],
                         {"a": {"b": None}}, "x" * 5000, "\ud800", "file:///%00", "💥" * 50]
BAD_URIS = ["file:///tmp/a%00b.py", "file://", "file:///", "http://example.com/x.py", "a.py", "::::", "file:///[",
            "file:///" + "a" * 5000, "file:///etc/passwd", "file:///nope/../../etc/shadow", "untitled:Untitled-1",
            "file:///tmp/%E2%80%AE.py", "file:///tmp/\u202egnp.py", ""]
UNKNOWN_IDS = ["p-nope", "t-nope", "", "x" * 2000, "../../etc", "p-\x00"]


def frame(obj: Any, length: int | str | None = None) -> bytes:
    """A message as LSP frames it (or with the length given, right or wrong)."""
    body = json.dumps(obj).encode()
    return f"Content-Length: {len(body) if length is None else length}\r\n\r\n".encode() + body


def _rng_range(rng: random.Random) -> dict:
    line = rng.choice([0, 0, 1, 3, 10 ** 6, 2 ** 31 - 1])
    return {"start": {"line": line, "character": rng.choice([0, 5, 10 ** 6])},
            "end": {"line": line + rng.choice([0, 1, 50]), "character": 0}}


class Generator:
    """Seeded messages, valid-looking templates broken one way at a time."""

    def __init__(self, seed: int, root: Path, big: int = 2 << 20) -> None:
        self.rng = random.Random(seed)
        self.root = root
        self.big = big  # the long line without a newline
        self.next_id = 1000
        self.files = [p for p in sorted(root.rglob("*.py"))][:5] or [root / "a.py"]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def uri(self) -> str:
        rng = self.rng
        return rng.choice(self.files).as_uri() if rng.random() < 0.7 else rng.choice(BAD_URIS)

    # -- templates ----------------------------------------------------------------------

    def command_args(self, command: str) -> list:
        rng = self.rng
        payloads = {
            "gdm.ask": {"prompt": rng.choice(["hi", "fix it", "x" * 300]), "uri": self.uri(), "range": _rng_range(rng),
                        "action": rng.choice(["ask", "explain", "comment"])},
            "gdm.cancel": {"taskId": rng.choice(UNKNOWN_IDS)},
            "gdm.patch.accept": {"patchId": rng.choice(UNKNOWN_IDS), "hunks": [0, 1]},
            "gdm.patch.reject": {"patchId": rng.choice(UNKNOWN_IDS)},
            "gdm.patch.list": {},
            "gdm.patch.showRisk": {"patchId": rng.choice(UNKNOWN_IDS)},
            "gdm.task.accept": {"taskId": rng.choice(UNKNOWN_IDS)},
            "gdm.cost": {"taskId": rng.choice(UNKNOWN_IDS)},
            "gdm.task.undo": {"taskId": rng.choice(UNKNOWN_IDS), "revert": rng.choice([True, False, None, "yes"])},
            "gdm.task.commit": rng.choice([{"taskId": rng.choice(UNKNOWN_IDS)}, {"conversationId": "c-x"},
                                           {"taskIds": [rng.choice(UNKNOWN_IDS)], "message": rng.choice(["m", "", 5])},
                                           {"taskId": "t-x", "preview": True, "noVerify": "no"}]),
            "gdm.task.list": {"limit": rng.choice([1, 10, 1000])},
            "gdm.conversation.list": {"limit": rng.choice([1, 10, 1000])},
            "gdm.conversation.get": {"conversationId": rng.choice(UNKNOWN_IDS)},
            "gdm.map": {"focus": [rng.choice(["calc.py", "nope.py", "../x"])], "maxTokens": rng.choice([0, 64, 1024])},
            "gdm.mcp.list": {},
            "gdm.usage": {"since": rng.choice(["2030-01-01", "yesterday", None, 7]),
                          "by": rng.choice(["day", "model", "user", "task", "week"])},
        }
        # A command added later without a payload here is still fuzzed, from an empty object.
        return [payloads.get(command, {})]

    def template(self) -> tuple[str, dict, bool]:
        """(method, params, is_request) of a well-formed message to break."""
        rng, uri = self.rng, self.uri()
        doc = {"uri": uri}
        choice = rng.randrange(12)
        if choice <= 3:
            command = rng.choice(Command.all_ids())
            return "workspace/executeCommand", {"command": command, "arguments": self.command_args(command)}, True
        if choice <= 5:
            return "textDocument/codeAction", {"textDocument": doc, "range": _rng_range(rng), "context": {
                "diagnostics": [{"range": _rng_range(rng), "message": "E1", "source": "fuzz"}] * rng.randint(0, 2),
                "only": rng.choice([None, ["quickfix"], ["refactor"], [""]])}}, True
        if choice == 6:
            return "textDocument/codeLens", {"textDocument": doc}, True
        if choice == 7:
            text = rng.choice(["# gdm: make it so\nx = 1\n", "", "\x00\n" * 3, "y" * 10000])
            return "textDocument/didOpen", {"textDocument": {**doc, "languageId": "python",
                                                             "version": rng.randint(-5, 5), "text": text}}, False
        if choice == 8:
            return "textDocument/didChange", {"textDocument": {**doc, "version": rng.randint(-5, 10 ** 9)},
                                              "contentChanges": [rng.choice([{"text": "z = 2\n"}, {
                                                  "range": _rng_range(rng), "text": "q"}])]}, False
        if choice == 9:
            return "textDocument/didClose", {"textDocument": doc}, False
        if choice == 10:
            return "workspace/didChangeConfiguration", {"settings": {"gdm": {
                rng.choice(["maxTurns", "autonomy", "model", "databaseUrl", "nope"]): rng.choice(BAD_VALUES)}}}, False
        return rng.choice([("$/cancelRequest", {"id": rng.choice([1, "x", {}, None])}, False),
                           ("window/workDoneProgress/cancel", {"token": rng.choice(["t-x", 5, None])}, False),
                           ("$/setTrace", {"value": rng.choice(["off", "verbose", 5])}, False)])

    def _mutate(self, params: Any) -> Any:
        """Replace, delete or deepen one place of params."""
        rng = self.rng
        params = copy.deepcopy(params)
        spots: list[tuple[Any, Any]] = []

        def walk(node: Any) -> None:
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
            for key, value in items:
                spots.append((node, key))
                walk(value)
        walk(params)
        if not spots:
            return rng.choice(BAD_VALUES)
        node, key = rng.choice(spots)
        roll = rng.random()
        if roll < 0.15 and isinstance(node, dict):
            del node[key]
        elif roll < 0.25:
            deep: Any = "bottom"
            for _ in range(rng.choice([70, 500])):
                deep = [deep]
            node[key] = deep
        elif roll < 0.4 and isinstance(node[key], str) and "uri" in str(key).lower():
            node[key] = rng.choice(BAD_URIS)
        elif roll < 0.5:
            node[key] = "x" * rng.choice([10 ** 4, 10 ** 5])
        else:
            node[key] = rng.choice(BAD_VALUES)
        return params

    # -- one item: (bytes, request ids) ------------------------------------------------

    def item(self) -> tuple[bytes, list[int]]:
        rng = self.rng
        roll = rng.random()
        method, params, is_request = self.template()
        msg_id = self.new_id()
        if roll < 0.55:
            params = self._mutate(params) if rng.random() < 0.85 else params
            message = {"jsonrpc": "2.0", **({"id": msg_id} if is_request else {}), "method": method, "params": params}
            return frame(message), [msg_id] if is_request else []
        if roll < 0.75:
            return self._bad_envelope(method, params, msg_id)
        # A well-formed request right after the broken frame: the framing must be found again.
        data, ids = self._bad_frame(method, params, msg_id)
        probe = self.new_id()
        return data + frame({"jsonrpc": "2.0", "id": probe, "method": "workspace/executeCommand",
                             "params": {"command": "gdm.cost", "arguments": [{}]}}), ids + [probe]

    def _bad_envelope(self, method: str, params: Any, msg_id: int) -> tuple[bytes, list[int]]:
        rng = self.rng
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
        case = rng.randrange(10)
        if case == 0:
            message["id"] = rng.choice([{}, [], None, 1.5, True, {"a": 1}])
            return frame(message), []  # answered with id null: counted as an answer without an id
        if case == 1:
            message["method"] = rng.choice([None, 5, [], {}, ""])
        elif case == 2:
            message["method"] = rng.choice(["textDocument/hover", "nope/nope", "gdm.ask", "textDocument/didOpen",
                                            "initialized", "exit!"])
            if rng.random() < 0.5:
                message.pop("params")
        elif case == 3:
            message["jsonrpc"] = rng.choice(["1.0", None, 2, ""])
        elif case == 4:
            message["params"] = rng.choice([5, "x", True])
        elif case == 5:
            message.pop("jsonrpc")
        elif case == 6:
            message["method"] = rng.choice(["textDocument/didOpen", "textDocument/didChange", "$/cancelRequest"])
        elif case == 7:
            return frame([message]), []  # a batch
        elif case == 8:
            return frame(rng.choice([5, "x", None, True])), []
        else:
            message["params"] = {"command": rng.choice(Command.all_ids()), "arguments": rng.choice(
                [None, 5, "x", [], [1, 2], [{}], [{}, {}], [[{"a": 1}]]])}
            message["method"] = "workspace/executeCommand"
        return frame(message), [msg_id]

    def _bad_frame(self, method: str, params: Any, msg_id: int) -> tuple[bytes, list[int]]:
        rng = self.rng
        message = {"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand",
                   "params": {"command": "gdm.patch.list", "arguments": [{}]}}
        body = json.dumps(message).encode()
        case = rng.randrange(11)
        if case == 0:
            return frame(message, max(1, len(body) - rng.randint(1, len(body) - 1))), [msg_id]
        if case == 1:
            return frame(message, len(body) + rng.randint(1, 5000)), [msg_id]
        if case == 2:
            return frame(message, -rng.randint(1, 100)), [msg_id]
        if case == 3:
            return frame(message, rng.choice(["abc", "", "1e3", "0x10", "99999999999999999999999"])), [msg_id]
        if case == 4:
            return b"\r\n" + body, [msg_id]  # no header at all
        if case == 5:
            return b"Content-Type: application/json\r\n\r\n" + body, [msg_id]  # no Content-Length
        if case == 6:
            junk = rng.choice([b"{not json}", b'{"jsonrpc": "2.0", "id": 1,', b"]]]", b"\x00\x01\x02", b"{" * 40])
            return f"Content-Length: {len(junk)}\r\n\r\n".encode() + junk, []
        if case == 7:
            bad = body.replace(b"gdm.patch.list", b"gdm.patch.\xff\xfelist")
            return f"Content-Length: {len(bad)}\r\n\r\n".encode() + bad, [msg_id]
        if case == 8:
            return b"x" * rng.choice([100, 20_000, self.big]), []  # a line without a newline
        if case == 9:
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) + b"\r\n\r\n", []
        return frame(message, 0), [msg_id]


@dataclass
class Report:
    """What the fuzz run found (goal: crashes, hangs, internal errors and junk all 0)."""

    sent: int = 0
    requests: int = 0
    answered: int = 0
    crashes: int = 0
    hangs: int = 0
    internal_errors: int = 0
    junk: int = 0
    null_id_errors: int = 0
    codes: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self) -> bool:
        """True when nothing broke."""
        return not (self.crashes or self.hangs or self.internal_errors or self.junk)


class RawClient:
    """The server process with a strict reader of its stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, report: Report) -> None:
        self.proc = proc
        self.report = report
        self.pending: dict[Any, float] = {}
        self.sent: dict[Any, bytes] = {}  # what each pending request was (for the report)
        self.answered = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    async def drain(self) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.drain()

    def _junk(self, what: str) -> None:
        self.report.junk += 1
        if len(self.report.examples) < 20:
            self.report.examples.append(f"junk on stdout: {what[:200]}")

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = await out.readuntil(b"\r\n\r\n") if not out.at_eof() else b""
            if not header:
                return
            lines = header.decode("ascii", "replace").split("\r\n")
            lengths = [ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("content-length:")]
            if not lengths or not lengths[0].isdigit():
                self._junk(repr(header))
                return
            body = await out.readexactly(int(lengths[0]))
            try:
                message = json.loads(body)
            except ValueError:
                self._junk(repr(body))
                continue
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                self._junk(repr(body))
                continue
            self._take(message)

    def _take(self, message: dict) -> None:
        if "method" in message:
            if "id" in message:  # a request from the server: answer like an editor that declines edits
                result = {"applied": False} if message["method"] == "workspace/applyEdit" else (
                    [None] if message["method"] == "workspace/configuration" else None)
                self.write(frame({"jsonrpc": "2.0", "id": message["id"], "result": result}))
            return
        if "result" not in message and "error" not in message or "id" not in message:
            self._junk(json.dumps(message))
            return
        error = message.get("error")
        code = error.get("code") if isinstance(error, dict) else "result"
        self.report.codes[code] += 1
        if message["id"] is None:
            self.report.null_id_errors += 1
            return
        if code == -32603:
            self.report.internal_errors += 1
            if len(self.report.examples) < 20:
                self.report.examples.append(f"internal error: {json.dumps(message)[:300]}")
        self.sent.pop(message["id"], None)
        if self.pending.pop(message["id"], None) is not None:
            self.report.answered += 1
        self.answered.set()


async def run_fuzz(count: int, seed: int, root: Path, env: dict[str, str], big: int = 2 << 20,
                   stderr: Path | None = None) -> Report:
    """Start `python -m gdm` in `root`, initialize it, send `count` fuzzed messages, check every answer."""
    report = Report()
    started = time.monotonic()
    err = open(stderr, "wb") if stderr is not None else asyncio.subprocess.DEVNULL  # noqa: SIM115
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "gdm", stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=err,
                                                env=env, cwd=root, limit=1 << 24)
    client = RawClient(proc, report)
    init = {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {
        "workspace": {"applyEdit": True, "configuration": True, "workspaceEdit": {"documentChanges": True}},
        "window": {"workDoneProgress": True, "showMessage": {}}}}
    client.pending[0] = time.monotonic()
    report.requests += 2  # initialize, and shutdown at the end
    client.write(frame({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}))
    client.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    gen = Generator(seed, root, big)
    try:
        for _ in range(count):
            while len(client.pending) >= WINDOW and proc.returncode is None:
                await _wait_answer(client, report)
            data, ids = gen.item()
            for msg_id in ids:
                client.pending[msg_id] = time.monotonic()
                client.sent[msg_id] = data[:300] + (b"..." if len(data) > 300 else b"")
            report.sent += 1
            report.requests += len(ids)
            client.write(data)
            # Frame garbage may swallow the next message's header: a probe right after shows it did not.
            await client.drain()
            if proc.returncode is not None:
                break
        while client.pending and proc.returncode is None:
            await _wait_answer(client, report)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if proc.returncode is None and not report.hangs:
            await _shutdown(client)
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        client.reader.cancel()
    if proc.returncode not in (0, -9) and proc.returncode is not None:
        report.crashes += 1
        report.examples.append(f"server exited with {proc.returncode}")
    report.seconds = time.monotonic() - started
    return report


async def _wait_answer(client: RawClient, report: Report) -> None:
    client.answered.clear()
    try:
        await asyncio.wait_for(client.answered.wait(), 1.0)
    except asyncio.TimeoutError:
        pass
    if client.proc.returncode is not None:
        report.crashes += 1
        report.examples.append(f"server died with {client.proc.returncode}; {len(client.pending)} unanswered")
        client.pending.clear()
        return
    now = time.monotonic()
    stale = [i for i, sent in client.pending.items() if now - sent > ANSWER_TIMEOUT_S]
    for msg_id in stale:
        report.hangs += 1
        report.examples.append(f"request {msg_id} unanswered after {ANSWER_TIMEOUT_S:g} s: "
                               f"{client.sent.pop(msg_id, b'')!r}")
        client.pending.pop(msg_id)


async def _shutdown(client: RawClient) -> None:
    client.pending["shutdown"] = time.monotonic()
    client.write(frame({"jsonrpc": "2.0", "id": "shutdown", "method": "shutdown"}))
    try:
        await asyncio.wait_for(_until(lambda: "shutdown" not in client.pending, client), 30)
        client.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        await client.drain()
        await asyncio.wait_for(client.proc.wait(), 30)
    except (asyncio.TimeoutError, ConnectionError):
        client.report.hangs += 1
        client.report.examples.append("shutdown/exit not answered")


async def _until(predicate: Any, client: RawClient) -> None:
    while not predicate():
        client.answered.clear()
        await client.answered.wait()
