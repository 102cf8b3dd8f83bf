"""A pygls 2 language server with no features: the floor for start-up time.

`benchmarks/startup.py` spawns it to measure what pygls and lsprotocol cost on their own, so
that gdm's start-up is read as a ratio over this baseline.
"""

from pygls.lsp.server import LanguageServer


def main() -> None:
    """Serve LSP on stdio until the client sends exit."""
    server = LanguageServer("bare-pygls", "0.0.0")
    server.start_io()


if __name__ == "__main__":
    main()
