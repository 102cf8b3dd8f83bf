"""The def/ref graph of a snapshot of the code map, for ranking (rank.py): built from the tags'
key and code columns with numpy sorts, never a loop over names, and after an edit from the last
graph (`_Resolved.update`).

A reference (file, name) is an edge of the same weight to every *other* file defining the name;
those edges are never built (`Graph`). The weights are Aider's, plus ours (`weights`); names
defined in more than five files weigh ×0.1, a reference's count by its square root, and the
names the prompt mentions ×10 (×1000 if common) (`Graph.edges`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gdm.context.repomap import weights
from gdm.context.repomap.tags import FileTags, name_key

if TYPE_CHECKING:
    import numpy as np


def same_columns(a: FileTags, b: FileTags) -> bool:
    """Whether two tags make the same part of the graph (the same object, or equal key columns)."""
    return a is b or (a.def_keys == b.def_keys and a.refs.name_keys == b.refs.name_keys
                      and a.refs.counts == b.refs.counts and a.refs.codes == b.refs.codes)


@dataclass
class Edges:
    """The reference edges' shares for one set of mentioned names (they weigh ×10, ×1000 if common)."""

    mentioned: frozenset[str]
    per_edge: np.ndarray  # each live reference's share of its file's rank, per definer
    own_edge: np.ndarray  # the share of each reference whose own file defines the name too
    self_weight: np.ndarray  # per file, the sum of its own_edge (what it would send itself)
    dangling: np.ndarray  # files with no out-edge
    sent: np.ndarray  # room for what each reference sends, in a product
    mention_focus: list[int] = field(default_factory=list)  # files defining a specific mentioned name
    # PageRank's answers by focus (file id, times given): the same focus again (the open file, map
    # after map) is not solved again. rank.py keeps the last KEPT_SOLUTIONS, 0.6 MB each on the kernel.
    solutions: OrderedDict[tuple[tuple[int, int], ...], np.ndarray] = field(default_factory=OrderedDict)


@dataclass
class Graph:
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
    _edges: Edges | None = None

    def edges(self, np: Any, mentioned: frozenset[str]) -> Edges:
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
        self._edges = Edges(mentioned, per_edge, own_edge,
                             np.bincount(src[self.own], weights=own_edge, minlength=n), out_total == 0,
                             np.empty(len(src)), mention_focus)
        return self._edges

    def name_flows(self, np: Any, edges: Edges, ranks: np.ndarray) -> np.ndarray:
        """The rank arriving at each used name (from every file referencing it)."""
        if not len(self.src):
            return np.zeros(0)
        # Into a kept array, unchecked (the ids are the graph's own), by intp ids: 4.1 ms on the
        # kernel's 2.3M references where ranks[src] * per_edge took 5.7.
        sent = np.take(ranks, self.src, out=edges.sent, mode="clip")
        sent *= edges.per_edge
        return np.add.reduceat(sent, self.starts)

    def product(self, np: Any, edges: Edges, ranks: np.ndarray) -> np.ndarray:
        """M·ranks: the rank each file receives along the edges (the files' own shares taken off)."""
        flows = self.name_flows(np, edges, ranks)[self.used_slot_name]
        return np.bincount(self.used_slot_file, weights=flows, minlength=len(self.paths)) - ranks * edges.self_weight

    def slot_flows(self, np: Any, edges: Edges, ranks: np.ndarray) -> np.ndarray:
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


def build_graph(np: Any, paths: list[str], files: list[FileTags], previous: Graph | None = None) -> Graph:
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
    return Graph(paths, files, {p: i for i, p in enumerate(paths)}, keys, def_file, def_name, def_local,
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
        nid = _lookup(np, keys, _column(np, [t.refs.name_keys for t in files], "<i8"))
        own = np.full(len(nid), -1, dtype=np.int32)
        named = np.flatnonzero(nid >= 0)
        if len(named) and len(def_name):
            slot_key = def_file.astype(np.int64) * n_names + def_name
            by_key = np.argsort(slot_key, kind="stable")
            sorted_keys = slot_key[by_key]
            src = np.repeat(np.arange(n, dtype=np.int64), np.diff(start))[named]
            at = _lookup(np, sorted_keys, src * n_names + nid[named])
            mine = at >= 0
            own[named[mine]] = by_key[at[mine]] - def_start[src[mine]]
        return cls(nid, own, start)

    def update(self, np: Any, previous: Graph, files: list[FileTags], keys: np.ndarray) -> _Resolved | None:
        """This resolution for the same paths with some files' tags changed and `keys` the names
        defined now, or None when too much changed (a build from scratch is then as quick)."""
        changed = [i for i, (a, b) in enumerate(zip(previous.tags, files)) if not same_columns(a, b)]
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
            old_refs = _column(np, [t.refs.name_keys for t in previous.tags], "<i8")
            newly = np.flatnonzero(np.isin(old_refs, added))
            nid[newly] = np.searchsorted(keys, old_refs[newly])
        nids, owns, lengths, at = [], [], [], 0
        for i in changed:  # their references spliced in, looked up afresh
            a, b = int(self.start[i]), int(self.start[i + 1])
            nids += [nid[at:a], _lookup(np, keys, np.frombuffer(files[i].refs.name_keys, "<i8"))]
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
    at = _lookup(np, mine[order], np.frombuffer(tags.refs.name_keys, "<i8"))
    return np.where(at >= 0, order[np.maximum(at, 0)], -1).astype(np.int32) if len(mine) else at
