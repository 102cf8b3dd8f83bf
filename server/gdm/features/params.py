"""Typed payloads of gdm's commands, with errors a client developer can act on.

`workspace/executeCommand` arguments are a one-element list holding the payload object
(DESIGN.md); anything else is an InvalidParams error naming what was expected.

Every command's payload model lives here, and feature modules import this module inside their
handlers: pydantic is not needed to answer `initialize`, so it is imported after it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pygls.exceptions import JsonRpcInvalidParams

T = TypeVar("T", bound=BaseModel)


class Position(BaseModel):
    """An LSP position (0-based)."""

    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(BaseModel):
    """An LSP range."""

    start: Position
    end: Position


class AskParams(BaseModel):
    """`gdm.ask {prompt, uri?, range?, followUp?}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    prompt: str | None = None
    uri: str | None = None
    range: Range | None = None
    follow_up: str | None = Field(default=None, alias="followUp")  # a task id: continue its conversation


class TaskIdParams(BaseModel):
    """`gdm.cancel {taskId}`, `gdm.cost {taskId?}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    task_id: str | None = Field(default=None, alias="taskId")


class UndoParams(TaskIdParams):
    """`gdm.task.undo {taskId, revert?}`: `revert` for a committed task (true: a revert commit too)."""

    revert: bool | None = None


class CommitParams(BaseModel):
    """`gdm.task.commit {taskId | taskIds | conversationId, message?, preview?, noVerify?}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    task_id: str | None = Field(default=None, alias="taskId", min_length=1)
    task_ids: list[str] | None = Field(default=None, alias="taskIds", min_length=1)
    conversation_id: str | None = Field(default=None, alias="conversationId", min_length=1)
    message: str | None = None
    preview: bool = False
    no_verify: bool = Field(default=False, alias="noVerify")

    @model_validator(mode="after")
    def _one_target(self) -> CommitParams:
        given = [n for n, v in (("taskId", self.task_id), ("taskIds", self.task_ids),
                                ("conversationId", self.conversation_id)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of taskId, taskIds, conversationId (got {', '.join(given) or 'none'})")
        if self.message is not None and not self.message.strip():
            raise ValueError("message is empty: leave it out to have one written")
        return self

    def targets(self) -> tuple[str, ...]:
        """The task ids named (empty for a conversation)."""
        return (self.task_id,) if self.task_id else tuple(self.task_ids or ())


class PatchParams(BaseModel):
    """`gdm.patch.accept` / `reject` / `showRisk` `{patchId, hunks?}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    patch_id: str = Field(alias="patchId", min_length=1)
    hunks: list[int] | None = None


def _plain(value: Any) -> Any:
    """Payloads may arrive as namedtuples (pygls' generic decoding); make them dicts."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def parse(model: type[T], command: str, args: tuple[Any, ...], *, optional: bool = False) -> T:
    """The payload of `command` as `model`, or JsonRpcInvalidParams saying what is wrong."""
    if not args and optional:
        return model()
    if len(args) != 1 or not isinstance(_plain(args[0]), dict):
        raise JsonRpcInvalidParams(
            f"{command}: arguments must be a one-element list holding the payload object, got {list(args)!r}")
    try:
        return model.model_validate(_plain(args[0]))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in exc.errors())
        raise JsonRpcInvalidParams(f"{command}: invalid payload: {problems}") from exc


class TaskListParams(BaseModel):
    """`gdm.task.list {limit?}`."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=50, ge=1, le=1000)


MAX_MAP_TOKENS = 32_000


class MapParams(BaseModel):
    """`gdm.map {focus?, maxTokens?}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    focus: list[str] = Field(default_factory=list)
    max_tokens: int | None = Field(default=None, alias="maxTokens", ge=1, le=MAX_MAP_TOKENS)


MAX_CONVERSATIONS = 1000


class ConversationListParams(BaseModel):
    """`gdm.conversation.list {limit?}`."""

    model_config = ConfigDict(extra="ignore")
    limit: int | None = Field(default=None, ge=1, le=MAX_CONVERSATIONS)


class ConversationGetParams(BaseModel):
    """`gdm.conversation.get {conversationId}`."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    conversation_id: str = Field(alias="conversationId", min_length=1)


class UsageParams(BaseModel):
    """`gdm.usage {since?, by?}`."""

    model_config = ConfigDict(extra="ignore")
    since: str | None = None
    by: Literal["day", "model", "user", "task", "completions"] = "day"

    @field_validator("since")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"since must be a day YYYY-MM-DD, not {value[:40]!r}") from None


class CompletionAcceptedParams(BaseModel):
    """`gdm.completion.accepted {id, acceptedChars?}` (an inline completion item's command)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    id: str = Field(min_length=1, max_length=200)
    accepted_chars: int | None = Field(default=None, alias="acceptedChars", ge=0)


class ActionParams(BaseModel):
    """The `action` field of a `gdm.ask` payload (the rest is AskParams')."""

    model_config = ConfigDict(extra="ignore")
    action: Literal["ask", "explain", "comment"] = "ask"
