"""The scripted model's HTTP server: OpenAI- and Anthropic-compatible endpoints on loopback, stdlib only.

Answers `POST /v1/chat/completions` (OpenAI chat) and `POST /v1/messages` (Anthropic messages)
from a script (see script.py), streaming or not, `POST /v1/completions` (text completions with a
`suffix`: fill in the middle, completions.py) from its `completions` rules, and can inject faults (error statuses, garbage, empty choices, delays, cut streams) for the tests.
Every request body is recorded so tests can check what the agent actually sent.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass
from typing import Any, Callable

from gdm.scripted import anthropic
from gdm.scripted import completions as text_completions
from gdm.scripted.responses import (
    build_reply,
    completion_body,
    empty_choices_body,
    error_body,
    stream_chunks,
)
from gdm.scripted.script import ScriptMismatch, Selection, check_expectations, load_script, select_turn



@dataclass(frozen=True)
class Dialect:
    """One wire format: how to read a request's messages and write replies, errors and streams."""

    name: str
    messages: Callable[[dict], list[dict]]
    body: Callable[..., dict]  # (reply, model, selection) -> the whole response
    frames: Callable[..., list[str]]  # (reply, model, selection) -> SSE frames, terminator included
    empty: Callable[[str, Selection], dict]
    error: Callable[[str, int], dict]


def _openai_frames(reply: Any, model: str, selection: Selection) -> list[str]:
    chunks = stream_chunks(reply, model, selection)
    return [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]


def _openai_empty_frames(model: str, selection: Selection) -> list[str]:
    body = {**empty_choices_body(model, selection), "object": "chat.completion.chunk"}
    return [f"data: {json.dumps(body)}\n\n", "data: [DONE]\n\n"]


OPENAI = Dialect("openai", lambda body: body["messages"], completion_body, _openai_frames,
                 empty_choices_body, error_body)
ANTHROPIC = Dialect("anthropic", anthropic.to_chat_messages, anthropic.message_body, anthropic.stream_frames,
                    anthropic.empty_body, anthropic.error_body)
ROUTES = {"/v1/chat/completions": OPENAI, "/chat/completions": OPENAI,
          "/v1/messages": ANTHROPIC, "/messages": ANTHROPIC}
TEXT_ROUTES = ("/v1/completions", "/completions")

GARBAGE = b"<html><body>502 upstream says hello</body></html> this is not JSON"
KNOWN_MODELS = ("scripted", "scripted-fallback")


class ScriptedModel:
    """A scripted OpenAI-compatible model served from a daemon thread.

    Use as a context manager, or call start() and stop(). `requests` holds every chat request
    body received, in order; `failures` every unmet expectation.
    """

    def __init__(self, script: dict | str | os.PathLike, host: str = "127.0.0.1", port: int = 0):
        self.script = load_script(script)
        self.host = host
        self.port = port
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []  # every POST's HTTP headers, in order (keys sent, tests)
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._fault_counts: dict[tuple[int, int], int] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. http://127.0.0.1:PORT/v1 (only once started)."""
        if self._httpd is None:
            raise RuntimeError("ScriptedModel is not started: call start() first")
        return f"http://{self.host}:{self._httpd.server_address[1]}/v1"

    def start(self) -> str:
        """Bind, serve in a daemon thread, and return the base URL."""
        if self._httpd is not None:
            return self.base_url
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.scripted = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="gdm-scripted-model", daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "ScriptedModel":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- called from handler threads -------------------------------------------------------

    def record_request(self, body: dict) -> None:
        """Remember a request body (thread-safe)."""
        with self._lock:
            self.requests.append(body)

    def record_headers(self, headers: dict[str, str]) -> None:
        """Remember a POST's headers (thread-safe)."""
        with self._lock:
            self.headers.append(headers)

    def record_failure(self, failure: str) -> None:
        """Remember an expectation failure (thread-safe)."""
        with self._lock:
            self.failures.append(failure)

    def take_fault(self, selection: Selection, request_model: str) -> dict | None:
        """Return the turn's fault if it should fire for this request, counting it (thread-safe)."""
        fault = selection.spec.get("fault")
        if not fault:
            return None
        if "model" in fault and fault["model"] != request_model:
            return None
        key = (selection.conversation, selection.turn)
        with self._lock:
            served = self._fault_counts.get(key, 0)
            if served >= fault.get("times", 1):
                return None
            self._fault_counts[key] = served + 1
        return fault

    def snapshot(self) -> tuple[list[dict], list[str]]:
        """Copies of the recorded requests and failures."""
        with self._lock:
            return list(self.requests), list(self.failures)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    scripted: ScriptedModel

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hung up (timeouts, cancelled tasks); report anything else."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One HTTP request against the scripted model."""

    protocol_version = "HTTP/1.1"
    # Without this every loopback call waits ~40 ms on delayed ACKs (shared/NOTES.md).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: the scripted model runs inside tests and demos whose output matters."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        model = self.server.scripted
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            data = [{"id": name, "object": "model", "created": 0, "owned_by": "gdm"} for name in KNOWN_MODELS]
            self._send_json(200, {"object": "list", "data": data})
        elif path == "/_gdm/requests":
            self._send_json(200, model.snapshot()[0])
        elif path == "/_gdm/failures":
            self._send_json(200, model.snapshot()[1])
        else:
            self._send_json(404, error_body(f"scripted model: no route GET {path}", 404))

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        path = self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.scripted.record_headers(dict(self.headers.items()))
        if path in TEXT_ROUTES:
            self._text_completion(raw)
            return
        dialect = ROUTES.get(path)
        if dialect is None:
            self._send_json(404, error_body(f"scripted model: no route POST {path}", 404))
            return
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self.server.scripted.record_request({"_unparseable": raw.decode("utf-8", "replace")})
            self._send_json(400, dialect.error(f"scripted model: the request body is not a {dialect.name} "
                                               "chat request", 400))
            return
        self.server.scripted.record_request(body)
        self._answer(body, dialect)

    def _answer(self, body: dict, dialect: Dialect) -> None:
        model = self.server.scripted
        messages = dialect.messages(body)
        request_model = str(body.get("model", "scripted"))
        streaming = bool(body.get("stream"))
        try:
            selection = select_turn(model.script, messages)
        except ScriptMismatch as exc:
            self._send_json(400, dialect.error(str(exc), 400))
            return
        fault = model.take_fault(selection, request_model) or {}
        if fault.get("delay_s"):
            time.sleep(fault["delay_s"])
        if fault.get("status"):
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            status = fault["status"]
            self._send_json(status, dialect.error(f"scripted model: injected HTTP {status}", status), headers)
            return
        if fault.get("garbage"):
            self._send_garbage(streaming)
            return
        problems = check_expectations(selection.spec, messages)
        if problems:
            where = f"conversation {selection.conversation} turn {selection.turn}"
            message = f"scripted model: expectation failed: {where}: " + "; ".join(problems)
            model.record_failure(message)
            self._send_json(400, dialect.error(message, 400))
            return
        if fault.get("empty_choices"):
            if streaming and dialect is OPENAI:
                self._send_stream(_openai_empty_frames(request_model, selection), cut=False)
            else:
                self._send_json(200, dialect.empty(request_model, selection))
            return
        reply = build_reply(selection, messages)
        if streaming:
            self._send_stream(dialect.frames(reply, request_model, selection), cut=bool(fault.get("cut_stream")),
                              pace=float(fault.get("chunk_delay_s", 0)))
        elif fault.get("cut_stream"):
            self._send_truncated(json.dumps(dialect.body(reply, request_model, selection)).encode())
        else:
            self._send_json(200, dialect.body(reply, request_model, selection))

    def _text_completion(self, raw: bytes) -> None:
        """`POST /v1/completions`: prompt (+ suffix) → text, from the script's `completions` rules."""
        model = self.server.scripted
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), (str, list)):
            model.record_request({"_unparseable": raw.decode("utf-8", "replace")})
            self._send_json(400, error_body("scripted model: the request body is not a text completion request", 400))
            return
        model.record_request(body)
        prompt, suffix = text_completions.prompt_text(body), str(body.get("suffix") or "")
        found = text_completions.select_rule(model.script, prompt, suffix)
        if found is None:
            self._send_json(400, error_body(f"scripted model: no completion rule fits the prompt ending "
                                            f"{prompt[-60:]!r}", 400))
            return
        index, rule = found
        fault = model.take_fault(Selection(-1, index, rule), str(body.get("model", "scripted"))) or {}
        if fault.get("delay_s"):
            time.sleep(fault["delay_s"])
        if fault.get("status"):
            status = fault["status"]
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            self._send_json(status, error_body(f"scripted model: injected HTTP {status}", status), headers)
            return
        if fault.get("garbage"):
            self._send_garbage(False)
            return
        if fault.get("empty_choices"):
            hollow = text_completions.body("", str(body.get("model", "scripted")), index, prompt, rule.get("usage"))
            self._send_json(200, {**hollow, "choices": []})
            return
        text = text_completions.answer_text(rule, prompt)
        self._send_json(200, text_completions.body(text, str(body.get("model", "scripted")), index, prompt,
                                                   rule.get("usage")))

    # -- writers ----------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_garbage(self, streaming: bool) -> None:
        if streaming:
            self._send_stream([f"data: {GARBAGE.decode()}\n\n"], cut=False)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(GARBAGE)))
        self.end_headers()
        self.wfile.write(GARBAGE)

    def _send_stream(self, frames: list[str], cut: bool, pace: float = 0.0) -> None:
        """Send whole SSE frames with chunked encoding; `cut` drops the connection halfway through;
        `pace` sleeps between frames, like a model producing tokens."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if cut:
            for frame in frames[: max(1, len(frames) // 2)]:
                self._write_chunk(frame.encode())
            # Promise more bytes than we send, then hang up: the client sees a broken body.
            self.wfile.write(b"400\r\ndata: {\"choi")
            self.wfile.flush()
            self.close_connection = True
            return
        for frame in frames:
            self._write_chunk(frame.encode())
            if pace:
                time.sleep(pace)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_truncated(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
