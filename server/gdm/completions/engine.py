"""Whether an inline-completion request reaches the model, and what it answers.

Per document, in order:
1. **cache**: the same (version, line, column) again — a client that asks twice — answers from it;
2. **typing-through**: the user typed the first characters of the suggestion shown last: the rest
   of it, without a call;
3. **debounce**: wait `debounce_s`; a newer request for the document in the meantime supersedes this
   one (an empty answer), and a `$/cancelRequest` cancels the wait (the handler's task): a request
   typed over never reaches the model;
4. **budget**: the day budget (this user's) decides before the call; over it, an empty answer and one
   log line, never a message per keystroke;
5. **one call in flight** per document: a call still running for an older request is cancelled
   (and with it its HTTP request) when a newer one gets this far.
Each call is charged like a task's model calls, under the task id `completions`, so `gdm usage`
and the day's totals count it; `stats` holds the session's line of `gdm.cost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gdm.completions.prompt import Prompt, build, split, trim
from gdm.models.llm_errors import LLMError

log = logging.getLogger(__name__)

COMPLETIONS = "completions"  # the task id completion calls are charged under
DEBOUNCE_S = 0.15
CACHE_ENTRIES = 256
MAX_OUTPUT_TOKENS = 128
STOP = ["\n\n\n"]


@dataclass(frozen=True)
class Request:
    """A snapshot of the document at the request: never the live buffer."""

    path: str
    version: int | None
    text: str
    line: int  # 0-based
    character: int  # code points


@dataclass(frozen=True)
class Suggestion:
    """Text to insert at the cursor; `replace_chars` of the line after it are replaced by it."""

    text: str
    replace_chars: int = 0


@dataclass
class Stats:
    """This session's completions, the `completions` line of `gdm.cost`."""

    requests: int = 0
    calls: int = 0
    cached: int = 0
    typed_through: int = 0
    superseded: int = 0
    shown: int = 0
    accepted: int = 0
    accepted_chars: int = 0
    budget_stops: int = 0
    errors: int = 0

    def wire(self, usd: float) -> dict[str, Any]:
        return {"requests": self.requests, "calls": self.calls, "usd": round(usd, 6), "cached": self.cached,
                "typedThrough": self.typed_through, "superseded": self.superseded, "shown": self.shown,
                "accepted": self.accepted, "acceptedChars": self.accepted_chars, "budgetStops": self.budget_stops,
                "errors": self.errors}


@dataclass
class _Doc:
    generation: int = 0
    shown: tuple[str, str] | None = None  # (prefix when shown, suggestion)
    cache: OrderedDict[tuple[int | None, int, int], list[Suggestion]] = field(default_factory=OrderedDict)
    calling: asyncio.Task[Any] | None = None


@dataclass
class Outcome:
    """The answer, and whether a model call was made (the meter moves then)."""

    suggestions: list[Suggestion]
    called: bool = False


class CompletionEngine:
    """The session's inline completions. `client()` gives the model client of the moment (None:
    completions are off or no model is set); `lookup(name)` the code map's definitions;
    `day_stop(estimate)` the budget's verdict; `charge(reply)` records a call's cost."""

    def __init__(self, client: Callable[[], Any], lookup: Callable[[str], list[str]] | None,
                 day_stop: Callable[[float], str | None], charge: Callable[[Any], None],
                 debounce_s: float = DEBOUNCE_S) -> None:
        self.client, self.lookup, self.day_stop, self.charge = client, lookup, day_stop, charge
        self.debounce_s = debounce_s
        self.stats = Stats()
        self._docs: dict[str, _Doc] = {}
        self._told_budget = False

    async def complete(self, request: Request) -> Outcome:
        """The suggestions for `request` (see the module docstring for when the model is asked)."""
        self.stats.requests += 1
        doc = self._docs.setdefault(request.path, _Doc())
        key = (request.version, request.line, request.character)
        if request.version is not None and key in doc.cache:
            self.stats.cached += 1
            doc.cache.move_to_end(key)
            return Outcome(doc.cache[key])
        prefix, suffix = split(request.text, request.line, request.character)
        through = self._typed_through(doc, prefix)
        if through is not None:
            self.stats.typed_through += 1
            return Outcome(self._remember(doc, key, prefix, through, suffix))
        doc.generation += 1
        generation = doc.generation
        await asyncio.sleep(self.debounce_s)  # cancelled here by $/cancelRequest: no call
        if doc.generation != generation:
            self.stats.superseded += 1
            return Outcome([])
        client = self.client()
        if client is None:
            return Outcome([])
        prompt = await asyncio.to_thread(build, request.path, request.text, request.line, request.character,
                                         self.lookup)
        if doc.generation != generation:
            self.stats.superseded += 1
            return Outcome([])
        stop = self._budget(client, prompt)
        if stop is not None:
            return Outcome([])
        return await self._call(doc, client, prompt, key, prefix, suffix)

    def accepted(self, chars: int) -> None:
        """The user took a suggestion (or `chars` of it)."""
        self.stats.accepted += 1
        self.stats.accepted_chars += max(0, chars)

    def forget(self, path: str) -> None:
        """A document closed: its cache and its call in flight go."""
        doc = self._docs.pop(path, None)
        if doc is not None and doc.calling is not None:
            doc.calling.cancel()

    # -- steps --------------------------------------------------------------------------

    def _typed_through(self, doc: _Doc, prefix: str) -> str | None:
        if doc.shown is None:
            return None
        shown_prefix, text = doc.shown
        if not prefix.startswith(shown_prefix) or len(prefix) == len(shown_prefix):
            return None
        typed = prefix[len(shown_prefix):]
        if not text.startswith(typed) or len(typed) >= len(text):
            return None
        return text[len(typed):]

    def _budget(self, client: Any, prompt: Prompt) -> str | None:
        config = client.config
        estimate = client.prices.estimate(config.model or "", (len(prompt.prefix) + len(prompt.suffix)) // 3,
                                          MAX_OUTPUT_TOKENS) or 0.0
        stop = self.day_stop(estimate)
        if stop is not None:
            self.stats.budget_stops += 1
            if not self._told_budget:  # once a session: a message per keystroke would be noise
                self._told_budget = True
                log.warning("inline completions paused: %s", stop)
        return stop

    async def _call(self, doc: _Doc, client: Any, prompt: Prompt, key: tuple[int | None, int, int],
                    prefix: str, suffix: str) -> Outcome:
        if doc.calling is not None and not doc.calling.done():
            doc.calling.cancel()  # at most one call in flight per document: the newer request wins
        doc.calling = asyncio.current_task()
        self.stats.calls += 1
        try:
            reply = await client.fill(prompt.prefix, prompt.suffix, STOP)
        except LLMError as exc:  # the model failed: an empty answer now, the next keystroke asks again
            self.stats.errors += 1
            log.warning("inline completion failed: %s", exc)
            return Outcome([], called=True)
        finally:
            if doc.calling is asyncio.current_task():
                doc.calling = None
        await asyncio.to_thread(self.charge, reply)  # a store write: off the event loop
        text = trim(reply.text, suffix)
        return Outcome(self._remember(doc, key, prefix, text, suffix) if text else [], called=True)

    def _remember(self, doc: _Doc, key: tuple[int | None, int, int], prefix: str, text: str,
                  suffix: str) -> list[Suggestion]:
        rest = suffix.split("\n", 1)[0]
        first = text.split("\n", 1)[0]
        replace = len(rest) if rest.strip() and "\n" not in text and first.endswith(rest) else 0
        suggestions = [Suggestion(text, replace)] if text else []
        doc.shown = (prefix, text) if text else None
        self.stats.shown += bool(suggestions)
        doc.cache[key] = suggestions
        while len(doc.cache) > CACHE_ENTRIES:
            doc.cache.popitem(last=False)
        return suggestions
