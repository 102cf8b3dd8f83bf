"""A gdm session: the engine the language server, the ACP agent and the headless CLI all drive.

It holds what every task of one workspace shares — the pending patches, the workspace view, the
store handle, the conversations — and is given its jobs as collaborators (agent/factory.py builds
them): `Spending` (budget and ledger, agent/spending.py), `PatchStore` (patch persistence,
agent/patch_store.py), `ModelAccess` and `CheapModel` (model clients; titles and compaction
summaries, agent/cheap_model.py) and `TaskRunner` (running one task, agent/task_runner.py). It
knows nothing of LSP: buffers come in through a BufferSource.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gdm.agent import compaction, prompts
from gdm.agent.cheap_model import NEVER, CheapModel, ModelAccess
from gdm.agent.conversation import Conversations, FollowUpRefused
from gdm.agent.events import Event
from gdm.agent.knowledge import ProjectKnowledge
from gdm.agent.patch_store import PatchStore
from gdm.agent.spending import Spending
from gdm.agent.task_runner import TaskRunner, TaskSpec, TaskTitled, new_id
from gdm.config import Settings
from gdm.context.repomap.cache import cache_dir
from gdm.context.secrets import Redactor
from gdm.context.workspace import BufferSource, WorkspaceView
from gdm.mcp_tools.manager import McpManager
from gdm.models.breaker import CircuitBreaker
from gdm.models.cost import PriceBook
from gdm.models.llm import LLMClient, ModelConfig, ModelReply
from gdm.models.runner import ModelLoop
from gdm.patches.book import PatchBook
from gdm.sandbox import Sandbox
from gdm.store.ledger import Ledger
from gdm.store.liveness import server_alive
from gdm.tools.base import Approver

if TYPE_CHECKING:
    from gdm.store.repo import Store

__all__ = ["NEVER", "Session", "SessionParts", "TaskSpec", "TaskTitled", "new_id"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionParts:
    """The collaborators a session is given (agent/factory.py builds them)."""

    spending: Spending
    patch_store: PatchStore
    models: ModelAccess
    cheap: CheapModel
    runner: TaskRunner

    @classmethod
    def standard(cls, store: Store, session_id: str, settings: Settings) -> SessionParts:
        """The parts every front end uses: the store's, priced and budgeted by `settings`."""
        user = settings.effective_user()
        spending = Spending(store, session_id, settings, user)
        models = ModelAccess(settings)
        return cls(spending, PatchStore(store, session_id, user), models, CheapModel(models, spending), TaskRunner())


class Session:
    """One editor session (one server process, or one headless run) over one workspace."""

    def __init__(self, *, root: Path, settings: Settings, store: Store, buffers: BufferSource,
                 session_id: str | None = None, stream: bool = True, parts: SessionParts | None = None) -> None:
        self.id = session_id or new_id("s")
        self.settings = settings
        self.store = store
        self.stream = stream
        parts = parts or SessionParts.standard(store, self.id, settings)
        self.spending, self.patch_store, self.models = parts.spending, parts.patch_store, parts.models
        self.cheap, self.runner = parts.cheap, parts.runner
        self.patches = PatchBook(on_change=self.patch_store.save, settle=self.patch_store.settled)
        self.view = WorkspaceView(root, buffers, self.patches)
        self.last_task_id: str | None = None
        self.always_allowed: set[str] = set()  # commands the user chose "Always allow" for, this session
        # MCP servers (mcpServers): started by the first task that needs their tools, on their own loop.
        self.mcp = McpManager(self.view.root, settings, hidden_env=frozenset(filter(None, [settings.api_key_env])))
        # Where tests, checks and allowed commands run (gdm/sandbox); `report` is the front end's.
        self.sandbox = Sandbox(settings.sandbox == "on", settings.sandbox_network == "on",
                               hidden=private_paths(store), protect=(self.view.root,))
        self.titles: dict[str, str] = {}  # task id -> the cheap model's title, this session's tasks
        # Compaction (agent/compaction.py): None = from the model's window; tests lower these.
        self.compact_at_tokens: int | None = None
        self.compact_keep_recent = compaction.KEEP_RECENT_TURNS
        self.user = settings.effective_user()  # who the store records; the day budget is this user's
        store.start_session(self.id, str(self.view.root), settings.model, user=self.user)
        self.spending.open()  # running totals: no SUM query per model call (store/ledger.py)
        store.interrupt_orphaned_tasks(server_alive)  # a killed server's tasks stay "running" otherwise
        self.conversations = Conversations(store, str(self.view.root))
        self.task_conversation: dict[str, str] = {}  # task id -> conversation id, tasks seen by this session
        self.conversation_spent: dict[str, float] = {}  # task id -> what its conversation's earlier tasks cost
        self._unlinked: set[str] = set()  # tasks the store knows no conversation of
        # Pending patches of earlier runs (even a killed server's) stay reviewable.
        self.titles.update(self.patch_store.load_open(self.patches, str(self.view.root)))
        self.knowledge = ProjectKnowledge(self.view.root)  # code map and project rules (agent/knowledge.py)

    # -- what the collaborators own, under the names front ends and tests use ---------

    @property
    def ledger(self) -> Ledger:
        """The running cost totals (Spending's)."""
        return self.spending.ledger

    @property
    def prices(self) -> PriceBook:
        """The prices in force (Spending's)."""
        return self.spending.prices

    @property
    def last_model(self) -> str | None:
        """The model of the last call (the `model` of `gdm/costUpdate`)."""
        return self.spending.last_model

    @last_model.setter
    def last_model(self, model: str | None) -> None:
        self.spending.last_model = model

    @property
    def breaker(self) -> CircuitBreaker:
        """The session's circuit breaker (ModelAccess's)."""
        return self.models.breaker

    @property
    def model_loop(self) -> ModelLoop:
        """The thread litellm's calls run on (ModelAccess's)."""
        return self.models.model_loop

    def update_settings(self, settings: Settings) -> None:
        """New settings apply to the next model call of every task."""
        self.settings = settings
        self.spending.update_settings(settings)
        self.models.update_settings(settings)
        self.mcp.update(settings)
        self.sandbox.update(settings.sandbox == "on", settings.sandbox_network == "on")

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

    # -- money (agent/spending.py) ------------------------------------------------------

    def totals(self, task_id: str | None = None, *, fresh: bool = False) -> dict[str, Any]:
        """Task, session and day totals with the budgets, as `gdm/costUpdate` carries them (the
        last task's when `task_id` is None)."""
        return self.spending.totals(task_id or self.last_task_id, fresh=fresh)

    def budget_stop(self, task_id: str, estimate: float) -> str | None:
        """Why a call that could cost `estimate` must not be made (task or day budget), or None."""
        return self.spending.budget_stop(task_id, estimate)

    def charge(self, task_id: str | None, reply: ModelReply, write: Callable[[], None] | None = None) -> None:
        """Store a model call's cost (with `write`, the store write that also records it) and count it."""
        self.spending.charge(task_id, reply, write)

    def by_model(self) -> list[dict[str, Any]]:
        """Today's cost per model, this user's (the day `dayUsd` counts)."""
        return self.spending.by_model()

    def task_label(self, task_id: str) -> str:
        """What names a task in the editor (the change annotation of its patches): the cheap model's
        title when there is one, else the start of the prompt."""
        title = self.titles.get(task_id)
        if title:
            return title
        task = self.store.get_task(task_id) or {}
        return str(task.get("prompt", task_id))[:80]

    # -- models (agent/cheap_model.py) ----------------------------------------------------

    def model_config(self) -> ModelConfig:
        """The litellm client settings from the current gdm settings."""
        return self.models.config()

    def llm_client(self, config: ModelConfig, prices: PriceBook) -> LLMClient:
        """The model client of a task, sharing the session's circuit breaker."""
        return self.models.client(config, prices)

    async def task_title(self, task_id: str, prompt: str, redactor: Redactor) -> str | None:
        """A short title from `cheapModel` (CheapModel.title), kept for the task's label."""
        title = await self.cheap.title(task_id, prompt, redactor)
        if title:
            self.titles[task_id] = title  # here, on the event loop: only it mutates the session
        return title

    async def commit_message(self, task_id: str, requests: list[str], summaries: list[str], diff: str) -> str | None:
        """A commit message from `cheapModel` (CheapModel.commit_message), secrets redacted; None
        without one. `task_id` is charged (the first task of a squash)."""
        redactor = await asyncio.to_thread(Redactor.for_workspace, self.view.root)
        return await self.cheap.commit_message(task_id, requests, summaries, diff, redactor)

    # -- tasks (agent/task_runner.py) -----------------------------------------------------

    def focus(self, spec: TaskSpec, task_id: str | None = None) -> prompts.Focus | None:
        """The file, selection and surrounding code the model sees first (with the task's
        conversation's pending patches on top, as read_file shows it)."""
        if spec.path is None:
            return None
        text = self.view.read(spec.path, task_id)
        if text is None:
            return None
        return prompts.Focus(spec.path, text, spec.start_line, spec.end_line)

    def run_task(self, task_id: str, spec: TaskSpec,
                 llm_factory: Callable[[ModelConfig, PriceBook], Any] | None = None,
                 approver: Approver | None = None) -> AsyncIterator[Event]:
        """Run one task to its end, yielding its events; `approver` asks the user about gated tools."""
        return self.runner.run(self, task_id, spec, llm_factory, approver)


def private_paths(store: Store) -> tuple[Path, ...]:
    """What gdm keeps of every workspace — its store, its data and cache folders — which sandboxed
    commands must not read (other projects' code and transcripts)."""
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "gdm"
    return (data, cache_dir().parent, *store.local_files())
