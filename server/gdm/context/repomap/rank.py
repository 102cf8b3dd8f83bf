"""Ranking: a def/ref graph between files, PageRank personalised on the focus.

A file that references a name another file defines gets an edge to it, weighted as Aider weighs
them (names the prompt mentions ×10, long specific names ×10, private `_names` ×0.1, names
defined in more than five files ×0.1, √ of the reference count), plus one rule of ours: names of
methods of the language's own types (`append`, `join`, `get`, `push`…) weigh ×0.01, and the
language's built-in functions (`len`, `super`) and dunder names nothing (`weights`, where each
reference's code is made when its file is parsed). PageRank (damping 0.85, numpy) runs over the
files; each file's rank then flows along its out-edges to the (file, name) definitions it uses,
which orders what a map shows.

PageRank's fixed point is found as the solution of a linear system by GMRES (`_pagerank`): a map
of the Linux kernel needs ~36 products with the graph (to a 1e-9 residual) where power iteration
took 50 and was still ~1e-4 off; names are joined to their definitions by 64-bit keys
(`tags.name_key`) made with the tags, so the graph of 78k files is built by a few sorts, never a
loop over names, and after an edit from the last graph (`_Resolved.update`).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gdm.context.repomap import gmres, weights
from gdm.context.repomap.tags import FileTags, name_key

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DAMPING = 0.85
FOCUS_WEIGHT = 100.0
KEPT_SOLUTIONS = 8


def _numpy() -> Any:
    # numpy costs ~0.4 s to import (measured here): loaded at the first ranking, not by `import
    # gdm.server`, which must answer `initialize` first. This module is numpy's adapter.
    return importlib.import_module("numpy")


@dataclass
class Ranking:
    """Files by rank, and definitions `(path, name)` by rank, both best first."""

    files: list[tuple[str, float]]
    defs: list[tuple[tuple[str, str], float]]


class Ranker:
    """Ranks snapshots of one index; keeps the graph of the last one, so maps of an unchanged
    index solve PageRank alone: another focus, or other mentioned names (they re-weigh the edges
    of the kept graph, ~50 ms on the kernel, where building it takes seconds). Thread-safe: one
    graph is built at a time, and a map waiting for one being built (`prepare`) then uses it."""

    def __init__(self) -> None:
        self._graph: _Graph | None = None  # of the last snapshot ranked
        self._lock = threading.Lock()

    def prepare(self, tags: Mapping[str, FileTags]) -> _Graph:
        """The graph of a snapshot: the kept one if no file's columns changed (a buffer's tags equal
        to its disk file's count as unchanged), else a new one (kept). Called after an index is
        built, so that the first map of a process finds its graph ready."""
        np = _numpy()
        # Files listed by path only (no definitions, no references) take no part in the graph.
        paths = [p for p, t in tags.items() if t.has_defs() or t.refs]
        files = [tags[p] for p in paths]
        with self._lock:
            kept = self._graph
            if kept is not None and kept.paths == paths and all(map(_same_columns, kept.tags, files)):
                return kept
            started = time.perf_counter()
            self._graph = _build_graph(np, paths, files, kept)
            self._graph.edges(np, frozenset())  # a map without mentions needs them: made with the graph
            log.debug("code map: the graph of %d files built in %.0f ms (%s)", len(paths),
                      (time.perf_counter() - started) * 1000,
                      "from scratch" if kept is None or kept.paths != paths else "from the last one")
            return self._graph

    def rank(self, tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
             limit: int | None = None) -> Ranking:
        """Rank the files and their definitions (the best `limit` of them); `focus` files and
        `mentioned` names weigh more."""
        np = _numpy()
        graph = self.prepare(tags)
        edges = graph.edges(np, frozenset(mentioned))
        focus_ids = [graph.index_of[p] for p in focus if p in graph.index_of] + edges.mention_focus
        ranking = _solve(np, graph, edges, focus_ids, limit)
        focused = set(focus)
        plain = sorted(p for p in tags if p not in graph.index_of)
        ranking.files += [(p, 0.0) for p in sorted(plain, key=lambda p: p not in focused)][:limit]
        return ranking


def rank(tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
         limit: int | None = None) -> Ranking:
    """Rank once (a fresh Ranker); an index keeps its own Ranker to re-rank cheaply."""
    return Ranker().rank(tags, focus, mentioned, limit)


def _same_columns(a: FileTags, b: FileTags) -> bool:
    """Whether two tags make the same part of the graph (the same object, or equal key columns)."""
    return a is b or (a.def_keys == b.def_keys and a.refs.keys == b.refs.keys and a.refs.counts == b.refs.counts
                      and a.refs.codes == b.refs.codes)


@dataclass
class _Edges:
    """The reference edges' shares for one set of mentioned names (they weigh ×10, ×1000 if common)."""

    mentioned: frozenset[str]
    per_edge: np.ndarray  # each live reference's share of its file's rank, per definer
    own_edge: np.ndarray  # the share of each reference whose own file defines the name too
    self_weight: np.ndarray  # per file, the sum of its own_edge (what it would send itself)
    dangling: np.ndarray  # files with no out-edge
    sent: np.ndarray  # room for what each reference sends, in a product
    mention_focus: list[int] = field(default_factory=list)  # files defining a specific mentioned name
    # PageRank's answers by focus (file id, times given): the same focus again (the open file, map
    # after map) is not solved again. The last KEPT_SOLUTIONS, 0.6 MB each on the kernel.
    solutions: OrderedDict[tuple[tuple[int, int], ...], np.ndarray] = field(default_factory=OrderedDict)


@dataclass
class _Graph:
    """What ranking a snapshot needs besides its focus and mentions: the definition slots (each
    file's `top_names()`, in file order) and the live reference edges with their fixed weights.

    A reference (file, name) is an edge of the same weight to every *other* file defining the name.
    Those edges are never built: the rank a reference sends flows through the name (one sum per name)
    to the name's definitions, less what the referencing file would have sent itself. Exactly the
    edge-per-definer graph, in O(references + definitions) instead of their product — which a name
    defined in thousands of files (`run`, `probe`, a method every class has) makes gigabytes."""

    paths: list[str]
    tags: list[FileTags]
    index_of: dict[str, int]
    keys: np.ndarray  # the names some file defines, by sorted key; name ids index them
    def_file: np.ndarray  # each definition slot's file
    def_name: np.ndarray  # its name id
    def_local: np.ndarray  # its place in its file's top_names()
    # The live references, grouped by name (the names with any: `used`, by name id), which makes
    # a product with the graph two sequential sums (np.add.reduceat): ~10 ms on the kernel, ~23 ms
    # as a bincount over all names.
    used: np.ndarray  # the name ids with live references, sorted; "used ids" index them
    starts: np.ndarray  # where each used name's references begin
    src: np.ndarray  # each live reference's file (intp: the product's gather)
    weight: np.ndarray  # its weight, but for mentions
    fan_out: np.ndarray  # the other files defining its name
    codes: np.ndarray  # its weight code
    own: np.ndarray  # whether its own file defines the name too (that edge is dropped)
    own_slot: np.ndarray  # the slot of that definition, for the references with `own`
    used_slots: np.ndarray  # the slots of used names, grouped by name
    used_slot_name: np.ndarray  # the used id of each
    used_slot_file: np.ndarray  # and its file
    resolved: _Resolved  # every reference's name id and own-file place, for the next snapshot's build
    _edges: _Edges | None = None

    def edges(self, np: Any, mentioned: frozenset[str]) -> _Edges:
        """The edges' shares with these names mentioned (kept for the last set asked)."""
        known = self._edges
        if known is not None and known.mentioned == mentioned:
            return known
        weight, mention_focus = self.weight, []
        keys, used = self.keys, self.used
        for name in mentioned:
            key = int.from_bytes(name_key(name), "little", signed=True)
            at = int(np.searchsorted(keys, key))
            if at >= len(keys) or keys[at] != key:
                continue
            j = int(np.searchsorted(used, at))
            if j < len(used) and used[j] == at:
                uses = slice(int(self.starts[j]), int(self.starts[j + 1]) if j + 1 < len(used) else len(weight))
                if weight is self.weight:
                    weight = weight.copy()
                weight[uses] *= np.where((self.codes[uses] & weights.COMMON) != 0, 1000.0, 10.0)
            definers = self.def_file[self.def_name == at]
            if 0 < len(definers) <= 5 and not weights.code(name, self.tags[definers[0]].lang) & weights.NONE:
                mention_focus += definers.tolist()  # a specific name, not `get` defined all over: focus
        n, src = len(self.paths), self.src
        out_total = np.bincount(src, weights=weight * self.fan_out, minlength=n)
        per_edge = (weight / out_total[src] if len(src) else weight).astype(np.float64)
        own_edge = per_edge[self.own]
        self._edges = _Edges(mentioned, per_edge, own_edge,
                             np.bincount(src[self.own], weights=own_edge, minlength=n), out_total == 0,
                             np.empty(len(src)), mention_focus)
        return self._edges

    def name_flows(self, np: Any, edges: _Edges, ranks: np.ndarray) -> np.ndarray:
        """The rank arriving at each used name (from every file referencing it)."""
        if not len(self.src):
            return np.zeros(0)
        # Into a kept array, unchecked (the ids are the graph's own), by intp ids: 4.1 ms on the
        # kernel's 2.3M references where ranks[src] * per_edge took 5.7.
        sent = np.take(ranks, self.src, out=edges.sent, mode="clip")
        sent *= edges.per_edge
        return np.add.reduceat(sent, self.starts)

    def product(self, np: Any, edges: _Edges, ranks: np.ndarray) -> np.ndarray:
        """M·ranks: the rank each file receives along the edges (the files' own shares taken off)."""
        flows = self.name_flows(np, edges, ranks)[self.used_slot_name]
        return np.bincount(self.used_slot_file, weights=flows, minlength=len(self.paths)) - ranks * edges.self_weight

    def slot_flows(self, np: Any, edges: _Edges, ranks: np.ndarray) -> np.ndarray:
        """The rank arriving at each definition slot."""
        flows = np.zeros(len(self.def_file))
        flows[self.used_slots] = self.name_flows(np, edges, ranks)[self.used_slot_name]
        flows[self.own_slot] -= ranks[self.src[self.own]] * edges.own_edge
        return np.maximum(flows, 0.0)  # a file's own share taken off again: rounding, never below 0


def _column(np: Any, parts: list[bytes], dtype: str) -> np.ndarray:
    return np.frombuffer(b"".join(parts), dtype=dtype)


def _ids(np: Any, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values sorted, and each value's place among them (int32): np.unique with
    return_inverse, by one argsort (numpy 2's np.unique hashes first: 0.6 s on the kernel's million
    keys; a sort and a search 0.22 s; this 0.09 s)."""
    if not len(values):
        return values, np.zeros(0, dtype=np.int32)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    ids = np.empty(len(values), dtype=np.int32)
    ids[order] = np.cumsum(first) - 1
    return ordered[first], ids


def _stable_order(np: Any, values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable") for ids below 2**32, as two stable sorts of 16-bit halves
    (numpy sorts 16-bit values by radix): 0.10 s for the kernel's 2.3M live references, 0.18 s
    as one stable sort of int32."""
    low = (values & 0xFFFF).astype(np.uint16)
    high = (values >> 16).astype(np.uint16)
    order = np.argsort(low, kind="stable")
    return order[np.argsort(high[order], kind="stable")]


def _build_graph(np: Any, paths: list[str], files: list[FileTags], previous: _Graph | None = None) -> _Graph:
    """The graph of a snapshot, from the tags' key and code columns (no name is looked at); with
    the previous snapshot's graph, which references name which definitions is carried over from it
    for the files that did not change (`_Resolved.update`)."""
    n = len(files)
    file_ids = np.arange(n, dtype=np.int32)
    def_keys = _column(np, [t.def_keys for t in files], "<i8")
    n_defs = np.fromiter((len(t.def_keys) >> 3 for t in files), dtype=np.int64, count=n)
    keys, def_name = _ids(np, def_keys)  # the names some file defines, by key; each slot's name id
    n_names = len(keys)
    def_file = np.repeat(file_ids, n_defs)
    def_start = np.cumsum(n_defs) - n_defs
    def_local = (np.arange(len(def_keys)) - np.repeat(def_start, n_defs)).astype(np.int32)
    per_name = np.bincount(def_name, minlength=n_names)
    del def_keys
    resolved = None
    if previous is not None and previous.paths == paths:
        resolved = previous.resolved.update(np, previous, files, keys)
    if resolved is None:
        resolved = _Resolved.of(np, files, keys, def_file, def_name, def_start)

    # References to names nobody defines, or that weigh nothing, are no edges: left out first.
    codes = _column(np, [t.refs.codes for t in files], np.uint8)
    kept = np.flatnonzero((resolved.nid >= 0) & ((codes & weights.NONE) == 0))
    src = (np.searchsorted(resolved.start, kept, side="right") - 1).astype(np.int32)  # each one's file
    nid, own_local, codes = resolved.nid[kept], resolved.own[kept], codes[kept]
    count = _column(np, [t.refs.counts for t in files], np.uint32)[kept]
    del kept
    base = np.array([weights.base_of(c) for c in range(16)])[codes & 15]
    weight = base * np.where(per_name[nid] > 5, 0.1, 1.0) * np.sqrt(count)
    own = own_local >= 0  # its own file defines the name too: that edge is dropped
    fan_out = (per_name[nid] - own).astype(np.int32)  # the other files defining the name
    live = np.flatnonzero((weight > 0) & (fan_out > 0))
    live = live[_stable_order(np, nid[live])]  # grouped by name, in file order within
    nid, own, src, own_local = nid[live], own[live], src[live], own_local[live]
    first = np.concatenate(([True], nid[1:] != nid[:-1])) if len(nid) else np.zeros(0, bool)
    starts, used = np.flatnonzero(first), nid[first]
    used_id = np.full(n_names, -1, dtype=np.int64)
    used_id[used] = np.arange(len(used))
    slot_used = used_id[def_name]
    used_slots = np.flatnonzero(slot_used >= 0)
    used_slots = used_slots[_stable_order(np, slot_used[used_slots])]
    return _Graph(paths, files, {p: i for i, p in enumerate(paths)}, keys, def_file, def_name, def_local,
                  used, starts, src.astype(np.intp), weight[live], fan_out[live], codes[live], own,
                  def_start[src[own]] + own_local[own], used_slots, slot_used[used_slots].astype(np.int32),
                  def_file[used_slots], resolved)


@dataclass
class _Resolved:
    """For every reference of a snapshot (files in order, each file's in its column order): the id
    of its name among the defined names (-1: none defines it), and the place of the name in its own
    file's top_names() (-1: the file does not define it). The part of a graph's build that reads
    all 8.8 million of the kernel's references (~2 s): carried over to the next snapshot's graph
    for the files whose columns did not change, so an edit of one file costs a fraction of it."""

    nid: np.ndarray  # int32 per reference
    own: np.ndarray  # int32 per reference
    start: np.ndarray  # each file's first reference, and the total at the end

    @classmethod
    def of(cls, np: Any, files: list[FileTags], keys: np.ndarray, def_file: np.ndarray, def_name: np.ndarray,
           def_start: np.ndarray) -> _Resolved:
        """Every reference looked up (a sorted search among the defined names' keys)."""
        n, n_names = len(files), len(keys)
        start = np.concatenate(([0], np.cumsum(np.fromiter((len(t.refs.codes) for t in files), np.int64, n))))
        nid = _lookup(np, keys, _column(np, [t.refs.keys for t in files], "<i8"))
        own = np.full(len(nid), -1, dtype=np.int32)
        named = np.flatnonzero(nid >= 0)
        if len(named) and len(def_name):
            slot_key = def_file.astype(np.int64) * n_names + def_name
            by_key = np.argsort(slot_key, kind="stable")
            sorted_keys = slot_key[by_key]
            src = np.repeat(np.arange(n, dtype=np.int64), np.diff(start))[named]
            ref_key = src * n_names + nid[named]
            at = np.minimum(np.searchsorted(sorted_keys, ref_key), len(by_key) - 1)
            mine = sorted_keys[at] == ref_key
            own[named[mine]] = by_key[at[mine]] - def_start[src[mine]]
        return cls(nid, own, start)

    def update(self, np: Any, previous: _Graph, files: list[FileTags], keys: np.ndarray) -> _Resolved | None:
        """This resolution for the same paths with some files' tags changed and `keys` the names
        defined now, or None when too much changed (a build from scratch is then as quick)."""
        changed = [i for i, (a, b) in enumerate(zip(previous.tags, files)) if not _same_columns(a, b)]
        old_keys = previous.keys
        gone_or_kept = _lookup(np, keys, old_keys)  # each old name id's new one (-1: nobody defines it now)
        added = keys[_lookup(np, old_keys, keys) < 0]
        if len(changed) > 64 or len(added) > 64:
            return None
        if len(keys) == len(old_keys) and not len(added):
            nid = self.nid  # the same names defined: the same ids (an edit inside a body)
        else:  # old id -> new id, -1 (no name) -> -1 by a last entry
            nid = np.append(gone_or_kept, np.int32(-1))[self.nid]
        if len(added):  # references of unchanged files to names just defined somewhere
            old_refs = _column(np, [t.refs.keys for t in previous.tags], "<i8")
            newly = np.flatnonzero(np.isin(old_refs, added))
            nid[newly] = np.searchsorted(keys, old_refs[newly])
        nids, owns, lengths, at = [], [], [], 0
        for i in changed:  # their references spliced in, looked up afresh
            a, b = int(self.start[i]), int(self.start[i + 1])
            nids += [nid[at:a], _lookup(np, keys, np.frombuffer(files[i].refs.keys, "<i8"))]
            owns += [self.own[at:a], _own_places(np, files[i])]
            lengths.append((i, len(files[i].refs.codes) - (b - a)))
            at = b
        nids.append(nid[at:])
        owns.append(self.own[at:])
        start = self.start
        if lengths:
            growth = np.zeros(len(files) + 1, dtype=np.int64)
            for i, grown in lengths:
                growth[i + 1] = grown
            start = start + np.cumsum(growth)
        return _Resolved(np.concatenate(nids).astype(np.int32, copy=False),
                         np.concatenate(owns).astype(np.int32, copy=False), start)


def _lookup(np: Any, keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The place of each wanted key among the sorted `keys`, -1 where it is not one (int32)."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int32)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, at, -1).astype(np.int32)


def _own_places(np: Any, tags: FileTags) -> np.ndarray:
    """For each reference of one file, the place of its name in the file's own top_names() (-1: none)."""
    mine = np.frombuffer(tags.def_keys, "<i8")
    order = np.argsort(mine, kind="stable")
    at = _lookup(np, mine[order], np.frombuffer(tags.refs.keys, "<i8"))
    return np.where(at >= 0, order[np.maximum(at, 0)], -1).astype(np.int32) if len(mine) else at


def _solve(np: Any, graph: _Graph, edges: _Edges, focus: list[int], limit: int | None) -> Ranking:
    """PageRank over the files, then each definition's score."""
    n, paths = len(graph.paths), graph.paths
    if n == 0:
        return Ranking([], [])
    ranks = _pagerank(np, graph, edges, focus)
    def_file = graph.def_file
    score = graph.slot_flows(np, edges, ranks) + ranks[def_file] * 1e-3  # unreferenced definitions still count a little
    file_order = np.lexsort((np.arange(n), -ranks))[:limit]
    files = [(paths[i], r) for i, r in zip(file_order.tolist(), ranks[file_order].tolist())]
    ranked = _best(np, score, limit)
    out, names = [], {}
    for slot, value in zip(ranked.tolist(), score[ranked].tolist()):
        f = int(def_file[slot])
        if f not in names:
            names[f] = graph.tags[f].top_names()
        out.append(((paths[f], names[f][graph.def_local[slot]]), value))
    return Ranking(files, out)


def _best(np: Any, score: np.ndarray, limit: int | None) -> np.ndarray:
    """The slots of the `limit` best scores, best first, ties in slot order (a stable sort's order,
    without sorting a million slots for a map that shows a hundred)."""
    if limit is None or limit >= len(score):
        return np.argsort(-score, kind="stable")
    threshold = np.partition(-score, limit - 1)[limit - 1]
    candidates = np.flatnonzero(-score <= threshold)  # every tie of the last one, in slot order
    return candidates[np.argsort(-score[candidates], kind="stable")][:limit]


def _pagerank(np: Any, graph: _Graph, edges: _Edges, focus: list[int]) -> np.ndarray:
    """Personalised PageRank; dangling files give their rank to the focus.

    Its fixed point r = dMr + (d·r[dangling].sum() + 1 − d)p is y/Σy for y = dMy + p (summing that
    equation gives Σy(1 − d) + d·y[dangling].sum() = 1), so it is the linear system (I − dM)y = p,
    solved by GMRES: the kernel's graph needs ~36 products with M to 1e-9 (~48 to 1e-12), power
    iteration ~170 to 1e-12."""
    key = tuple(sorted(Counter(focus).items()))
    known = edges.solutions.get(key)
    if known is not None:
        edges.solutions.move_to_end(key)
        return known
    n = len(graph.paths)
    personal = np.zeros(n) if focus else np.full(n, 1.0 / n)
    if focus:
        np.add.at(personal, np.asarray(focus), FOCUS_WEIGHT)
        personal /= personal.sum()
    y = gmres.solve(np, lambda v: v - DAMPING * graph.product(np, edges, v), personal)
    y = np.maximum(y, 0.0)  # the exact solution is ≥ 0; a last rounding below it is no rank
    edges.solutions[key] = ranks = y / y.sum()
    if len(edges.solutions) > KEPT_SOLUTIONS:
        edges.solutions.popitem(last=False)
    return ranks
