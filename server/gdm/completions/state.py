"""Plain data of the completion engine: a request, an answer, the suggestion a document last got
(for typing-through and its outcome), the per-document state and the cache.

The cache answers a request again without a model call: by (document, version, position) — the
editor asks again at the same place — and by what surrounds the cursor (the prefix's end and the
suffix's start), so deleting a character and typing it again finds the answer too.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

CACHE_ENTRIES = 1000
KEY_PREFIX_CHARS, KEY_SUFFIX_CHARS = 600, 200


@dataclass(frozen=True)
class Request:
    """An inline completion asked at `offset` (code points) of a document's `text` at `version`."""

    uri: str
    path: str | None  # workspace-relative; None outside the workspace
    version: int
    text: str
    offset: int
    invoked: bool = False  # asked for explicitly (no debounce)

    @property
    def prefix(self) -> str:
        return self.text[:self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset:]


@dataclass(frozen=True)
class Answer:
    """What the editor gets: a suggestion (`text` inserted at the cursor, replacing `replace`
    characters after it) with its id, or none and why (`source`: off, superseded, budget, error,
    empty, no model…); `source` says where a suggestion came from: model, cache or typing."""

    source: str
    text: str = ""
    replace: int = 0
    completion_id: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.text)


@dataclass
class Shown:
    """The suggestion a document got last: where it was made (the whole text before and after the
    cursor then), its text, and how much of it the user has taken so far."""

    completion_id: str
    before: str
    after: str
    text: str
    replace: int
    seen: bool = False  # delivered to the editor (not only fetched for a request typed over)
    taken: int = 0  # characters of it typed or accepted so far
    accepted: bool = False

    def typed(self, request: Request) -> str | None:
        """What the user typed since, when it is a start of this suggestion (else None)."""
        prefix = request.text[:request.offset]
        if len(prefix) < len(self.before) or not prefix.startswith(self.before):
            return None
        if request.text[request.offset:] != self.after:
            return None
        typed = prefix[len(self.before):]
        return typed if self.text.startswith(typed) else None


@dataclass
class Flight:
    """The one model call in flight for a document, and how many requests wait for it."""

    before: str
    after: str
    task: asyncio.Task[Shown | Answer | None]  # an Answer: no call was made (the budget)
    waiters: int = 0

    def typed_on_by(self, request: Request) -> bool:
        """Whether `request` only typed on from where this call was asked (its answer may still fit)."""
        return request.prefix.startswith(self.before) and request.suffix == self.after


@dataclass
class DocState:
    """A document's completion state: its newest request, its call in flight, its last suggestion."""

    generation: int = 0
    flight: Flight | None = None
    latest: Shown | None = None


@dataclass
class Cached:
    completion_id: str
    text: str
    replace: int


@dataclass
class SuggestionCache:
    """Answers by (document, version, position) and by the text around the cursor; LRU."""

    entries: int = CACHE_ENTRIES
    _items: OrderedDict[tuple, Cached] = field(default_factory=OrderedDict)

    @staticmethod
    def keys(request: Request) -> tuple[tuple, tuple]:
        """The exact key and the text key of a request."""
        text_key = (request.uri, request.prefix[-KEY_PREFIX_CHARS:], request.suffix[:KEY_SUFFIX_CHARS])
        return (request.uri, request.version, request.offset), text_key

    def get(self, request: Request) -> Cached | None:
        """The answer kept for this request, if any."""
        for key in self.keys(request):
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        return None

    def put(self, request: Request, cached: Cached) -> None:
        """Keep the answer to `request` under both keys."""
        for key in self.keys(request):
            self._items[key] = cached
            self._items.move_to_end(key)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
