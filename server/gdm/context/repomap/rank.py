"""Ranking: a def/ref graph between files, PageRank personalised on the focus.

A file that references a name another file defines gets an edge to it, weighted as Aider weighs
them (names the prompt mentions ×10, long specific names ×10, private `_names` ×0.1, names
defined in more than five files ×0.1, √ of the reference count), plus one rule of ours: names of
methods of the language's own types (`append`, `join`, `get`, `push`…) weigh ×0.01, and the
language's built-in functions (`len`, `super`) and dunder names nothing — a call of `x.append()` says nothing about a project's `append`.
PageRank (power iteration, damping 0.85, numpy) runs over the files; each file's rank then flows
along its out-edges to the (file, name) definitions it uses, which orders what a map shows.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gdm.context.repomap.tags import FileTags

if TYPE_CHECKING:
    import numpy as np

DAMPING = 0.85
ITERATIONS = 50
TOLERANCE = 1e-6
FOCUS_WEIGHT = 100.0

_PY_TYPES = (list, dict, str, set, bytes, tuple, int, float, object, frozenset)
COMMON_NAMES = {
    "python": frozenset().union(*(dir(t) for t in _PY_TYPES)),
    "js": frozenset({"push", "pop", "map", "filter", "reduce", "forEach", "join", "split", "slice", "splice",
                     "indexOf", "includes", "concat", "keys", "values", "entries", "then", "catch", "finally",
                     "toString", "get", "set", "has", "add", "delete", "clear", "call", "apply", "bind", "log",
                     "error", "warn", "replace", "trim", "test", "exec", "match", "resolve", "reject", "parse",
                     "stringify", "assign", "create", "freeze", "from", "of", "isArray", "find", "some", "every",
                     "sort", "length", "require", "String", "Number", "Object", "Array", "Promise", "Error",
                     "Map", "Set", "Date", "JSON", "Math", "console"}),
    "go": frozenset({"len", "cap", "make", "new", "append", "copy", "delete", "panic", "recover", "print",
                     "println", "string", "int", "int64", "int32", "uint", "uint8", "uint32", "uint64", "byte",
                     "rune", "bool", "error", "float64", "float32", "any", "Error", "String", "Errorf", "Sprintf",
                     "Printf", "Println", "New"}),
    "c": frozenset({"int", "char", "void", "size_t", "NULL", "malloc", "free", "memcpy", "memset", "strlen",
                    "printf", "sizeof", "i", "j", "k", "n", "len", "ret", "err", "p", "x", "y", "data", "size"}),
}
# Calls of these are the language's own (Python's built-in functions): no edge at all.
BUILTIN_NAMES = {"python": frozenset(dir(builtins)) | {"self", "cls"}}
_FAMILY = {"python": "python", "javascript": "js", "typescript": "js", "tsx": "js", "go": "go",
           "c": "c", "cpp": "c"}


def _numpy() -> Any:
    # numpy costs ~0.4 s to import (measured here): loaded at the first ranking, not by `import
    # gdm.server`, which must answer `initialize` first. This module is numpy's adapter.
    return importlib.import_module("numpy")


@dataclass
class Ranking:
    """Files by rank, and definitions `(path, name)` by rank, both best first."""

    files: list[tuple[str, float]]
    defs: list[tuple[tuple[str, str], float]]


def _base_weight(name: str, common: bool) -> float:
    """The part of a name's weight that never changes (everything but mentions and definer count)."""
    if name.startswith("__") and name.endswith("__"):
        return 0.0
    weight = 1.0
    if len(name) >= 8 and ("_" in name.strip("_") or (name != name.lower() and name != name.upper())):
        weight *= 10
    if name.startswith("_"):
        weight *= 0.1
    if common:
        weight *= 0.01
    return weight


class Ranker:
    """Ranks snapshots of one index; keeps each file's name ids, so a re-rank after one file
    changed converts only that file (one per index; not thread-safe: callers hold a lock)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._name_id: dict[str, int] = {}
        self._base: list[float] = []
        self._common: list[bool] = []
        self._files: dict[str, tuple[FileTags, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._graph: _Graph | None = None  # of the last snapshot ranked (its files' tags are in _files)

    def _nid(self, name: str, lang: str | None) -> int:
        nid = self._name_id.get(name)
        if nid is None:
            nid = self._name_id[name] = len(self.names)
            family = _FAMILY.get(lang or "", "")
            common = name in COMMON_NAMES.get(family, ())
            self.names.append(name)
            self._common.append(common)
            self._base.append(0.0 if name in BUILTIN_NAMES.get(family, ()) else _base_weight(name, common))
        return nid

    def _arrays(self, np: Any, path: str, tags: FileTags) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        known = self._files.get(path)
        if known is not None and known[0] is tags:
            return known[1], known[2], known[3]
        defs = tags.defs
        def_ids = np.fromiter(dict.fromkeys(self._nid(defs[i].name, tags.lang) for i in tags.top_level()),
                              dtype=np.int64)
        ref_ids = np.fromiter((self._nid(n, tags.lang) for n in tags.refs), dtype=np.int64, count=len(tags.refs))
        counts = np.fromiter(tags.refs.values(), dtype=np.float64, count=len(tags.refs))
        self._files[path] = (tags, def_ids, ref_ids, counts)
        return def_ids, ref_ids, counts

    def rank(self, tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
             limit: int | None = None) -> Ranking:
        """Rank the files and their definitions (the best `limit` of them); `focus` files and
        `mentioned` names weigh more. The graph of a snapshot is kept: maps of an unchanged index
        that differ only in their focus run PageRank alone (on the Linux kernel the graph took
        ~2.5 s of a ~4 s map)."""
        np = _numpy()
        # Files listed by path only (no definitions, no references) take no part in the graph.
        paths = [p for p, t in tags.items() if t.defs or t.refs]
        plain = sorted(p for p, t in tags.items() if not t.defs and not t.refs)
        mentioned = frozenset(mentioned)
        graph = self._graph_of(np, tags, paths, mentioned)
        focus_ids = [graph.index_of[p] for p in focus if p in graph.index_of] + graph.mention_focus
        ranking = _solve(graph, focus_ids, limit)
        focused = set(focus)
        ranking.files += [(p, 0.0) for p in sorted(plain, key=lambda p: p not in focused)][:limit]
        return ranking

    def _graph_of(self, np: Any, tags: Mapping[str, FileTags], paths: list[str], mentioned: frozenset[str]) -> _Graph:
        """The kept graph if nothing it was built from changed, else a new one (kept)."""
        kept = self._graph
        if (kept is not None and kept.paths == paths and kept.mentioned == mentioned
                and all(self._files[p][0] is tags[p] for p in paths)):
            return kept
        for gone in set(self._files) - set(paths):
            del self._files[gone]
        arrays = [self._arrays(np, p, tags[p]) for p in paths]
        n_names = len(self.names)
        def_file = np.repeat(np.arange(len(paths), dtype=np.int64), [len(a[0]) for a in arrays])
        def_name = np.concatenate([a[0] for a in arrays]) if arrays else np.zeros(0, dtype=np.int64)
        ref_src = np.repeat(np.arange(len(paths), dtype=np.int64), [len(a[1]) for a in arrays])
        ref_nid = np.concatenate([a[1] for a in arrays]) if arrays else np.zeros(0, dtype=np.int64)
        ref_count = np.concatenate([a[2] for a in arrays]) if arrays else np.zeros(0)
        per_name = np.bincount(def_name, minlength=n_names)
        weights = np.asarray(self._base) * np.where(per_name > 5, 0.1, 1.0)
        mentioned_ids = []
        for name in mentioned:
            nid = self._name_id.get(name)
            if nid is not None and weights[nid] > 0:
                weights[nid] *= 10 * (100 if self._common[nid] else 1)
                if 0 < per_name[nid] <= 5:  # a specific name, not `get` defined all over
                    mentioned_ids.append(nid)
        # The files defining a name the prompt mentions are part of the focus too.
        mention_focus = def_file[np.isin(def_name, mentioned_ids)].tolist() if mentioned_ids else []
        self._graph = _build_graph(paths, self.names, (def_file, def_name, per_name), (ref_src, ref_nid, ref_count),
                                   weights)
        self._graph.mentioned, self._graph.mention_focus = mentioned, mention_focus
        return self._graph


def rank(tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
         limit: int | None = None) -> Ranking:
    """Rank once (a fresh Ranker); an index keeps its own Ranker to re-rank cheaply."""
    return Ranker().rank(tags, focus, mentioned, limit)


@dataclass
class _Graph:
    """What ranking a snapshot needs besides its focus: the definition slots and the reference
    edges with their weights (set by the names the prompt mentions)."""

    paths: list[str]
    index_of: dict[str, int]
    names: list[str]
    def_file: np.ndarray  # each definition slot's file, slots grouped by name
    def_name: np.ndarray  # each slot's name id
    src: np.ndarray  # each live reference's file
    nid: np.ndarray  # its name id
    per_edge: np.ndarray  # its share of its file's rank, per definer
    own: np.ndarray  # whether its own file defines the name too (that edge is dropped)
    own_slot: np.ndarray  # the slot of that definition, for the references with `own`
    dangling: np.ndarray  # files with no out-edge
    mentioned: frozenset[str] = frozenset()
    mention_focus: list[int] = field(default_factory=list)

    def slot_flows(self, ranks: np.ndarray) -> np.ndarray:
        """The rank arriving at each definition slot."""
        np = _numpy()
        sent = ranks[self.src] * self.per_edge
        # float when there are no references too (bincount of empty weights is int64); no copy otherwise
        flows = np.bincount(self.nid, weights=sent, minlength=len(self.names)).astype(np.float64, copy=False)
        flows = flows[self.def_name]
        flows[self.own_slot] -= sent[self.own]
        return np.maximum(flows, 0.0)  # a file's own share taken off again: rounding, never below 0


def _build_graph(paths: list[str], names: list[str], defs: tuple[np.ndarray, np.ndarray, np.ndarray],
                 refs: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray) -> _Graph:
    """The reference graph, never built edge by edge.

    A reference (file, name) is an edge of the same weight to every *other* file defining the name.
    Those edges are never built: the rank a reference sends flows through the name (one sum per name
    per iteration) to the name's definitions, less what the referencing file would have sent itself.
    Exactly the edge-per-definer graph, in O(references + definitions) instead of their product —
    which a name defined in thousands of files (`run`, `probe`, a method every class has) makes
    gigabytes (4,000 modules of 8 classes with the same method names: 8 GB and 58 s; now 0.1 s)."""
    np = _numpy()
    n = len(paths)
    def_file, def_name, per_name = defs
    order = np.argsort(def_name, kind="stable")
    def_file, def_name = def_file[order], def_name[order]  # grouped by name: ties keep this order
    src, nid, count = refs
    n_names = len(names)
    # The definition slot, if any, of each reference's own file for its name: that edge is dropped.
    slot_key = def_file * n_names + def_name
    by_key = np.argsort(slot_key, kind="stable")
    sorted_keys, ref_key = slot_key[by_key], src * n_names + nid
    pos = np.minimum(np.searchsorted(sorted_keys, ref_key), max(len(by_key) - 1, 0))
    own = (sorted_keys[pos] == ref_key) if len(by_key) else np.zeros(len(src), dtype=bool)
    fan_out = per_name[nid] - own  # the other files defining the name
    weight = weights[nid] * np.sqrt(count)
    live = (weight > 0) & (fan_out > 0)
    src, nid, weight, own, fan_out = src[live], nid[live], weight[live], own[live], fan_out[live]
    own_slot = by_key[pos[live]][own]
    out_total = np.bincount(src, weights=weight * fan_out, minlength=n)
    per_edge = weight / out_total[src] if len(src) else weight  # each edge's share of its file's rank
    return _Graph(paths, {p: i for i, p in enumerate(paths)}, names, def_file, def_name, src, nid,
                  per_edge.astype(np.float64), own, own_slot, out_total == 0)


def _solve(graph: _Graph, focus: list[int], limit: int | None) -> Ranking:
    """PageRank over the files, then each definition's score."""
    np = _numpy()
    n, paths, names = len(graph.paths), graph.paths, graph.names
    if n == 0:
        return Ranking([], [])
    def_file, def_name = graph.def_file, graph.def_name
    ranks = _pagerank(n, def_file, graph.slot_flows, graph.dangling, focus)
    score = graph.slot_flows(ranks) + ranks[def_file] * 1e-3  # unreferenced definitions still count a little
    file_order = np.lexsort((np.arange(n), -ranks))[:limit]
    files = [(paths[i], r) for i, r in zip(file_order.tolist(), ranks[file_order].tolist())]
    ranked = np.argsort(-score, kind="stable")[:limit]
    files_of, names_of, scores = def_file[ranked].tolist(), def_name[ranked].tolist(), score[ranked].tolist()
    out = [((paths[f], names[m]), s) for f, m, s in zip(files_of, names_of, scores)]
    return Ranking(files, out)


def _pagerank(n: int, def_file: np.ndarray, slot_flows: Any, dangling: np.ndarray,
              focus: list[int]) -> np.ndarray:
    """Personalised PageRank by power iteration; dangling files give their rank to the focus.
    `slot_flows(ranks)` is the rank arriving at each definition slot, owned by `def_file`."""
    np = _numpy()
    personal = np.zeros(n) if focus else np.full(n, 1.0 / n)
    if focus:
        np.add.at(personal, np.asarray(focus), FOCUS_WEIGHT)
        personal /= personal.sum()
    ranks = personal.copy()
    for _ in range(ITERATIONS):
        flow = np.bincount(def_file, weights=slot_flows(ranks), minlength=n)
        new = DAMPING * flow + (DAMPING * ranks[dangling].sum() + 1.0 - DAMPING) * personal
        delta = np.abs(new - ranks).sum()
        ranks = new
        if delta < TOLERANCE:
            break
    return ranks
