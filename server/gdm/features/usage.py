"""`gdm.usage {since?, by?}`: the store's model calls, tokens and USD, the rows `gdm usage` prints.

- `since`: a UTC day `YYYY-MM-DD` (from that day on; absent: everything recorded);
- `by`: `day` (default), `model`, `user` or `task`.

The answer is `{by, since, rows}`, `rows` exactly what `gdm usage --by BY --format json` prints
(one query, `gdm.store.reports.usage`, for both); the VS Code extension draws its usage chart
from it. Like the command line, it reads every session on the database.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any


from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.server import GdmServer


def register(server: GdmServer) -> None:
    """Register the usage command."""

    @server.ls.command(Command.USAGE.identifier)
    async def usage(*args: Any) -> dict[str, Any]:
        from gdm.features.params import UsageParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(UsageParams, Command.USAGE.identifier, args, optional=True)
        session = await server.get_session()
        await session.spending.settled()  # the calls and outcomes queued behind their answers count too
        from gdm.store import reports  # noqa: PLC0415 - the session's store has imported sqlmodel already

        rows = await asyncio.to_thread(reports.usage, session.store, since=params.since, by=params.by)
        return {"by": params.by, "since": params.since, "rows": rows}
