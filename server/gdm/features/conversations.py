"""Conversations: `gdm.conversation.list` and `gdm.conversation.get` (DESIGN.md, "Conversations").

What a panel lists (this workspace's conversations, newest first) and renders (one conversation's
messages); both read the store (agent/conversation_view.py), on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from gdm.agent import conversation_view
from gdm.agent.conversation import FollowUpRefused
from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.server import GdmServer

log = logging.getLogger(__name__)


def register(server: GdmServer) -> None:
    """Register the conversation commands."""
    ls = server.ls

    @ls.command(Command.CONVERSATION_LIST.identifier)
    async def list_conversations(*args: Any) -> dict[str, Any]:
        from gdm.features.params import ConversationListParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(ConversationListParams, Command.CONVERSATION_LIST.identifier, args, optional=True)
        session = await server.get_session()
        return await asyncio.to_thread(conversation_view.listing, session.store, str(session.view.root),
                                       params.limit)

    @ls.command(Command.CONVERSATION_GET.identifier)
    async def get_conversation(*args: Any) -> dict[str, Any]:
        from gdm.features.params import ConversationGetParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(ConversationGetParams, Command.CONVERSATION_GET.identifier, args)
        session = await server.get_session()
        try:
            return await asyncio.to_thread(conversation_view.messages, session.store, str(session.view.root),
                                           params.conversation_id)
        except FollowUpRefused as exc:
            log.warning("gdm.conversation.get refused: %s", exc)
            raise JsonRpcInvalidParams(f"{Command.CONVERSATION_GET.identifier}: {exc}") from exc
