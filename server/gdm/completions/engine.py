"""The completion engine of a session: what answers `textDocument/inlineCompletion`, below LSP.

Per request, in order, the first that answers wins:
1. completions off, no model, a secrets file: nothing;
2. typing-through: the user typed the start of the document's last suggestion → the rest of it;
3. the cache (state.py): the same place again, or the same text around the cursor;
4. the debounce (automatic requests): a request typed over meanwhile (a newer request for the
   document, or `$/cancelRequest`, which cancels this coroutine) ends here, before any model call;
5. the call in flight for the document, if this request types forward from where it was asked:
   waited for, then typing-through on its answer; otherwise it is cancelled (at most one call in
   flight per document);
6. the day budget (no call, no answer; the caller tells the user once a day);
7. one model call (caller.py) with the prompt and context (built in a worker thread), cleaned
   (clean.py), its cost recorded (accounting.py) and cached.
A request cancelled while it waits for the call cancels the call, after the debounce, unless another
request waits for it by then (the next keystroke's, typing on from it). Only the event loop touches this object.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gdm.completions import context
from gdm.completions.accounting import Accounting
from gdm.completions.caller import ModelCaller, Prompt
from gdm.completions.clean import clean
from gdm.completions.prompt import Window, window
from gdm.completions.state import Answer, Cached, DocState, Flight, Request, Shown, SuggestionCache
from gdm.config import Settings
from gdm.context.repomap.service import CodeMap
from gdm.context.secrets import Redactor
from gdm.models.llm import LLMError

if TYPE_CHECKING:
    from gdm.agent.session import Session

log = logging.getLogger(__name__)

DEBOUNCE_S = 0.15
RECENT_FILES = 3
DOCS_KEPT = 64


@dataclass(frozen=True)
class Parts:
    """What the engine is given by its session."""

    settings: Callable[[], Settings]
    caller: ModelCaller
    accounting: Accounting
    code_map: CodeMap
    texts: Callable[[str], str | None]  # uri -> the editor's text of an open document
    root: Path


class CompletionEngine:
    """Inline completions for one session (see the module docstring)."""

    def __init__(self, parts: Parts, *, debounce_s: float = DEBOUNCE_S) -> None:
        self.parts = parts
        self.debounce_s = debounce_s
        self.cache = SuggestionCache()
        self.docs: OrderedDict[str, DocState] = OrderedDict()
        self.recent: OrderedDict[str, tuple[str, int]] = OrderedDict()  # path -> (uri, line) worked at
        self.index = context.DefinitionIndex()
        self.stats: Counter[str] = Counter()  # answers by source, model calls
        self.timings: deque[tuple[float, float]] = deque(maxlen=2000)  # (prepare ms, finish ms) per call
        self._redactor: Redactor | None = None

    def _doc(self, uri: str) -> DocState:
        doc = self.docs.get(uri)
        if doc is None:
            doc = self.docs[uri] = DocState()
            while len(self.docs) > DOCS_KEPT:
                self.docs.popitem(last=False)
        self.docs.move_to_end(uri)
        return doc

    async def complete(self, request: Request) -> Answer:
        """The answer to one request (CancelledError when the request is cancelled)."""
        answer = await self._complete(request)
        self.stats[answer.source] += 1
        return answer

    async def _complete(self, request: Request) -> Answer:
        settings = self.parts.settings()
        if not settings.completions_on():
            return Answer("off")
        if not self.parts.caller.model(settings):
            return Answer("no model", detail="no completionModel, cheapModel or model is set")
        doc = self._doc(request.uri)
        doc.generation += 1
        mine = doc.generation
        self._worked_at(request)
        served = self._served(doc, request)
        if served is not None:
            return served
        flight = doc.flight
        forward = flight is not None and not flight.task.done() and flight.typed_on_by(request)
        if not request.invoked and not forward:  # typing on from a call in flight joins it at once
            await asyncio.sleep(self.debounce_s)
            if doc.generation != mine:
                return Answer("superseded")
        flight = doc.flight
        if flight is not None and not flight.task.done():
            if flight.typed_on_by(request):
                await self._wait(flight)
                if doc.generation != mine:
                    return Answer("superseded")
                served = self._served(doc, request)
                if served is not None:
                    return served
            if doc.flight is flight and not flight.task.done():
                flight.task.cancel()
        return await self._fetch(doc, request, settings, mine)

    def _served(self, doc: DocState, request: Request) -> Answer | None:
        """Typing-through on the document's last suggestion, else the cache; None: neither."""
        shown = doc.latest
        typed = shown.typed(request) if shown is not None else None
        if shown is not None and typed is not None:
            if len(typed) < len(shown.text):
                if shown.seen and len(typed) > shown.taken:
                    shown.taken = len(typed)
                    self.parts.accounting.mark(shown.completion_id, "partial", typed)
                return self.deliver(shown, Answer("typing", shown.text[len(typed):], shown.replace,
                                                  shown.completion_id))
            if shown.seen and not shown.accepted:  # typed (or accepted) to its end
                self.accepted(shown.completion_id)
        cached = self.cache.get(request)
        if cached is None:
            return None
        fresh = Shown(cached.completion_id, request.prefix, request.suffix, cached.text, cached.replace)
        doc.latest = fresh
        return self.deliver(fresh, Answer("cache", cached.text, cached.replace, cached.completion_id))

    def deliver(self, shown: Shown, answer: Answer) -> Answer:
        """`answer` goes to the editor: its suggestion counts as shown (once)."""
        if not shown.seen:
            shown.seen = True
            self.parts.accounting.mark(shown.completion_id, "shown")
        return answer

    def accepted(self, completion_id: str, chars: int | None = None) -> bool:
        """The editor accepted a suggestion (its `command`), or `chars` of it (a partial accept)."""
        for doc in self.docs.values():
            shown = doc.latest
            if shown is None or shown.completion_id != completion_id:
                continue
            whole = chars is None or chars >= len(shown.text)
            if whole and not shown.accepted:
                shown.accepted, shown.taken = True, len(shown.text)
                self.parts.accounting.mark(completion_id, "accepted", shown.text)
            elif not whole and chars is not None and chars > shown.taken:
                shown.taken = chars
                self.parts.accounting.mark(completion_id, "partial", shown.text[:chars])
            return True
        return False

    async def _wait(self, flight: Flight) -> None:
        """Wait for a call in flight as one of its requests (its outcome, even a failure or a cancel by
        a newer request, is the caller's to read). When its last request is cancelled the call is
        cancelled too, after `debounce_s`: an editor cancels the open request at every keystroke
        (VS Code does), and the request of the keystroke that types on from the call joins it then,
        instead of a call per pause in the typing that is shorter than the model's answer."""
        flight.waiters += 1
        try:
            await asyncio.wait({flight.task})
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                asyncio.get_running_loop().call_later(self.debounce_s, self._abandon, flight)

    @staticmethod
    def _abandon(flight: Flight) -> None:
        """Cancel a call no request has waited for since its last one was cancelled."""
        if flight.waiters == 0 and not flight.task.done():
            flight.task.cancel()

    async def _fetch(self, doc: DocState, request: Request, settings: Settings, mine: int) -> Answer:
        task = asyncio.ensure_future(self._call_kept(doc, request, settings))
        flight = doc.flight = Flight(request.prefix, request.suffix, task)
        await self._wait(flight)
        if doc.flight is flight:
            doc.flight = None
        if task.cancelled():
            return Answer("superseded")
        if task.exception() is not None:
            error = task.exception()
            return Answer("error", detail=getattr(error, "message", str(error)))
        shown = task.result()
        if shown is None:
            return Answer("empty")
        if isinstance(shown, Answer):
            return shown
        if doc.generation != mine:
            return Answer("superseded")
        return self.deliver(shown, Answer("model", shown.text, shown.replace, shown.completion_id))

    async def _call_kept(self, doc: DocState, request: Request, settings: Settings) -> Shown | Answer | None:
        """The call, its suggestion kept as the document's latest and cached when it answers, even
        if the request that made it was cancelled meanwhile (the next keystroke's request reads it)."""
        shown = await self._call(request, settings)
        if isinstance(shown, Shown):
            doc.latest = shown
            self.cache.put(request, Cached(shown.completion_id, shown.text, shown.replace))
        return shown

    async def _call(self, request: Request, settings: Settings) -> Shown | Answer | None:
        """Build the prompt, check the budget, call the model, clean and record its answer."""
        started = time.perf_counter()
        win = window(request.text, request.offset)
        recent = self._recent_places(request.path)
        model = self.parts.caller.model(settings) or ""
        prompt, stop = await asyncio.to_thread(self._prepare, request.path, win, recent, model)
        if stop is not None:
            return Answer("budget", detail=stop)
        self.stats["calls"] += 1
        prepared = time.perf_counter()
        try:
            called = await self.parts.caller.call(settings, self.parts.accounting.spending.prices, prompt)
        except LLMError as error:
            log.info("completions: no suggestion from %s: %s", model, error.message)
            raise
        answered = time.perf_counter()
        suggestion = clean(called.reply.text, win, chat=called.mode == "chat")
        completion_id = f"c-{uuid.uuid4().hex[:12]}"
        text = suggestion.text if suggestion is not None else ""
        self.parts.accounting.record(completion_id, request.path, called, text)  # stored after the answer
        self.timings.append(((prepared - started) * 1000, (time.perf_counter() - answered) * 1000))
        if suggestion is None:
            return None
        return Shown(completion_id, request.prefix, request.suffix, suggestion.text, suggestion.replace)

    def _prepare(self, path: str | None, win: Window, recent: list[context.Recent],
                 model: str) -> tuple[Prompt, str | None]:
        """In a worker thread: the context, the window redacted, and the budget's verdict."""
        if self._redactor is None:
            self._redactor = Redactor.for_workspace(self.parts.root)
        snapshot = self.parts.code_map.index.tags_now()
        snippets = context.gather(self.index, snapshot, path, win, recent)
        redact = self._redactor.redact
        safe = replace(win, prefix=redact(win.prefix), suffix=redact(win.suffix))
        prompt = Prompt(path, safe, [redact(s) for s in snippets])
        return prompt, self.parts.accounting.budget_stop(model, prompt.chars())

    def _worked_at(self, request: Request) -> None:
        if request.path is None:
            return
        self.recent[request.path] = (request.uri, request.text.count("\n", 0, request.offset))
        self.recent.move_to_end(request.path)
        while len(self.recent) > RECENT_FILES + 1:
            self.recent.popitem(last=False)

    def _recent_places(self, path: str | None) -> list[context.Recent]:
        """The other files worked at last, newest first, with the editor's text of each (on the loop)."""
        out = []
        for other, (uri, line) in reversed(self.recent.items()):
            text = self.parts.texts(uri) if other != path else None
            if text is not None:
                out.append(context.Recent(other, text, line))
        return out[:RECENT_FILES]


def for_session(session: Session, texts: Callable[[str], str | None]) -> CompletionEngine:
    """The engine of a session: its settings, model clients, ledger, store and code map."""
    accounting = Accounting(session.store, session.id, session.spending)
    return CompletionEngine(Parts(lambda: session.settings, ModelCaller(session.models), accounting,
                                  session.knowledge.code_map, texts, session.view.root))
