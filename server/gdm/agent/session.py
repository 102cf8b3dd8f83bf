"""A gdm session: the engine the language server and the headless CLI both drive.

It owns the pending patches, the workspace view and the store handle, runs tasks through the
loop, and writes sessions, tasks, turns, tool calls, patches and costs to the store as they
happen. It knows nothing of LSP: buffers come in through a BufferSource.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gdm.agent import compaction, conversation, prompts
from gdm.agent.compaction import Compactor
from gdm.agent.conversation import Conversations, FollowUpRefused
from gdm.agent.events import CostRecorded, Done, Error, Event, PatchProposed, Thinking
from gdm.agent.knowledge import ProjectKnowledge
from gdm.agent.loop import LoopDeps, run_loop
from gdm.agent.recording import Budget, Recorder
from gdm.agent.checks import check_commands
from gdm.agent.testrun import TestGate, detect_test_command
from gdm.config import Settings
from gdm.context.secrets import RedactingClient, Redactor
from gdm.context.workspace import BufferSource, PathRefused, WorkspaceView
from gdm.models.breaker import CircuitBreaker
from gdm.models import tiers
from gdm.models.cost import PriceBook
from gdm.models.llm import LLMClient, LLMError, ModelConfig, ModelReply, litellm_price_lookup
from gdm.models.runner import ModelLoop
from gdm.patches.book import PatchBook
from gdm.patches.model import FilePatch
from gdm.patches.risk import RiskContext
from gdm.store import store_error_type
from gdm.store.days import utc_day
from gdm.store.ledger import Ledger
from gdm.store.liveness import server_alive
from gdm.mcp_tools.manager import McpManager
from gdm.tools import default_tools
from gdm.tools.base import Approver, ToolContext, counter_ids
from gdm.tools.edit import propose

if TYPE_CHECKING:
    from gdm.store.repo import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskSpec:
    """What the user asked, and where: a workspace-relative path and 0-based line range."""

    prompt: str
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    uri: str | None = None
    read_only: bool = False  # "gdm: Explain": only reading tools are offered, no patch can come of it
    drop_line: str | None = None  # a `gdm:` comment line answered by this task: its patch removes it
    conversation_id: str | None = None  # the conversation this task continues (new when unknown); None: a new one


@dataclass(frozen=True)
class TaskTitled(Thinking):
    """The cheap model named the task: a `thinking` event ("Title: …") that also carries the title,
    for the editor's progress and the change annotations of the task's patches."""

    title: str = ""


NEVER = 1 << 62  # a compaction budget no conversation reaches


def new_id(prefix: str) -> str:
    """A short unique id such as `t-3f9a1c2b`."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Session:
    """One editor session (one server process, or one headless run) over one workspace."""

    def __init__(self, *, root: Path, settings: Settings, store: Store, buffers: BufferSource,
                 session_id: str | None = None, stream: bool = True) -> None:
        self.id = session_id or new_id("s")
        self.settings = settings
        self.store = store
        self.stream = stream
        self.patches = PatchBook(on_change=self._save_patch)
        self.view = WorkspaceView(root, buffers, self.patches)
        self.prices = PriceBook(settings.prices_json(), litellm_price_lookup)
        self.last_task_id: str | None = None
        self.last_model: str | None = settings.model
        self.always_allowed: set[str] = set()  # commands the user chose "Always allow" for, this session
        # One breaker per session: a provider that failed in the last task stays avoided in the next.
        self.breaker = CircuitBreaker()
        self.model_loop = ModelLoop()  # litellm's calls run there, off the editor's loop
        self._decisions: dict[str, tuple] = {}  # patch id -> the decisions last audited
        # MCP servers (mcpServers): started by the first task that needs their tools, on their own loop.
        self.mcp = McpManager(self.view.root, settings, hidden_env=frozenset(filter(None, [settings.api_key_env])))
        self.titles: dict[str, str] = {}  # task id -> the cheap model's title, this session's tasks
        # Compaction (agent/compaction.py): None = from the model's window; tests lower these.
        self.compact_at_tokens: int | None = None
        self.compact_keep_recent = compaction.KEEP_RECENT_TURNS
        self.user = settings.effective_user()  # who the store records; the day budget is this user's
        store.start_session(self.id, str(self.view.root), settings.model, user=self.user)
        # Running totals: no SUM query per model call (store/ledger.py says how the day stays honest).
        self.ledger = Ledger(store, self.id, today=utc_day, user=self.user)
        store.interrupt_orphaned_tasks(server_alive)  # a killed server's tasks stay "running" otherwise
        self.conversations = Conversations(store, str(self.view.root))
        self.task_conversation: dict[str, str] = {}  # task id -> conversation id, tasks seen by this session
        self.conversation_spent: dict[str, float] = {}  # task id -> what its conversation's earlier tasks cost
        self._unlinked: set[str] = set()  # tasks the store knows no conversation of
        self._load_open_patches()
        self.knowledge = ProjectKnowledge(self.view.root)  # code map and project rules (agent/knowledge.py)

    # -- settings and patches --------------------------------------------------------

    def update_settings(self, settings: Settings) -> None:
        """New settings apply to the next model call of every task."""
        self.settings = settings
        self.prices = PriceBook(settings.prices_json(), litellm_price_lookup)
        self.mcp.update(settings)

    def _save_patch(self, patch: FilePatch) -> None:
        risk = patch.risk
        self.store.save_patch(patch.id, patch.task_id, self.id, patch.path, patch.status.value,
                              risk.score if risk else None, risk.tier.value if risk else None, patch.to_dict())
        self._audit_decision(patch)

    def _audit_decision(self, patch: FilePatch) -> None:
        """An "accept" / "reject" audit row when the user's decisions on a patch change (`gdm audit`)."""
        decided = {h.status.value for h in patch.hunks} | {patch.decision.value}
        counts = {state: sum(h.status.value == state for h in patch.hunks) for state in ("accepted", "rejected")}
        key = (patch.status.value, counts["accepted"], counts["rejected"], patch.decision.value)
        if self._decisions.get(patch.id) == key or not decided & {"accepted", "rejected"}:
            return
        self._decisions[patch.id] = key
        kind = "reject" if patch.status.value == "rejected" else "accept"
        self.store.add_audit(self.id, patch.task_id, kind, {
            "patchId": patch.id, "path": patch.path, "status": patch.status.value,
            "hunksAccepted": counts["accepted"], "hunksRejected": counts["rejected"], "hunks": len(patch.hunks),
            "riskTier": patch.risk.tier.value if patch.risk else None})

    def _load_open_patches(self) -> None:
        """Pending patches of earlier runs (even a killed server's) stay reviewable."""
        mine = [row["id"] for row in self.store.sessions() if row.get("workspace") == str(self.view.root)
                and row.get("user") in (self.user, None)]
        # Only this workspace's sessions of this user (or from before users): one database may serve
        # several workspaces and a team.
        rows = []
        for sid in mine:
            found = self.store.patches(status=["pending", "partial"], session_id=sid)
            if found:  # their tasks' titles name them in the change annotations, after a restart too
                self.titles.update({r["task_id"]: r["detail"]["title"] for r in self.store.audit_records(sid)
                                    if r.get("kind") == "task.title" and r["detail"].get("title")})
            rows += found
        for data in sorted(rows, key=lambda d: d.get("created_at", "")):
            try:
                patch = FilePatch.from_dict(data)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("stored patch %s could not be read: %s", data.get("id"), exc)
                continue
            self.patches.put(patch, notify=False)

    # -- conversations (agent/conversation.py) ---------------------------------------

    def follow_up(self, task_id: str, running: list[str]) -> str:
        """The conversation a follow-up of `task_id` continues, or FollowUpRefused (unknown task,
        another workspace's, a task of that conversation still running among `running`)."""
        busy = [t for t in running if t == task_id or t in self.task_conversation]
        conversation_id = self.conversations.resolve(task_id, busy)
        self._unlinked.discard(task_id)
        for other in busy:
            if self.task_conversation.get(other) == conversation_id:
                raise FollowUpRefused(f"followUp: task {other!r} of this conversation is still running; send the "
                                      f"follow-up when it is done, or cancel it (gdm.cancel)")
        return conversation_id

    def conversation_of(self, task_id: str) -> str | None:
        """The conversation of a task (from the store for tasks of earlier runs), or None."""
        found = self.task_conversation.get(task_id)
        if found is None and task_id not in self._unlinked:
            row = self.store.conversation_of(task_id)
            if row is None:
                self._unlinked.add(task_id)  # a task of an older gdm: not asked again (resolve links it)
            else:
                found = self.task_conversation[task_id] = str(row["conversation_id"])
        return found

    def conversation_usd(self, task_id: str) -> float:
        """What the task's conversation has cost so far (its earlier tasks, then this one)."""
        return self.conversation_spent.get(task_id, 0.0) + self.ledger.task_usd(task_id)

    # -- money ----------------------------------------------------------------------

    def totals(self, task_id: str | None = None, *, fresh: bool = False) -> dict[str, Any]:
        """Task, session and day totals with the budgets, as `gdm/costUpdate` carries them; from the
        running totals, the day read again from the store when `fresh` (other windows spend too)."""
        task_id = task_id or self.last_task_id
        ledger = self.ledger
        day_usd = ledger.refresh_day() if fresh else ledger.day_usd()
        return {
            "taskId": task_id,
            "taskUsd": round(ledger.task_usd(task_id), 6),
            "sessionUsd": round(ledger.session_usd, 6),
            "dayUsd": round(day_usd, 6),
            "budgetUsd": self.settings.task_budget_usd,
            "dayBudgetUsd": self.settings.day_budget_usd,
            "tokensIn": ledger.tokens_in,
            "tokensOut": ledger.tokens_out,
            "model": self.last_model,
            "priceKnown": ledger.unpriced_calls == 0,
            "user": self.user,
            "store": self.store.status(),
        }

    def budget_stop(self, task_id: str, estimate: float) -> str | None:
        """Why a call that could cost `estimate` must not be made (task or day budget), or None."""
        task_budget, day_budget = self.settings.task_budget_usd, self.settings.day_budget_usd
        task_usd = self.ledger.task_usd(task_id)
        if task_usd + estimate > task_budget:
            return (f"Task budget reached: this task has spent ${task_usd:.4f} of its "
                    f"${task_budget:.2f} (taskBudgetUsd) and the next call could cost up to ${estimate:.4f}.")
        day_usd = self.ledger.day_usd(budget=day_budget, estimate=estimate)
        if day_usd + estimate > day_budget:
            return (f"Day budget reached: ${day_usd:.4f} spent today of ${day_budget:.2f} "
                    f"(dayBudgetUsd); the next call could cost up to ${estimate:.4f}.")
        return None

    def charge(self, task_id: str | None, reply: ModelReply, write: Callable[[], None] | None = None) -> None:
        """Store a model call's cost (with `write`, the store write that also records it) and count it."""
        usage = reply.usage
        write = write or (lambda: self.store.add_cost(self.id, task_id, reply.model, usage.tokens_in,
                                                      usage.tokens_out, reply.cost_usd, utc_day()))
        self.ledger.charge(write, task_id, usage.tokens_in, usage.tokens_out, reply.cost_usd)

    def task_label(self, task_id: str) -> str:
        """What names a task in the editor (the change annotation of its patches): the cheap model's
        title when there is one, else the start of the prompt."""
        title = self.titles.get(task_id)
        if title:
            return title
        task = self.store.get_task(task_id) or {}
        return str(task.get("prompt", task_id))[:80]

    def by_model(self) -> list[dict[str, Any]]:
        """Today's cost per model, this user's (the day `dayUsd` counts)."""
        return self.store.by_model(day=utc_day(), user=self.user)

    # -- tasks ----------------------------------------------------------------------

    async def _test_gate(self, ctx: ToolContext, spec: TaskSpec) -> TestGate | None:
        """Tests after edits: `testCommand`, else a detected pytest / npm test; none for read-only tasks."""
        if spec.read_only:
            return None
        command = self.settings.test_command or await asyncio.to_thread(detect_test_command, self.view.root,
                                                                        self.settings.rules != "off")
        checks, notes = await asyncio.to_thread(check_commands, self.settings.check_commands, self.view.root)
        return TestGate(ctx, command, checks=checks, check_notes=notes) if command or checks else None

    def _auditor(self, task_id: str) -> Callable[[str, dict[str, Any]], None]:
        """Writes a task's decisions (approvals, denials) to the store's audit log."""
        return lambda kind, detail: self.store.add_audit(self.id, task_id, kind, detail)

    def model_config(self) -> ModelConfig:
        """The litellm client settings from the current gdm settings."""
        s = self.settings
        return ModelConfig(model=s.model, api_base=s.api_base, api_key_env=s.api_key_env,
                           fallback_model=s.fallback_model, prices=s.prices_json(), timeout_s=s.timeout_s)

    async def task_title(self, task_id: str, prompt: str, redactor: Redactor) -> str | None:
        """A short title from `cheapModel`, its cost counted as the task's; None when no cheap model
        is set, the call could pass a budget, or it fails (a title never fails a task)."""
        cheap = self.settings.cheap_model
        if not cheap:
            return None
        config = tiers.cheap_config(self.model_config(), cheap, tiers.TITLE_MAX_TOKENS)
        client = self.llm_client(config, self.prices)
        messages = tiers.title_messages(prompt)
        # Counting tokens may load a tokenizer (seconds, the first time): off the event loop.
        if not await asyncio.to_thread(self._fits_budget, task_id, client, messages):
            return None
        try:
            reply = await RedactingClient(client, redactor).complete(messages)
        except LLMError as exc:
            log.warning("no task title from %s: %s", cheap, exc.message)
            return None
        title = tiers.clean_title(reply.text)
        await asyncio.to_thread(self._record_title, task_id, messages, reply, title)
        if title:
            self.titles[task_id] = title  # here, on the event loop: only it mutates the session
        return title

    def _fits_budget(self, task_id: str, client: LLMClient, messages: list[dict]) -> bool:
        config = client.config
        estimate = self.prices.estimate(config.model or "", client.count_tokens(messages), config.max_output_tokens) or 0.0
        return self.budget_stop(task_id, estimate) is None

    def _record_title(self, task_id: str, messages: list[dict], reply: ModelReply, title: str | None) -> None:
        self.charge(task_id, reply)
        self.store.add_audit(self.id, task_id, "task.title", {"model": reply.model, "title": title,
                                                              "request": messages, "response": reply.raw})

    async def _compactor(self, llm: Any, redactor: Redactor) -> Compactor:
        """The task's compaction: its budget from the model's input window (or a replay's recording)."""
        budget, keep = self.compact_at_tokens, self.compact_keep_recent
        if budget is None and callable(getattr(llm, "recorded_compaction", None)):
            # A replay compacts where the recording did, or never.
            budget, keep = llm.recorded_compaction() or (NEVER, keep)
        if budget is None:
            window = getattr(llm, "context_window", None)
            # litellm's table: loading it may import litellm (seconds, the first time): off the loop.
            budget = compaction.budget_tokens(await asyncio.to_thread(window) if callable(window) else None)

        async def summarize(task_id: str, request: list[dict]) -> tuple[str, list[Event]] | None:
            return await self._summarize(task_id, request, llm, redactor, (budget, keep))
        return Compactor(budget, summarize, keep)

    async def _summarize(self, task_id: str, request: list[dict], llm: Any, redactor: Redactor,
                         policy: tuple[int, int]) -> tuple[str, list[Event]] | None:
        """A summary for compaction from `cheapModel` (else the task's model), its cost the task's;
        None when the call could pass a budget or fails (the task then goes on uncompacted)."""
        cheap = self.settings.cheap_model
        client = (self.llm_client(tiers.cheap_config(self.model_config(), cheap, tiers.SUMMARY_MAX_TOKENS),
                                  self.prices) if cheap else llm)
        if not await asyncio.to_thread(self._fits_budget, task_id, client, request):
            log.info("task %s: no compaction, the summary call could pass a budget", task_id)
            return None
        try:
            reply = await RedactingClient(client, redactor).complete(request)
        except LLMError as exc:
            log.warning("no compaction summary from %s: %s", client.config.model, exc.message)
            return None
        if not reply.text.strip():
            return None
        detail = {"model": reply.model, "budgetTokens": policy[0], "keepRecent": policy[1], "summary": reply.text.strip(),
                  "request": request, "response": reply.raw}

        def record() -> None:
            self.charge(task_id, reply)
            self.store.add_audit(self.id, task_id, "task.compaction", detail)
        await asyncio.to_thread(record)
        return reply.text, [CostRecorded(task_id, reply.model, reply.usage.tokens_in, reply.usage.tokens_out,
                                         reply.cost_usd)]

    def llm_client(self, config: ModelConfig, prices: PriceBook) -> LLMClient:
        """The model client of a task, sharing the session's circuit breaker."""
        return LLMClient(config, prices, breaker=self.breaker, model_loop=self.model_loop)

    def focus(self, spec: TaskSpec, task_id: str | None = None) -> prompts.Focus | None:
        """The file, selection and surrounding code the model sees first (with the task's
        conversation's pending patches on top, as read_file shows it)."""
        if spec.path is None:
            return None
        text = self.view.read(spec.path, task_id)
        if text is None:
            return None
        return prompts.Focus(spec.path, text, spec.start_line, spec.end_line)

    async def run_task(self, task_id: str, spec: TaskSpec,
                       llm_factory: Callable[[ModelConfig, PriceBook], Any] | None = None,
                       approver: Approver | None = None) -> AsyncIterator[Event]:
        """Run one task to its end, yielding its events; `approver` asks the user about gated tools."""
        self.last_task_id = task_id
        rng = None if spec.start_line is None else {"start": spec.start_line, "end": spec.end_line}
        try:
            self.store.start_task(task_id, self.id, spec.prompt, spec.uri, rng)
            self.ledger.start_task(task_id)
            # The store lists tasks by id only; this names the session's tasks in order, for replay.
            self.store.add_audit(self.id, task_id, "task.start", {"prompt": spec.prompt, "path": spec.path})
        except store_error_type() as exc:
            for event in self._store_failed(task_id, exc):
                yield event
            return
        status, error = "error", None
        conversation_id = self.task_conversation[task_id] = spec.conversation_id or new_id("c")
        try:
            link = await asyncio.to_thread(self.conversations.link, conversation_id, task_id)
            for member in [*link.task_ids, task_id]:
                self.patches.join(member, conversation_id)
            self.conversation_spent[task_id] = link.spent_usd
            try:
                focus = self.focus(spec, task_id)
            except PathRefused as exc:
                focus, error = None, str(exc)
            rules = await self.knowledge.rules(self.view.root, spec.path, self.settings.rules)
            if rules.files:  # the task's first thinking event names them
                yield Thinking(task_id, prompts.rules_note(rules.files, rules.cut))
            first = conversation.follow_up_message if link.history else prompts.task_message
            mentioned = ({spec.path} if spec.path else set()) | link.paths
            ctx = ToolContext(task_id, self.view, self.patches,
                              RiskContext(mentioned_paths=mentioned | _paths_in(spec.prompt),
                                          open_paths=self.view.buffers.open_paths()),
                              counter_ids(f"{task_id}-p"), approve=approver, shell_policy=self.settings.shell,
                              always_allowed=self.always_allowed, audit=self._auditor(task_id),
                              hidden_env=frozenset(filter(None, [self.settings.api_key_env])),
                              code_map=self.knowledge.code_map)
            redactor = await asyncio.to_thread(Redactor.for_workspace, self.view.root)
            title = await self.task_title(task_id, spec.prompt, redactor)
            if title:
                yield TaskTitled(task_id, f"Title: {title}", title)
            llm = (llm_factory or self.llm_client)(self.model_config(), self.prices)
            # The map is counted in the tokens of the model that reads it (a replay's: the recorded one).
            code_map = None if link.history else await self.knowledge.task_map(  # a follow-up has it already
                self.view, spec.prompt, spec.path, self.settings.map_tokens,
                getattr(getattr(llm, "config", None), "model", None))
            messages = [{"role": "system", "content": prompts.SYSTEM + rules.section()}, *link.history,
                        {"role": "user", "content": first(spec.prompt, focus) + prompts.map_section(code_map)}]
            tools = default_tools(read_only=spec.read_only, shell=True)
            if not spec.read_only:  # MCP tools may change things: never offered to an Explain
                tools = await self.mcp.registry(tools, ctx)
            deps = LoopDeps(RedactingClient(llm, redactor), tools, ctx, Recorder(self), Budget(self, llm),
                            self.settings.max_turns, self.stream, gate=await self._test_gate(ctx, spec),
                            compactor=await self._compactor(llm, redactor))
            async for event in run_loop(task_id, messages, deps):
                if isinstance(event, Done) and event.status == "done" and spec.drop_line is not None:
                    dropped = _drop_comment(ctx, spec)  # server-side: it does not depend on the model
                    if dropped is not None:
                        yield PatchProposed(task_id, dropped)
                        ids = event.patch_ids + ([dropped] if dropped not in event.patch_ids else [])
                        event = dataclasses.replace(event, patch_ids=ids)
                if getattr(event, "kind", None) == "done":
                    status = event.status  # type: ignore[attr-defined]
                elif getattr(event, "kind", None) == "error":
                    error = event.message  # type: ignore[attr-defined]
                yield event
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        except store_error_type() as exc:  # a read-only or full database, a store gone: stop, and say so
            error = str(exc)
            for event in self._store_failed(task_id, exc):
                yield event
        finally:
            try:
                self.store.finish_task(task_id, status, error if status != "done" else None)
            except store_error_type() as exc:
                log.error("task %s: its final status %r could not be stored: %s", task_id, status, exc)

    def _store_failed(self, task_id: str, exc: Exception) -> list[Event]:
        """The events that end a task whose store write failed: nothing more is done unrecorded."""
        message = (f"gdm could not write to its store, so the task stopped before doing anything more that "
                   f"could not be recorded: {exc}")
        log.error("task %s: %s", task_id, message)
        return [Error(task_id, message, "store"),
                Done(task_id, "error", [p.id for p in self.patches.for_task(task_id)], self.ledger.task_usd(task_id))]


def _drop_comment(ctx: ToolContext, spec: TaskSpec) -> str | None:
    """Remove the answered `gdm:` comment (the nearest line with its text) within the task's patch."""
    assert spec.path is not None and spec.drop_line is not None
    text = ctx.view.read(spec.path, ctx.task_id)
    lines = text.splitlines(keepends=True) if text is not None else []
    hits = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == spec.drop_line.rstrip("\r\n")]
    if not hits:
        return None  # the model already removed it
    del lines[min(hits, key=lambda i: abs(i - (spec.start_line or 0)))]
    return propose(ctx, spec.path, "".join(lines)).id


def _paths_in(prompt: str) -> set[str]:
    """Words of the prompt that look like file paths (`src/app.py`, `README.md`), for the risk
    model's 'mentioned' signal."""
    words = (w.strip("`'\",:;()[]").rstrip(".") for w in prompt.split())
    return {w for w in words if "/" in w or PurePosixPath(w).suffix[1:2].isalpha()}
