"""`gdm map` and `gdm symbols`: the code map and symbol lookup without an editor.

    gdm map [--workspace DIR] [--tokens N] [--focus PATH…]   the map in rank order, Aider-like
    gdm symbols NAME… [--workspace DIR]                    `path:line: kind signature` per definition

Tokens are counted as characters / 4 here (no model is involved); the cache is the same as the
language server's (`$XDG_CACHE_HOME/gdm/repomap/`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from gdm.context.repomap.service import CodeMap
from gdm.context.workspace import NoBuffers, PathRefused, WorkspaceView
from gdm.patches.book import PatchBook


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The `map` and `symbols` subcommands."""
    cmap = sub.add_parser("map", help="print the ranked code map of a workspace")
    cmap.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    cmap.add_argument("--tokens", type=int, help="token budget (default: mapTokens, 2048)")
    cmap.add_argument("--focus", nargs="*", default=[], help="files to centre the map on")
    syms = sub.add_parser("symbols", help="print every definition of the names as path:line: kind signature")
    syms.add_argument("names", nargs="+")
    syms.add_argument("--workspace", default=".", help="workspace root (default: current folder)")


def run(args: argparse.Namespace, default_tokens: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `gdm map` / `gdm symbols`: 0 done, 1 nothing found, 2 bad input."""
    root = Path(args.workspace).resolve()
    if not root.is_dir():
        err.write(f"gdm: --workspace {args.workspace} is not a folder\n")
        return 2
    code_map = CodeMap(root)
    try:
        if args.command == "symbols":
            lines = [line for name in args.names for line in code_map.find_symbol(name)]
            out.write("".join(f"{line}\n" for line in lines))
            return 0 if lines else 1
        tokens = args.tokens if args.tokens is not None else default_tokens
        if tokens < 1:
            err.write("gdm: --tokens must be positive\n")
            return 2
        view = WorkspaceView(root, NoBuffers(), PatchBook())
        try:
            focus = [view.rel(os.path.relpath(Path(p).resolve(), root) if os.path.isabs(p) else p) for p in args.focus]
        except PathRefused as exc:
            err.write(f"gdm: {exc}\n")
            return 2
        result = code_map.map(focus, tokens)
        out.write(result.text)
        return 0 if result.text else 1
    finally:
        code_map.close()
