"""What a reference to a name says, by the name alone: a one-byte code, made where the tags are made.

Aider's rules (long specific names ×10, private `_names` ×0.1), plus ours: names of methods of the
language's own types (`append`, `join`, `get`, `push`…) ×0.01, and the language's built-in functions
(`len`, `super`) and dunder names nothing — a call of `x.append()` says nothing about a project's
`append`. The language is the referencing file's. The code is computed once per reference when a file
is parsed (in the parse workers) and cached with its tags, so ranking never looks at a name's text;
the weights that depend on the whole tree (definer count, the prompt's mentions) are the ranker's.
"""

from __future__ import annotations

import builtins

NONE, SPECIFIC, PRIVATE, COMMON = 1, 2, 4, 8  # the code's bits

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
FAMILY = {"python": "python", "javascript": "js", "typescript": "js", "tsx": "js", "go": "go",
          "c": "c", "cpp": "c"}
_EMPTY: frozenset[str] = frozenset()


def code(name: str, lang: str | None) -> int:
    """The weight code of a reference to `name` from a file of language `lang`."""
    if name.startswith("__") and name.endswith("__"):
        return NONE
    family = FAMILY.get(lang or "", "")
    if name in BUILTIN_NAMES.get(family, _EMPTY):
        return NONE
    out = 0
    if len(name) >= 8 and ("_" in name.strip("_") or (name != name.lower() and name != name.upper())):
        out |= SPECIFIC
    if name.startswith("_"):
        out |= PRIVATE
    if name in COMMON_NAMES.get(family, _EMPTY):
        out |= COMMON
    return out


def base_of(value: int) -> float:
    """The weight a code stands for (multiplied in the order Aider's rules are listed)."""
    if value & NONE:
        return 0.0
    weight = 1.0
    if value & SPECIFIC:
        weight *= 10
    if value & PRIVATE:
        weight *= 0.1
    if value & COMMON:
        weight *= 0.01
    return weight


def base_weight(name: str, lang: str | None) -> float:
    """The part of a reference's weight that never changes (everything but mentions and definer count)."""
    return base_of(code(name, lang))
