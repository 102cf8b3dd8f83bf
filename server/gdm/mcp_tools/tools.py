"""MCP tools as model-facing tools: `mcp__<server>__<tool>`, gated by `mcpPolicy`, audited.

Names are sanitised to what providers accept (`^[a-zA-Z0-9_-]{1,64}$`), collisions resolved
with a suffix (and logged). The input schema is the server's own: properties and required
unchanged, only top-level keywords providers reject dropped. A tool whose schema cannot be
sent is not offered; a call to it is a clear tool error. Each call is decided by the policy
(`ask`: the user, through the session's Approver), written as an audit row, and its result
capped like `run_command`'s (the loop's model client redacts it like every tool result).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gdm.mcp_tools.results import RemoteTool
from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest, Tool, ToolContext, ToolError, ToolOutcome, ToolRegistry
from gdm.tools.shell import MAX_OUTPUT_CHARS

if TYPE_CHECKING:
    from gdm.mcp_tools.manager import McpManager

log = logging.getLogger(__name__)

MAX_NAME = 64
MAX_DESCRIPTION = 1024
PREFIX = "mcp__"
# Top-level schema keywords some providers refuse (Gemini, OpenAI's strict mode); never properties.
DROPPED_KEYWORDS = ("$schema", "$id", "$comment")
_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """`mcp__<server>__<tool>`, sanitised: other characters become `_`, long names keep a hash."""
    name = f"{PREFIX}{_BAD_CHARS.sub('_', server)}__{_BAD_CHARS.sub('_', tool)}"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME - 9]}_{digest}"
    return name


def unique_names(wanted: list[tuple[str, str]], taken: Iterable[str]) -> list[str]:
    """A distinct sanitised name per (server, tool); a clash gets `_2`, `_3`… and is logged."""
    used = set(taken)
    names = []
    for server, tool in wanted:
        base = tool_name(server, tool)
        name, n = base, 1
        while name in used:
            n += 1
            suffix = f"_{n}"
            name = base[:MAX_NAME - len(suffix)] + suffix
        if name != base:
            log.warning("MCP tool %r of server %r is offered as %s (%s was taken)", tool, server, name, base)
        used.add(name)
        names.append(name)
    return names


def provider_schema(schema: Any) -> dict[str, Any]:
    """The server's input schema as a provider takes it; ValueError (the reason) if it cannot be sent."""
    if not isinstance(schema, dict):
        raise ValueError(f"the input schema is not an object but {type(schema).__name__}")
    if schema.get("type", "object") != "object":
        raise ValueError(f"the input schema's type is {schema.get('type')!r}, not 'object'")
    props = schema.get("properties", {})
    if not isinstance(props, dict) or not all(isinstance(v, dict) for v in props.values()):
        raise ValueError("the input schema's 'properties' is not an object of schemas")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ValueError("the input schema's 'required' is not a list of names")
    try:
        json.dumps(schema)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the input schema is not JSON ({exc})") from None
    cleaned = {k: v for k, v in schema.items() if k not in DROPPED_KEYWORDS}
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    return cleaned


def cap_output(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Head and tail of a long result, like `run_command`'s output."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n… [{len(text) - 2 * half} characters of the result cut] …\n{text[-half:]}"


class McpTool(Tool):
    """One tool of one MCP server, called through the session's manager."""

    def __init__(self, manager: McpManager, server: str, remote: RemoteTool, name: str,
                 parameters: dict[str, Any]) -> None:
        self.manager = manager
        self.server = server
        self.remote = remote.name
        self.name = name  # type: ignore[misc] - per instance, not per class
        text = remote.description.strip() or f"the tool {remote.name}"
        self.description = f"[MCP server '{server}'] {text}"[:MAX_DESCRIPTION]  # type: ignore[misc]
        self.parameters = parameters  # type: ignore[misc]

    def check_args(self, args: Any) -> dict[str, Any]:
        """An object with the required keys; the server checks the rest against its own schema."""
        if not isinstance(args, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(args).__name__}")
        missing = [k for k in self.parameters.get("required", []) if k not in args]
        if missing:
            raise ToolError(f"{self.name}: missing required argument(s): {', '.join(missing)}")
        if self.parameters.get("additionalProperties") is False:
            unknown = sorted(set(args) - set(self.parameters.get("properties", {})))
            if unknown:
                raise ToolError(f"{self.name}: unknown argument(s): {', '.join(unknown)}")
        return args

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        decision, reason = await self.decide(ctx, args)
        detail = {"tool": self.name, "server": self.server, "serverTool": self.remote, "arguments": args,
                  "policy": self.manager.policy, "decision": decision, "reason": reason, "by": self.manager.user}
        # The audit row is written (a store write: a worker thread) while the call runs, not before it.
        audit = asyncio.ensure_future(asyncio.to_thread(ctx.audit, "mcp", detail) if ctx.audit else _nothing())
        if decision == DENY:
            await audit
            who = "by the user" if reason == "user" else f"({reason})"
            raise ToolError(f"{self.name}: calling the tool {self.remote!r} of MCP server {self.server!r} was denied "
                            f"{who}. Do not retry it; continue without it or explain what the user could do.")
        try:
            result = await self.manager.call(self.server, self.remote, args)
        except ToolError:
            await audit
            raise
        await audit
        text = cap_output(result.text)
        if len(text) < len(result.text):
            self.manager.problem(f"gdm: the MCP tool {self.remote!r} of server {self.server!r} returned "
                                 f"{len(result.text):,} characters; the model got the first and last "
                                 f"{MAX_OUTPUT_CHARS // 2:,}", key=f"huge:{self.name}")
            self.manager.flush()
        if result.is_error:
            raise ToolError(f"{self.name}: the tool reported an error:\n{text}")
        return ToolOutcome(text)

    async def decide(self, ctx: ToolContext, args: dict[str, Any]) -> tuple[str, str]:
        """The decision on a call and who made it: the policy, an earlier 'always', or the user."""
        policy = self.manager.policy
        if policy == "deny":
            return DENY, "mcp policy deny"
        if policy == "allow":
            return ALLOW_ONCE, "mcp policy allow"
        if self.name in self.manager.always_allowed:
            return ALWAYS_ALLOW, "allowed earlier for this session"
        if ctx.approve is None:
            return DENY, "nobody to ask (not interactive)"
        shown = json.dumps(args, ensure_ascii=False, indent=1)
        answer = await ctx.approve(ApprovalRequest(ctx.task_id, self.name, shown, str(ctx.view.root),
                                                   kind="mcp", server=self.server, server_tool=self.remote))
        if answer == ALWAYS_ALLOW:
            self.manager.always_allowed.add(self.name)
        return (answer if answer in (ALLOW_ONCE, ALWAYS_ALLOW) else DENY), "user"


async def _nothing() -> None:
    return None


class UnusableTool(Tool):
    """A listed tool that cannot be offered (its schema): calling it anyway is a clear error."""

    parameters: dict[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, name: str, server: str, remote: str, reason: str) -> None:
        self.name = name  # type: ignore[misc]
        self.description = reason  # type: ignore[misc]
        self.server, self.remote, self.reason = server, remote, reason

    def check_args(self, args: Any) -> dict[str, Any]:
        return args if isinstance(args, dict) else {}

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        raise ToolError(f"{self.name}: the tool {self.remote!r} of MCP server {self.server!r} is not offered: "
                        f"{self.reason}. Continue without it.")


class McpRegistry(ToolRegistry):
    """The task's tools plus its MCP tools; unusable ones answer calls but are not sent to the model."""

    def __init__(self, tools: Iterable[Tool], unusable: Iterable[UnusableTool] = ()) -> None:
        super().__init__(tools)
        self._unusable = {t.name: t for t in unusable}

    def get(self, name: str) -> Tool | None:
        """The tool with this name (an unusable MCP tool too), or None."""
        return super().get(name) or self._unusable.get(name)


def registry_with(base: ToolRegistry, manager: McpManager, listed: dict[str, list[RemoteTool]]) -> McpRegistry:
    """`base`'s tools plus each server's tools (in server order), named and checked."""
    tools: list[Tool] = [t for n in base.names() if (t := base.get(n)) is not None]
    wanted = [(server, remote) for server, remotes in listed.items() for remote in remotes]
    names = unique_names([(s, r.name) for s, r in wanted], base.names())
    unusable: list[UnusableTool] = []
    for (server, remote), name in zip(wanted, names):
        try:
            tools.append(McpTool(manager, server, remote, name, provider_schema(remote.input_schema)))
        except ValueError as exc:
            unusable.append(UnusableTool(name, server, remote.name, str(exc)))
            manager.problem(f"gdm: the tool {remote.name!r} of MCP server {server!r} is not offered to the model: "
                            f"{exc}", key=f"schema:{server}:{remote.name}")
    return McpRegistry(tools, unusable)
