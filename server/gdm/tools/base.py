"""The tool protocol, the context a tool runs in, and the registry the loop reads.

Tool names and arguments are part of the contract (DESIGN.md, "The model-facing tools"):
scripted conversations and recorded replays name them.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from gdm.context.workspace import WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.sandbox import Sandbox

MAX_RESULT_CHARS = 60_000


class ToolError(Exception):
    """A failure the model can read and recover from (bad path, no match, invalid arguments)."""


@dataclass
class ToolOutcome:
    """What a tool gives back: text for the model, and the patches it created or updated."""

    text: str
    patch_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApprovalRequest:
    """A gated tool asks the user: which tool, what exactly it would run, and where.

    `kind` says what is asked: `shell` (run `command`), `network` (run `command` again with the
    network, after it failed in the sandbox without it; `detail` is the line that shows it), `mcp`
    (call `server_tool` of MCP server `server` with the JSON arguments in `command`), `mcp-server`
    (start the workspace-defined server `server`, whose command line is `command` and whose file is
    `server_tool`). `sandbox` says where a command would run (`runs sandboxed: no network, …`).
    """

    task_id: str
    tool: str
    command: str
    cwd: str
    kind: str = "shell"
    server: str | None = None
    server_tool: str | None = None
    sandbox: str = ""
    detail: str | None = None


# The user's answer to an ApprovalRequest: one of these three words.
ALLOW_ONCE, ALWAYS_ALLOW, DENY = "allow_once", "always", "deny"
Approver = Callable[[ApprovalRequest], Awaitable[str]]


@dataclass
class ToolContext:
    """Everything a tool may use, for one task; built by the session, never global."""

    task_id: str
    view: WorkspaceView
    patches: PatchBook
    risk_context: RiskContext
    new_patch_id: Callable[[], str]
    # Gated tools (run_command): the policy, who to ask (None: nobody, so ask means deny), the
    # commands the user allowed for the whole session, and where each decision is recorded.
    approve: Approver | None = None
    shell_policy: str = "ask"
    always_allowed: set[str] = field(default_factory=set)
    audit: Callable[[str, dict[str, Any]], None] | None = None
    cwd: Path | None = None  # where commands run: the workspace root unless a scratch copy is given
    hidden_env: frozenset[str] = frozenset()  # more variable names to drop from commands' environment
    code_map: Any = None  # the session's context.repomap CodeMap (None: the code tools make their own)
    sandbox: Sandbox = field(default_factory=Sandbox)  # where commands run (on unless the user set it off)
    known_commands: frozenset[str] = frozenset()  # the project's test and check commands (shell policy auto)


class Tool(abc.ABC):
    """A model-facing tool: a name, a JSON schema for its arguments, and `run`."""

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]

    @abc.abstractmethod
    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        """Do the work; raise ToolError for anything the model should correct."""

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool definition of this tool."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def check_args(self, args: Any) -> dict[str, Any]:
        """Required arguments present and of the declared JSON type, unknown ones refused."""
        if not isinstance(args, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(args).__name__}")
        props: dict[str, Any] = self.parameters.get("properties", {})
        missing = [k for k in self.parameters.get("required", []) if k not in args]
        if missing:
            raise ToolError(f"{self.name}: missing required argument(s): {', '.join(missing)}")
        unknown = sorted(set(args) - set(props))
        if unknown:
            raise ToolError(f"{self.name}: unknown argument(s): {', '.join(unknown)}; "
                            f"expected {', '.join(props)}")
        for key, value in args.items():
            expected = props[key].get("type")
            if value is not None and not _json_type_ok(value, expected):
                raise ToolError(f"{self.name}: argument {key!r} must be {expected}, got {type(value).__name__}")
        return args


def _json_type_ok(value: Any, expected: str | None) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return True


class ToolRegistry:
    """Tools by name, in a stable order."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools = {t.name: t for t in tools}

    def get(self, name: str) -> Tool | None:
        """The tool with this name, or None."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Every tool name."""
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """The tool definitions sent to the model."""
        return [t.schema() for t in self._tools.values()]


def cap(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """Cut a tool result to `limit` characters, saying so."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [cut: {len(text) - limit} more characters]"


def counter_ids(prefix: str) -> Callable[[], str]:
    """A generator of ids like `prefix-1`, `prefix-2` (per task; no global state)."""
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"
