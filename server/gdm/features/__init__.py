"""LSP features, one module each; `register_all` wires them onto a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gdm.features import (code_actions, code_lens, cost, history, lifecycle, ready_actions, review, review_actions,
                          tasks)
from gdm.features import conversations, follow_up_actions
from gdm.features import code_map
from gdm.features import mcp
from gdm.features import usage
from gdm.features import inline_completion

if TYPE_CHECKING:
    from gdm.server import GdmServer

FEATURES = (lifecycle, code_lens, tasks, review, cost, history, conversations, code_map, mcp,
            usage, inline_completion)

# Every provider of code actions, in the order the editor lists them.
ACTION_PROVIDERS: tuple[code_actions.ActionProvider, ...] = (
    review_actions.review_actions,
    code_actions.ask_actions,
    follow_up_actions.continue_actions,
    *ready_actions.PROVIDERS,
    history.undo_actions,
)


def register_all(server: GdmServer) -> None:
    """Register every feature's handlers on `server`."""
    for feature in FEATURES:
        feature.register(server)
    code_actions.register(server, ACTION_PROVIDERS)
