"""LSP features, one module each; `register_all` wires them onto a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gdm.features import code_actions, code_lens, cost, lifecycle, mcp, ready_actions, review, review_actions, tasks

if TYPE_CHECKING:
    from gdm.server import GdmServer

FEATURES = (lifecycle, code_lens, tasks, review, cost, mcp)

# Every provider of code actions, in the order the editor lists them.
ACTION_PROVIDERS: tuple[code_actions.ActionProvider, ...] = (
    review_actions.review_actions,
    code_actions.ask_actions,
    *ready_actions.PROVIDERS,
)


def register_all(server: GdmServer) -> None:
    """Register every feature's handlers on `server`."""
    for feature in FEATURES:
        feature.register(server)
    code_actions.register(server, ACTION_PROVIDERS)
