"""`gdm.cost`: task, session and day totals, the budgets and a per-model breakdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer


def register(server: GdmServer) -> None:
    """Register the cost command."""

    @server.ls.command(Command.COST.identifier)
    async def cost(*args: Any) -> dict[str, Any]:
        from gdm.features.params import TaskIdParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(TaskIdParams, Command.COST.identifier, args, optional=True)
        session = await server.get_session()
        await session.spending.settled()  # an inline completion answered just now is stored after its answer
        # A request from the user: read the day total again (other windows spend on the same database).
        return {**session.totals(params.task_id, fresh=True), "byModel": session.by_model(),
                "sandbox": session.sandbox.state,
                "completions": completions_line(session)}


def completions_line(session: Session) -> dict[str, Any]:
    """The cost meter's `completions` line: today's inline completions of this user (calls, USD,
    tokens; shown, accepted partly, accepted, lines accepted), their model and whether they are on."""
    settings = session.settings
    return {"model": settings.completion_model_name(), "enabled": settings.completions_on(),
            **session.store.completion_line(user=session.user)}
