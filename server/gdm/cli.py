"""`gdm`: headless commands over the same engine the language server runs.

    gdm ask "<prompt>" --workspace DIR [--file F --range L1:L2] [--apply]
    gdm demo            a real task against the bundled scripted model, no key, no network
    gdm serve           the language server on stdio (same as `gdm-lsp`)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gdm.__main__ import main as serve_stdio
from gdm.config import Settings, env_layer, resolve
from gdm.demo import run_demo
from gdm.headless import run_ask


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment, then command-line flags; bad values are reported and defaulted."""
    flags = {"model": args.model, "apiBase": args.api_base, "databaseUrl": args.database_url}
    result = resolve([env_layer(), flags], ["environment", "command line"])
    for error in result.errors:
        print(f"gdm: {error}", file=sys.stderr)
    return result.settings


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `gdm` command."""
    parser = argparse.ArgumentParser(prog="gdm", description="gdm: an AI coding agent in a language server")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="run one task headless and print tool calls, patches and cost")
    ask.add_argument("prompt")
    ask.add_argument("--workspace", default=".", help="workspace root (default: current folder)")
    ask.add_argument("--file", help="the file the request is about")
    ask.add_argument("--range", dest="line_range", help="L1:L2, 1-based inclusive line range in --file")
    ask.add_argument("--apply", action="store_true", help="write the patches to disk (CRITICAL risk never)")
    for p in (ask,):
        p.add_argument("--model", help="litellm model string (else GDM_MODEL)")
        p.add_argument("--api-base", help="base URL of the provider (else GDM_API_BASE)")
        p.add_argument("--database-url", help="store URL (else GDM_DATABASE_URL, else SQLite in the user data dir)")
    demo = sub.add_parser("demo", help="a real task against the bundled scripted model (no key, no network)")
    demo.add_argument("--keep", action="store_true", help="keep the demo workspace and print where it is")
    sub.add_parser("serve", help="serve LSP on stdio (same as gdm-lsp)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve_stdio()
        return
    if args.command == "demo":
        raise SystemExit(run_demo(keep=args.keep, out=sys.stdout))
    workspace = Path(args.workspace).resolve()
    if not workspace.is_dir():
        raise SystemExit(f"gdm: --workspace {args.workspace} is not a folder")
    code = asyncio.run(run_ask(settings_from(args), workspace, args.prompt, args.file, args.line_range,
                               args.apply, sys.stdout))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
