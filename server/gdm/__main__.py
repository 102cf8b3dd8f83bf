"""`python -m gdm` / `gdm-lsp`: serve LSP on stdio.

Only JSON-RPC may reach the real stdout. litellm (and anything else) may print: so JSON-RPC is
written to a duplicate of the original stdout descriptor, and descriptor 1 and `sys.stdout` are
pointed at stderr before anything else is imported.
"""

from __future__ import annotations

import sys

from gdm.stdout_guard import claim_stdout


USAGE = """usage: gdm-lsp [--stdio] | --help | --version

gdm's language server: speaks LSP (JSON-RPC) on stdin/stdout until the editor says exit or closes
stdin. Start it from an editor (see editors/ and the README); settings come from the editor's
initializationOptions and `gdm` settings section, else GDM_* variables.

  --stdio     serve on stdin/stdout (the default; accepted because LSP clients pass it)
  --help      show this help and exit
  --version   show gdm's version and exit

Headless use (no editor): `gdm ask`, `gdm demo` (see `gdm --help`).
"""
ACCEPTED = frozenset({"--stdio"})  # and --clientProcessId[=N], which vscode-languageclient may pass


def _command_line(argv: list[str]) -> int | None:
    """Answer --help / --version / bad flags (an exit code), or None to serve."""
    from gdm import __version__  # noqa: PLC0415 - tiny; only when there are flags

    for arg in argv:
        if arg in ("-h", "--help"):
            print(USAGE, end="")
            return 0
        if arg in ("-V", "--version"):
            print(f"gdm-lsp {__version__}")
            return 0
    unknown = [a for a in argv if a not in ACCEPTED and not a.startswith("--clientProcessId")]
    if unknown:
        print(f"gdm-lsp: unknown argument {unknown[0]!r} (gdm-lsp --help)", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        print("gdm-lsp: stdin is a terminal; gdm-lsp speaks LSP on stdin/stdout and is started by an editor "
              "(gdm-lsp --help; `gdm ask` runs a task from a terminal)", file=sys.stderr)
        return 2
    return None


def main(argv: list[str] | None = None) -> None:
    """Serve LSP on stdin/stdout until the client says exit (or answer --help / --version)."""
    code = _command_line(sys.argv[1:] if argv is None else argv)
    if code is not None:
        raise SystemExit(code)
    rpc_out = claim_stdout()
    from gdm.server import GdmServer  # noqa: PLC0415 - only after stdout is made safe
    from gdm.stdio import serve  # noqa: PLC0415

    serve(GdmServer().ls, sys.stdin.buffer, rpc_out)


if __name__ == "__main__":
    main()
