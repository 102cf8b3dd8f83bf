"""The one module that imports tree-sitter: grammars, tags queries, parsing into plain data.

Definitions and references come from the `queries/tags.scm` each per-language grammar wheel
ships (TypeScript's extends JavaScript's, as in the grammar repository). A grammar is imported
on first use (a few ms each), so a workspace of one language loads one grammar. Everything
returned is plain data (`tags.FileTags`): the index, the cache and the ranking never see a node.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from gdm.context.repomap.tags import Def, FileTags, kind_of

log = logging.getLogger(__name__)

# language key -> (module, function returning the language, tags.scm packages in order)
GRAMMARS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "python": ("tree_sitter_python", "language", ("tree_sitter_python",)),
    "javascript": ("tree_sitter_javascript", "language", ("tree_sitter_javascript",)),
    "typescript": ("tree_sitter_typescript", "language_typescript", ("tree_sitter_javascript", "tree_sitter_typescript")),
    "tsx": ("tree_sitter_typescript", "language_tsx", ("tree_sitter_javascript", "tree_sitter_typescript")),
    "go": ("tree_sitter_go", "language", ("tree_sitter_go",)),
    "rust": ("tree_sitter_rust", "language", ("tree_sitter_rust",)),
    "java": ("tree_sitter_java", "language", ("tree_sitter_java",)),
    "c": ("tree_sitter_c", "language", ("tree_sitter_c",)),
    "cpp": ("tree_sitter_cpp", "language", ("tree_sitter_cpp",)),
    "ruby": ("tree_sitter_ruby", "language", ("tree_sitter_ruby",)),
}

# tags.scm of C and C++ name no references: every identifier is one (as Aider does with tokens).
IDENTIFIER_REFS = {"c": "[(identifier) (type_identifier) (field_identifier)] @name",
                   "cpp": "[(identifier) (type_identifier) (field_identifier) (namespace_identifier)] @name"}

# Definitions the shipped tags.scm leave out, added after it (constants, type aliases, enums).
EXTRA_TAGS = {
    "typescript": """(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.type
(internal_module name: (identifier) @name) @definition.module""",
    "go": """(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))""",
    "rust": """(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.constant""",
    "java": """(enum_declaration name: (identifier) @name) @definition.type""",
}
EXTRA_TAGS["tsx"] = EXTRA_TAGS["typescript"]

# Declarator nodes whose signature is their enclosing definition's header (C, C++).
_DECLARATORS = {"function_declarator", "pointer_declarator", "reference_declarator"}
_HEADER_PARENTS = {"function_definition", "declaration", "field_declaration", "template_declaration"}
SIGNATURE_CHARS = 200
# A comment at the end of a header line (`def f():  # why`), or a whole comment line inside it.
_COMMENT = re.compile(r"(^\s*(#|//).*$)|((?<=[:{(,])\s*(#|//)[^'\"]*$)")


@dataclass
class Grammar:
    """A loaded language: the tree-sitter Language and its compiled tags (and identifier) queries."""

    key: str
    language: Any
    tags: Any
    identifiers: Any | None


class Grammars:
    """Loads grammars and queries on first use; owned by an index, shared by its worker threads."""

    def __init__(self) -> None:
        self._loaded: dict[str, Grammar | None] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Grammar | None:
        """The grammar for a language key, or None when its wheel is missing or broken (logged once)."""
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = _load(key)
            return self._loaded[key]

    @staticmethod
    def versions() -> str:
        """Installed tree-sitter and grammar versions: part of the cache key, so upgrades re-parse."""
        from importlib import metadata
        names = ["tree-sitter"] + sorted({m.replace("_", "-") for m, _f, _q in GRAMMARS.values()})
        found = []
        for name in names:
            try:
                found.append(f"{name}={metadata.version(name)}")
            except metadata.PackageNotFoundError:
                found.append(f"{name}=none")
        return ",".join(found)


def _load(key: str) -> Grammar | None:
    module_name, function, query_packages = GRAMMARS[key]
    try:
        import tree_sitter as ts
        module = importlib.import_module(module_name)
        language = ts.Language(getattr(module, function)())
        source = "\n".join((resources.files(p) / "queries" / "tags.scm").read_text(encoding="utf-8")
                           for p in query_packages) + "\n" + EXTRA_TAGS.get(key, "")
        tags = ts.Query(language, source)
        extra = IDENTIFIER_REFS.get(key)
        identifiers = ts.Query(language, extra) if extra else None
    except (ImportError, OSError, AttributeError, ValueError, SyntaxError) as exc:
        log.warning("code map: no %s grammar (%s); its files are listed by path only", key, exc)
        return None
    return Grammar(key, language, tags, identifiers)


class TreeCache:
    """Syntax trees of open buffers, for incremental re-parsing on each change (one per index)."""

    def __init__(self) -> None:
        self._trees: dict[str, tuple[str, bytes, Any]] = {}
        self._lock = threading.Lock()

    def tags(self, grammars: Grammars, path: str, lang: str, text: str) -> FileTags:
        """Tags of an open buffer's text, re-parsing incrementally from its previous tree."""
        grammar = grammars.get(lang)
        if grammar is None:
            return FileTags(lang, [], [], "no grammar")
        data = text.encode("utf-8", errors="replace")
        with self._lock:
            previous = self._trees.get(path)
        import tree_sitter as ts
        parser = ts.Parser(grammar.language)
        if previous is not None and previous[0] == lang:
            old_tree = previous[2]
            _edit(old_tree, previous[1], data)
            tree = parser.parse(data, old_tree)
        else:
            tree = parser.parse(data)
        with self._lock:
            self._trees[path] = (lang, data, tree)
        return _extract(grammar, tree, data)

    def forget(self, path: str) -> None:
        """A closed buffer's tree is dropped."""
        with self._lock:
            self._trees.pop(path, None)

    def has(self, path: str) -> bool:
        """Whether a tree is kept for this path (tests: incremental re-parse happened)."""
        with self._lock:
            return path in self._trees


def _edit(tree: Any, old: bytes, new: bytes) -> None:
    """Tell the old tree where the text changed: the span between common prefix and suffix."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    old_end, new_end = len(old) - end, len(new) - end
    tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end, start_point=_point(old, start),
              old_end_point=_point(old, old_end), new_end_point=_point(new, new_end))


def _point(data: bytes, offset: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, offset)
    return row, offset - (data.rfind(b"\n", 0, offset) + 1)


def parse(grammars: Grammars, lang: str, data: bytes) -> FileTags:
    """Definitions and references of one file's bytes (UTF-8), from its grammar's tags query."""
    grammar = grammars.get(lang)
    if grammar is None:
        return FileTags(lang, [], [], "no grammar")
    import tree_sitter as ts
    tree = ts.Parser(grammar.language).parse(data)
    return _extract(grammar, tree, data)


def _extract(grammar: Grammar, tree: Any, data: bytes) -> FileTags:
    defs: dict[int, tuple[int, str, Any, Any]] = {}  # name node start byte -> (priority, kind, def node, name)
    refs: dict[str, int] = {}
    for name in _reference_nodes(grammar, tree, defs):
        text = sys.intern(data[name.start_byte:name.end_byte].decode("utf-8", "replace"))
        refs[text] = refs.get(text, 0) + 1
    ordered = sorted(defs.values(), key=lambda d: (d[2].start_byte, -d[2].end_byte))
    out = [_definition(kind, node, name, data) for _p, kind, node, name in ordered]
    note = "syntax errors" if tree.root_node.has_error else None
    return FileTags(grammar.key, _nest(out), refs, note)


def _reference_nodes(grammar: Grammar, tree: Any, defs: dict[int, tuple[int, str, Any, Any]]) -> list[Any]:
    """Fill `defs` from the tags query; return the name nodes of references (never a definition's name)."""
    import tree_sitter as ts
    found: list[Any] = []
    for _pattern, captures in ts.QueryCursor(grammar.tags).matches(tree.root_node):
        names = captures.get("name")
        if not names:
            continue
        name = names[0]
        for capture, nodes in captures.items():
            if capture.startswith("definition."):
                prio = 0 if capture in ("definition.method", "definition.interface") else 1
                old = defs.get(name.start_byte)
                if old is None or prio < old[0]:
                    defs[name.start_byte] = (prio, kind_of(capture[11:]), nodes[0], name)
                break
            if capture.startswith("reference."):
                found.append(name)
                break
    if grammar.identifiers is not None:
        for nodes in ts.QueryCursor(grammar.identifiers).captures(tree.root_node).values():
            found.extend(nodes)
    return [node for node in found if node.start_byte not in defs]


def reference_lines(grammars: Grammars, lang: str, data: bytes, wanted: str) -> list[int]:
    """0-based lines where `wanted` is referenced (by the tags query; never its definitions)."""
    grammar = grammars.get(lang)
    if grammar is None:
        return []
    import tree_sitter as ts
    tree = ts.Parser(grammar.language).parse(data)
    key = wanted.encode("utf-8")
    return sorted({n.start_point[0] for n in _reference_nodes(grammar, tree, {})
                   if data[n.start_byte:n.end_byte] == key})


def _definition(kind: str, node: Any, name: Any, data: bytes) -> Def:
    header = node
    if header.type in _DECLARATORS:
        parent = header.parent
        while parent is not None and parent.type in _DECLARATORS:
            parent = parent.parent
        if parent is not None and parent.type in _HEADER_PARENTS:
            header = parent
    return Def(data[name.start_byte:name.end_byte].decode("utf-8", "replace"), kind, name.start_point[0],
               header.start_point[0], header.end_point[0], _signature(header, data), -1)


def _signature(node: Any, data: bytes) -> str:
    """The definition's header (up to its body), on one line, never its body."""
    body = node.child_by_field_name("body")
    if body is None:
        value = node.child_by_field_name("value")
        body = value.child_by_field_name("body") if value is not None else None
    end = body.start_byte if body is not None and body.start_byte > node.start_byte else node.end_byte
    if body is None:
        newline = data.find(b"\n", node.start_byte, end)
        end = newline if newline != -1 else end
    raw = data[node.start_byte:min(end, node.start_byte + SIGNATURE_CHARS * 4)].decode("utf-8", "replace")
    lines = [_COMMENT.sub("", part).strip() for part in raw.splitlines()]
    text = " ".join(part for part in lines if part).rstrip(" {")
    return text if len(text) <= SIGNATURE_CHARS else text[:SIGNATURE_CHARS - 1] + "…"


def _nest(defs: list[Def]) -> list[Def]:
    """Each definition's parent (the nearest enclosing one), and functions in classes as methods."""
    stack: list[int] = []
    out: list[Def] = []
    for index, d in enumerate(defs):
        while stack and out[stack[-1]].end_line < d.start_line:
            stack.pop()
        while stack and not _within(d, out[stack[-1]]):
            stack.pop()
        parent = stack[-1] if stack else -1
        kind = d.kind
        if kind == "function" and parent >= 0 and out[parent].kind in ("class", "interface"):
            kind = "method"
        out.append(d._replace(parent=parent, kind=kind))
        stack.append(index)
    return out


def _within(inner: Def, outer: Def) -> bool:
    return outer.start_line <= inner.start_line and inner.end_line <= outer.end_line and inner != outer
