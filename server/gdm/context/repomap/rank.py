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
loop over names, and after an edit from the last graph (graph.py).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gdm.context.repomap import gmres
from gdm.context.repomap.graph import Edges, Graph, build_graph, same_columns
from gdm.context.repomap.pairing import Pairs
from gdm.context.repomap.tags import FileTags

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

DAMPING = 0.85
KEPT_SOLUTIONS = 8
# After a focused map's walk, two steps of this share go against the edges (the second from what the
# first brought): from each file to the files that use it (a module's tests, its callers), which a
# walk along "uses" edges never reaches; what they bring a file goes to the file's first
# definitions. Two steps, not a share of every step of the walk: that ranked co-changed files a
# little better on real history (benchmarks/README, session 16) but doubled each GMRES product (the
# kernel's maps +39 %); the second step is one product more (requests' recall@10 0.358 -> 0.385).
# An untargeted map has no such step (the users of everything are the tests: they would fill it).
REVERSE = 0.3
# Besides the focus (1 in all), the personalisation gives its paired tests or module (`pairing`)
# PAIRED in all, the other files of its folder SIBLINGS in all (ISOLATED_SIBLINGS for a focus no
# edge leaves or enters and with no partner: then its folder is all that leads anywhere), and every
# file EVERYWHERE in all: what nothing near the focus reaches is ranked as the untargeted map ranks
# it, never in index order.
PAIRED = 0.5
SIBLINGS = 0.1
ISOLATED_SIBLINGS = 1.0
EVERYWHERE = 0.01
DECAY = 0.5  # what reaches a file other than through its definitions, to its k-th one ×DECAY**k


# OpenBLAS (numpy's BLAS) starts a thread per core, each with its own buffers, when it loads; the
# ranking does no BLAS work that needs them (sparse bincounts, GMRES on vectors). Pinned to one for
# gdm's own import only: the variables are gone from the environment again once numpy is loaded,
# so the commands gdm runs (tests, the shell) get the environment they had.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


_numpy_module: Any = None
_numpy_lock = threading.Lock()


def _numpy() -> Any:
    # numpy costs ~0.4 s and ~25 MB to import (measured here): loaded at the first ranking of a
    # workspace with files, not by `import gdm.server` (which must answer `initialize` first), nor
    # for an empty workspace. This module is numpy's adapter. Under a lock: numpy is in sys.modules
    # from the first line of its import on, so a second thread that looked there got a module
    # without `arange` yet (seen: the first map of a session while the index's graph was prepared).
    global _numpy_module  # noqa: PLW0603 - loaded once per process
    if _numpy_module is not None:
        return _numpy_module
    with _numpy_lock:
        if _numpy_module is None:
            added = [name for name in BLAS_THREADS if name not in os.environ]
            os.environ.update({name: "1" for name in added})
            try:
                _numpy_module = importlib.import_module("numpy")
            finally:
                for name in added:
                    os.environ.pop(name, None)
    return _numpy_module


@dataclass
class Ranking:
    """Files by rank, and definitions `(path, name)` by rank, both best first; `focus`, the files
    the map was focused on (a map shows them first)."""

    files: list[tuple[str, float]]
    defs: list[tuple[tuple[str, str], float]]
    focus: tuple[str, ...] = ()


class Ranker:
    """Ranks snapshots of one index; keeps the graph of the last one, so maps of an unchanged
    index solve PageRank alone: another focus, or other mentioned names (they re-weigh the edges
    of the kept graph, ~50 ms on the kernel, where building it takes seconds). Thread-safe: one
    graph is built at a time, and a map waiting for one being built (`prepare`) then uses it."""

    def __init__(self) -> None:
        self._graph: Graph | None = None  # of the last snapshot ranked
        self._lock = threading.Lock()
        self._walk: _Walk | None = None  # a focused map's arrays (_Walk), of the last edges a focus used

    def prepare(self, tags: Mapping[str, FileTags]) -> Graph:
        """The graph of a snapshot: the kept one if no file's columns changed (a buffer's tags equal
        to its disk file's count as unchanged), else a new one (kept). Called after an index is
        built, so that the first map of a process finds its graph ready."""
        np = _numpy()
        # Files listed by path only (no definitions, no references) take no part in the graph.
        paths = [p for p, t in tags.items() if t.has_defs() or t.refs]
        files = [tags[p] for p in paths]
        with self._lock:
            kept = self._graph
            if kept is not None and kept.paths == paths and all(map(same_columns, kept.tags, files)):
                return kept
            started = time.perf_counter()
            self._graph = build_graph(np, paths, files, kept)
            self._graph.edges(np, frozenset())  # a map without mentions needs them: made with the graph
            log.debug("code map: the graph of %d files built in %.0f ms (%s)", len(paths),
                      (time.perf_counter() - started) * 1000,
                      "from scratch" if kept is None or kept.paths != paths else "from the last one")
            return self._graph

    def rank(self, tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
             limit: int | None = None) -> Ranking:
        """Rank the files and their definitions (the best `limit` of them); `focus` files and
        `mentioned` names weigh more."""
        if not tags:  # an empty workspace: nothing to rank, and no numpy to load for it
            return Ranking([], [])
        np = _numpy()
        graph = self.prepare(tags)
        edges = graph.edges(np, frozenset(mentioned))
        focus_ids = [graph.index_of[p] for p in focus if p in graph.index_of] + edges.mention_focus
        walk = self._walk_of(np, graph, edges) if focus_ids else None
        ranking = _solve(np, graph, edges, focus_ids, limit, walk)
        focused = set(focus)
        plain = sorted(p for p in tags if p not in graph.index_of)
        ranking.files += [(p, 0.0) for p in sorted(plain, key=lambda p: p not in focused)][:limit]
        ranking.focus = tuple(dict.fromkeys(p for p in focus if p in tags))
        return ranking

    def _walk_of(self, np: Any, graph: Graph, edges: Edges) -> _Walk:
        with self._lock:
            walk = self._walk
            if walk is None or walk.edges is not edges:
                # the same files (an edit changed a body): the path index as it was, parts made kept
                pairs = walk.pairs if walk is not None else None
                if pairs is None or (pairs.paths is not graph.paths and pairs.paths != graph.paths):
                    pairs = Pairs(graph.paths)
                self._walk = walk = _Walk.of(np, graph, edges, pairs)
            return walk


@dataclass
class _Walk:
    """What a focused map needs besides the graph: how many live references each used name has and
    each file's in-total (what M sends it from a rank of 1 everywhere), for the step against the
    edges, and the path index for the focus's partners (`pairing`). Made at the first focused map
    of these edges."""

    edges: Edges
    pairs: Pairs
    lengths: np.ndarray  # each used name's live references (graph.starts' steps)
    inverse_in: np.ndarray  # 1 / each file's in-total, 0 for a file nothing uses
    isolated: np.ndarray  # files no edge leaves or enters
    decay: np.ndarray  # each definition slot's share of what reaches its file otherwise: DECAY**k / DAMPING

    @classmethod
    def of(cls, np: Any, graph: Graph, edges: Edges, pairs: Pairs) -> _Walk:
        """The arrays of these edges."""
        n = len(graph.paths)
        lengths = np.diff(np.append(graph.starts, len(graph.src)))
        in_total = graph.product(np, edges, np.ones(n)) if n else np.zeros(0)
        has_in = in_total > 1e-12  # a file's own share taken off again: rounding is no in-edge
        inverse_in = np.divide(1.0, in_total, out=np.zeros(n), where=has_in)
        decay = np.power(DECAY, graph.def_local) / DAMPING  # once: 15 ms on the kernel's 900k slots
        return cls(edges, pairs, lengths, inverse_in, edges.dangling & ~has_in, decay)

    def reverse(self, np: Any, graph: Graph, ranks: np.ndarray) -> np.ndarray:
        """A step against the edges: each file's rank to the files that use it, in proportion to
        what each sends it (Mᵀ·(ranks / in-totals)); a file nothing uses sends nothing. Each name's
        sum repeated over its references (np.repeat, 3 ms on the kernel's 2.3M, a take 9 ms)."""
        u = ranks * self.inverse_in
        if not len(graph.src):  # no reference: nothing to walk against (and bincount of none is int)
            return np.zeros(len(graph.paths))
        per_name = np.bincount(graph.used_slot_name, weights=u[graph.used_slot_file], minlength=len(graph.used))
        sent = np.repeat(per_name, self.lengths)
        sent *= self.edges.per_edge
        return np.bincount(graph.src, weights=sent, minlength=len(graph.paths)) - u * self.edges.self_weight

    def personal(self, np: Any, n: int, focus: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The personalisation (sums to 1) and its part on the focus, its partners and siblings:
        what reaches those files other than through their definitions (a focus file's own
        definitions score by it too: nothing ranked may reference them)."""
        near = np.zeros(n)
        for f, times in Counter(focus).items():
            near[f] += times
            partners = self.pairs.partners(f)
            if partners:
                near[partners] += times * PAIRED / len(partners)
            siblings = self.pairs.siblings(f)
            if siblings:
                near[siblings] += times * (ISOLATED_SIBLINGS if self.isolated[f] and not partners else SIBLINGS) / len(siblings)
        personal = near + EVERYWHERE * len(focus) / n
        total = personal.sum()
        return personal / total, near / total


def rank(tags: Mapping[str, FileTags], focus: Iterable[str] = (), mentioned: Iterable[str] = (),
         limit: int | None = None) -> Ranking:
    """Rank once (a fresh Ranker); an index keeps its own Ranker to re-rank cheaply."""
    return Ranker().rank(tags, focus, mentioned, limit)


def _solve(np: Any, graph: Graph, edges: Edges, focus: list[int], limit: int | None,
           walk: _Walk | None = None) -> Ranking:
    """PageRank over the files, then each definition's score: the rank arriving at it through the
    references, and what reached its file otherwise (the steps against the edges, the focus, its
    partners and folder), to the file's first definitions, halving."""
    n, paths = len(graph.paths), graph.paths
    if n == 0:
        return Ranking([], [])
    ranks, other = _pagerank(np, graph, edges, focus, walk)
    def_file = graph.def_file
    score = graph.slot_flows(np, edges, ranks) + ranks[def_file] * 1e-3  # unreferenced definitions still count a little
    if other is not None and walk is not None:
        score *= 1 - REVERSE
        score += other[def_file] * walk.decay
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


def _pagerank(np: Any, graph: Graph, edges: Edges, focus: list[int], walk: _Walk | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """Personalised PageRank; dangling files give their rank to the personalisation. With a focus
    (and its `walk`), personalised on the focus, its partners and folder (`_Walk.personal`); the
    second answer is then what reaches each file other than through its definitions (two steps of
    REVERSE against the edges from the ranks, and its part of the personalisation), else None.

    Its fixed point r = dPr + (what P loses: dangling files, d·r[lost].sum() + 1 − d)p is y/Σy for
    y = dPy + p (summing that equation gives Σy(1 − d) + d·y[lost].sum() = 1), so it is the linear
    system (I − dP)y = p, solved by GMRES: the kernel's graph needs ~36 products with M to 1e-9
    (~48 to 1e-12), power iteration ~170 to 1e-12."""
    key = tuple(sorted(Counter(focus).items()))
    known = edges.solutions.get(key)
    if known is not None:
        edges.solutions.move_to_end(key)
        return (known[0], known[1]) if known.ndim == 2 else (known, None)
    n = len(graph.paths)
    if focus and walk is not None:
        personal, near = walk.personal(np, n, focus)
    else:  # an untargeted map (a focus always comes with its walk: Ranker.rank)
        personal, near = np.full(n, 1.0 / n), None
    y = gmres.solve(np, lambda v: v - DAMPING * graph.product(np, edges, v), personal)
    y = np.maximum(y, 0.0)  # the exact solution is ≥ 0; a last rounding below it is no rank
    total = y.sum()
    ranks = y / total
    other = None
    if near is not None and walk is not None:
        # two steps against the edges, the second from what the first brought: the users of a
        # module's users (a test of everything, as requests' test_requests.py, from most modules)
        first = np.maximum(DAMPING * REVERSE * walk.reverse(np, graph, ranks), 0.0)
        other = first + np.maximum(DAMPING * REVERSE * walk.reverse(np, graph, first), 0.0) + near / total
    edges.solutions[key] = np.vstack((ranks, other)) if other is not None else ranks
    if len(edges.solutions) > KEPT_SOLUTIONS:
        edges.solutions.popitem(last=False)
    return ranks, other
