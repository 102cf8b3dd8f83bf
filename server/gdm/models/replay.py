"""Record and replay: a model client that answers from a recorded session, offline.

Every model turn is stored with its request and raw response (store.turns()). A Recording holds
what one session did — per task the prompt and place, the turns, the tool calls and the patches —
read from the store (`Recording.from_store`) or from a fixture file written by `export`
(fixtures/replays/*.json), with its inline completion calls. `ReplayClient` implements the loop's ModelClient protocol
(`complete(messages, tools, on_text)`) by handing back the recorded replies in order, so a task
re-run through the real loop and tools must produce the same tool calls and patches;
`compare` says where it did not. A task whose conversation was compacted (agent/compaction.py)
compacts again at the same budget, and its summary request is answered with the recorded summary
(it is not a turn). No litellm and no network here.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from gdm.models import tiers
from gdm.models.llm import LLMError, ModelConfig, ModelReply, ToolCallRequest, Usage

FORMAT = "gdm-replay/1"
# Patch ids carry their task's id (t-xxxxxxxx-p1), which a replayed task does not share.
_PATCH_ID = re.compile(r"\bt-[0-9a-f]{8}-p-\d+\b")
COMPLETION_KEYS = ("model", "mode", "path", "request", "response", "text", "tokens_in", "tokens_out", "cost_usd")


class _StoreReader(Protocol):
    """The store calls a recording reads (gdm.store.repo.Store has them)."""

    def sessions(self) -> list[dict[str, Any]]: ...
    def audit_records(self, session_id: str | None = None) -> list[dict[str, Any]]: ...
    def patches(self, status: list[str] | None = None, session_id: str | None = None) -> list[dict[str, Any]]: ...
    def get_task(self, task_id: str) -> dict[str, Any] | None: ...
    def turns(self, task_id: str) -> list[dict[str, Any]]: ...
    def tool_calls(self, task_id: str) -> list[dict[str, Any]]: ...
    def completions_of(self, session_id: str) -> list[dict[str, Any]]: ...


@dataclass
class RecordedTask:
    """One task as recorded: where it was asked, what the model answered, what the tools did."""

    prompt: str
    path: str | None  # workspace-relative
    start_line: int | None
    end_line: int | None
    turns: list[dict]  # {model, request: {messages, tools}, response, tokens_in, tokens_out, cost_usd}
    tool_calls: list[dict]  # {name, arguments, is_error}
    patches: list[dict]  # {path, diff}
    task_id: str = ""
    compactions: list[dict] = field(default_factory=list)  # {model, budgetTokens, keepRecent, summary}, in order


@dataclass
class Recording:
    """A recorded session: its workspace and its tasks, oldest first."""

    session_id: str
    workspace: str
    tasks: list[RecordedTask] = field(default_factory=list)
    # Inline completion calls, oldest first: {model, mode, path, request, response, text, tokens_in,
    # tokens_out, cost_usd} (gdm.completions.replay re-asks them offline).
    completions: list[dict] = field(default_factory=list)

    @classmethod
    def from_store(cls, store: _StoreReader, session_id: str) -> Recording:
        """Read a session back; raises KeyError naming the session when the store has none."""
        session = next((s for s in store.sessions() if s["id"] == session_id), None)
        if session is None:
            raise KeyError(f"no session {session_id!r} in the store")
        root = Path(session["workspace"])
        task_ids = _task_ids(store, session_id)
        # Headless tasks have no uri: their path is in the audit record of their start.
        audit = store.audit_records(session_id)
        paths = {r["task_id"]: (r.get("detail") or {}).get("path") for r in audit if r.get("kind") == "task.start"}
        compactions: dict[str, list[dict]] = {}
        for r in audit:
            if r.get("kind") == "task.compaction":
                detail = r.get("detail") or {}
                compactions.setdefault(r["task_id"], []).append(
                    {k: detail.get(k) for k in ("model", "budgetTokens", "keepRecent", "summary")})
        patches = store.patches(session_id=session_id)
        tasks = []
        for task_id in task_ids:
            row = store.get_task(task_id)
            if row is None:
                continue
            rng = row.get("range") or {}
            tasks.append(RecordedTask(
                prompt=row["prompt"], path=_relative(row.get("uri"), root) or paths.get(task_id),
                start_line=rng.get("start"), end_line=rng.get("end"),
                turns=[_turn(t) for t in store.turns(task_id)],
                tool_calls=[{"name": c["name"], "arguments": c["arguments"], "is_error": bool(c["is_error"])}
                            for c in store.tool_calls(task_id)],
                patches=patch_summary([p for p in patches if p.get("taskId", p.get("task_id")) == task_id]),
                task_id=task_id, compactions=compactions.get(task_id, [])))
        completions = [{k: c[k] for k in COMPLETION_KEYS} for c in store.completions_of(session_id)]
        return cls(session_id, str(root), tasks, completions)

    def to_json(self) -> dict:
        """The fixture form (see export)."""
        return {"format": FORMAT, "sessionId": self.session_id, "workspace": self.workspace,
                "tasks": [{"taskId": t.task_id, "prompt": t.prompt, "path": t.path, "startLine": t.start_line,
                           "endLine": t.end_line, "turns": t.turns, "toolCalls": t.tool_calls,
                           "patches": t.patches, **({"compactions": t.compactions} if t.compactions else {})}
                          for t in self.tasks],
                **({"completions": self.completions} if self.completions else {})}

    @classmethod
    def from_json(cls, data: dict) -> Recording:
        """Read the fixture form; raises ValueError when it is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a gdm replay fixture (expected \"format\": \"{FORMAT}\")")
        tasks = [RecordedTask(t["prompt"], t.get("path"), t.get("startLine"), t.get("endLine"), t["turns"],
                              t.get("toolCalls", []), t.get("patches", []), t.get("taskId", ""),
                              t.get("compactions", []))
                 for t in data["tasks"]]
        return cls(data.get("sessionId", ""), data.get("workspace", ""), tasks, list(data.get("completions", [])))


def export(recording: Recording, path: str | Path) -> Path:
    """Write a recording as a replay fixture (JSON, stable key order); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(recording.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def load(path: str | Path) -> Recording:
    """Read a replay fixture file."""
    return Recording.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def _task_ids(store: _StoreReader, session_id: str) -> list[str]:
    """The session's tasks in start order: the audit trail names each task as it starts; tasks of
    sessions recorded before that are found through their patches."""
    ids = [r["task_id"] for r in store.audit_records(session_id) if r.get("kind") == "task.start" and r.get("task_id")]
    for patch in store.patches(session_id=session_id):
        task_id = patch.get("taskId") or patch.get("task_id")
        if task_id and task_id not in ids:
            ids.append(task_id)
    return list(dict.fromkeys(ids))


def _relative(uri: str | None, root: Path) -> str | None:
    if not uri or not uri.startswith("file://"):
        return None
    try:
        return Path(uri.removeprefix("file://")).relative_to(root).as_posix()
    except ValueError:
        return None


def _turn(row: dict) -> dict:
    return {"model": row["model"], "request": row["request"], "response": row["response"],
            "tokens_in": row["tokens_in"], "tokens_out": row["tokens_out"], "cost_usd": row["cost_usd"]}


def patch_summary(patches: list[dict]) -> list[dict]:
    """What must match between a recording and its replay: each patch's path and unified diff
    (from the stored patch's baseText and newText, whatever its review status since)."""
    return sorted(({"path": p["path"], "diff": _diff(p["path"], p.get("baseText") or "", p.get("newText") or "")}
                   for p in patches), key=lambda p: p["path"])


def _diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{path}", f"b/{path}"))


def tool_call_summary(calls: list[dict]) -> list[tuple[str, str]]:
    """(name, arguments) of each tool call, in order."""
    return [(c["name"], c["arguments"]) for c in calls]


class ReplayClient:
    """The loop's ModelClient over one recorded task: turn n gets the n-th recorded reply.

    `divergences` lists the turns whose request differs from the recorded one (the workspace
    or the code changed since), for the caller to report; the recorded reply is given anyway.
    Running out of recorded turns is an LLMError: the replayed task asked more than the original.
    """

    def __init__(self, task: RecordedTask) -> None:
        self.task = task
        self.calls = 0
        self.summaries = 0  # compaction summaries handed back (not turns)
        self.divergences: list[str] = []
        self.config = ModelConfig(model=task.turns[0]["model"] if task.turns else "replay")

    async def complete(self, messages: list[dict], tools: list[dict] | None = None,
                       on_text: Callable[[str], None] | None = None) -> ModelReply:
        """The next recorded reply; its text goes to on_text in one piece."""
        if tiers.is_summary_request(messages):
            return self._summary()
        index = self.calls
        self.calls += 1
        if index >= len(self.task.turns):
            raise LLMError("bad_response", f"Replay: the task asked for model turn {index + 1}, but only "
                           f"{len(self.task.turns)} were recorded (the replay diverged).", False, model="replay")
        turn = self.task.turns[index]
        recorded = turn["request"].get("messages")
        if _comparable(recorded) != _comparable(messages):
            self.divergences.append(f"turn {index + 1}: the request differs from the recorded one")
        reply = reply_from_raw(turn)
        if on_text is not None and reply.text:
            on_text(reply.text)
        return reply

    def recorded_compaction(self) -> tuple[int, int] | None:
        """(budget in tokens, recent turns kept) the recorded task compacted with; None: it never did."""
        if not self.task.compactions:
            return None
        first = self.task.compactions[0]
        return int(first["budgetTokens"]), int(first.get("keepRecent") or 0)

    def _summary(self) -> ModelReply:
        """The next recorded compaction summary (free: its cost was the original's)."""
        index = self.summaries
        self.summaries += 1
        if index >= len(self.task.compactions):
            self.divergences.append(f"compaction {index + 1}: not in the recording")
            text = "(replay: no summary was recorded here)"
            model = self.config.model or "replay"
        else:
            text, model = self.task.compactions[index]["summary"], self.task.compactions[index]["model"]
        return ModelReply(text, [], Usage(0, 0), model, 0.0, "stop", {"replayed": "compaction"})

    def count_tokens(self, messages: list[dict]) -> int:
        """~characters / 4: replays cost nothing, budgets only need a number."""
        return max(1, len(json.dumps(messages, default=str)) // 4)


def _comparable(messages: Any) -> str:
    """Messages with patch ids blanked: ids carry the task id, which a replay does not share."""
    text = json.dumps(messages, sort_keys=True, default=str)
    return _PATCH_ID.sub("<patch>", text)


def reply_from_raw(turn: dict) -> ModelReply:
    """A ModelReply from a recorded turn (chat.completion-shaped response, usage and cost)."""
    raw = turn["response"]
    choices = raw.get("choices") or [{}]
    message = choices[0].get("message") or {}
    calls = [ToolCallRequest(str(c.get("id") or f"call_{i}"), str((c.get("function") or {}).get("name") or ""),
                             (c.get("function") or {}).get("arguments") or "")
             for i, c in enumerate(message.get("tool_calls") or [])]
    return ModelReply(message.get("content") or "", calls, Usage(turn["tokens_in"], turn["tokens_out"]),
                      turn["model"], turn["cost_usd"], choices[0].get("finish_reason"), raw)


def compare(task: RecordedTask, tool_calls: list[dict], patches: list[dict]) -> list[str]:
    """Differences between a recorded task and its replay (empty when identical)."""
    problems = []
    want, got = tool_call_summary(task.tool_calls), tool_call_summary(tool_calls)
    if want != got:
        problems.append(f"tool calls differ: recorded {want}, replayed {got}")
    want_p, got_p = task.patches, patch_summary(patches)
    if want_p != got_p:
        problems.append(f"patches differ: recorded {[p['path'] for p in want_p]}, replayed "
                        f"{[p['path'] for p in got_p]}" + ("" if len(want_p) != len(got_p) else " (diffs differ)"))
    return problems

