"""One `session/prompt`: a gdm task whose events become session updates, then its review.

The task runs through the same `Session.run_task` as over LSP. Each event is mapped
(acp/mapping.py) and queued (acp/outbox.py); before a tool runs, the files it names are read
through the client (acp/buffers.py), so the tool sees the editor's text. When the loop ends, each
patch is put to the user (acp/review.py) before the prompt is answered. The answer's stop reason:
`end_turn`, `max_turn_requests` (maxTurns), `refusal` (a budget stop, said in an agent message
that names the budget) or `cancelled`; any other failure is a JSON-RPC error after its message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from acp import RequestError, schema

from gdm.acp import mapping
from gdm.acp.outbox import Outbox
from gdm.acp.prompt import Prompt
from gdm.acp.review import Review, texts
from gdm.acp.state import AcpSession
from gdm.agent import events as ev
from gdm.agent.compaction import DEFAULT_CONTEXT_TOKENS
from gdm.agent.session import new_id
from gdm.context.workspace import PathRefused
from gdm.models.llm import litellm_context_window
from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest

log = logging.getLogger(__name__)

SHELL_OPTIONS = [schema.PermissionOption(option_id="allow_once", name="Allow once", kind="allow_once"),
                 schema.PermissionOption(option_id="allow_always", name="Always allow", kind="allow_always"),
                 schema.PermissionOption(option_id="deny", name="Deny", kind="reject_once")]
NETWORK_OPTIONS = [schema.PermissionOption(option_id="allow_once", name="Run again with the network", kind="allow_once"),
                   schema.PermissionOption(option_id="deny", name="Don't", kind="reject_once")]
STOP = {"done": "end_turn", "budget": "refusal", "cancelled": "cancelled"}


class Turn:
    """Runs one prompt of one ACP session against the client connection `conn`."""

    def __init__(self, state: AcpSession, conn: Any) -> None:
        self.state = state
        self.conn = conn
        self.root = state.session.view.root
        self.outbox = Outbox(lambda update: conn.session_update(session_id=state.id, update=update))
        self.task_id = new_id("t")
        self.call_id: str | None = None  # the tool call running now (approvals and patches belong to it)
        self.patch_calls: dict[str, str] = {}  # patch id -> the tool call that last shaped it
        self.streamed = False  # text of the current reply went out in pieces
        self.status = "error"
        self.stop_note: str | None = None  # an error's message: maxTurns, or a failure

    async def run(self, prompt: Prompt) -> str:
        """Run the task and its review; the stop reason (CancelledError when cancelled)."""
        for rel, text in prompt.buffers.items():
            self.state.buffers.put(rel, text)
        for rel in prompt.fetch:
            await self.state.buffers.fetch(rel)
        for note in self.state.notes:
            self.outbox.put(mapping.note(note))
        self.state.notes.clear()
        session = self.state.session
        session.sandbox.report = lambda message: self.outbox.put(mapping.message(message + "\n\n"))  # in this turn
        spec = dataclasses.replace(prompt.spec, conversation_id=self.state.conversation_id)
        async for event in session.run_task(self.task_id, spec, approver=self.approve):
            await self.on_event(event)
        if self.status != "cancelled":
            review = Review(self.state, self.conn, self.outbox, self.patch_calls)
            if not await review.run(self.task_id):
                self.status = "cancelled"
        await self.outbox.flush()
        if self.status == "error" and self.stop_note != "maxTurns":
            raise RequestError(-32603, f"gdm: {self.stop_note or 'the task failed'}",
                               {"taskId": self.task_id, "sessionId": self.state.id})
        return "max_turn_requests" if self.stop_note == "maxTurns" else STOP.get(self.status, "end_turn")

    async def on_event(self, event: ev.Event) -> None:
        """One engine event → the updates the client gets."""
        match event:
            case ev.Response(text=text, delta=True):
                self.streamed = True
                self.outbox.text(text)
            case ev.Response(text=text):
                if not self.streamed and text:
                    self.outbox.text(text)
                self.streamed = False
            case ev.Thinking(text=text):
                self.outbox.put(mapping.note(text))
            case ev.ToolCall(name=name, arguments=args):
                self.call_id = event.call_id
                self.outbox.put(mapping.start(self.root, event))
                await self._prefetch(name, args)
            case ev.ToolResult():
                self.outbox.put(mapping.finish(self.root, event))
            case ev.PatchProposed(patch_id=patch_id):
                self._patch(patch_id)
            case ev.CostRecorded(tokens_in=tin, tokens_out=tout):
                self.outbox.put(mapping.usage(tin + tout, await self._window(event.model),
                                              self.state.session.ledger.session_usd))
            case ev.Error(message=message, error_kind=kind):
                self.outbox.text(f"\n\ngdm: {message}\n")
                self.stop_note = "maxTurns" if kind == "maxTurns" else message
            case ev.Done(status=status):
                self.status = status
                self.call_id = None

    async def _prefetch(self, name: str, args: Any) -> None:
        """Read the files a tool call names through the client before the tool runs."""
        if name not in mapping.FILE_TOOLS or not isinstance(args, dict) or not self.state.buffers.reads_through_client:
            return
        await self.outbox.flush()  # the client shows the tool call before it is asked to read for it
        view = self.state.session.view
        for key in ("path", "new_path"):
            value = args.get(key)
            if not isinstance(value, str):
                continue
            try:
                rel = view.rel(value)
            except PathRefused:
                continue  # the tool refuses it, with the reason, itself
            if rel and not view.is_secret(rel):
                await self.state.buffers.fetch(rel)

    def _patch(self, patch_id: str) -> None:
        session = self.state.session
        patch = session.patches.get(patch_id)
        if patch is None:
            return
        call_id = self.call_id
        if call_id is None:  # made by the engine itself (the answered `gdm:` comment line)
            call_id = f"{patch_id}-call"
            self.outbox.put(mapping.start(self.root, ev.ToolCall(self.task_id, call_id, "edit_file",
                                                                 {"path": patch.path})))
        self.patch_calls[patch_id] = call_id
        old, new = texts(self.state, patch)
        self.outbox.put(mapping.patch_update(self.root, call_id, patch, old, new))

    async def _window(self, model: str) -> int:
        if self.state.window is None:
            self.state.window = await asyncio.to_thread(litellm_context_window, model) or DEFAULT_CONTEXT_TOKENS
        return self.state.window

    async def approve(self, request: ApprovalRequest) -> str:
        """`run_command` (and other gated tools) under `ask`: put to the user, saying whether it runs
        sandboxed; a command that failed for lack of network, whether to run it again with it."""
        await self.outbox.flush()
        again = request.kind == "network"
        title = (f"Run `{request.command}` again with the network? It failed without: {request.detail}" if again
                 else f"Run `{request.command}` in {request.cwd}?") + (f" ({request.sandbox})" if request.sandbox else "")
        call = schema.ToolCallUpdate(tool_call_id=self.call_id or new_id("call"), kind=mapping.tool_kind(request.tool),
                                     status="pending", title=title,
                                     raw_input={"command": request.command, "cwd": request.cwd,
                                                "sandbox": request.sandbox})
        try:
            response = await self.conn.request_permission(session_id=self.state.id, tool_call=call,
                                                          options=NETWORK_OPTIONS if again else SHELL_OPTIONS)
        except RequestError as exc:
            log.warning("the client could not ask about `%s`: %s", request.command, exc)
            return DENY
        outcome = response.outcome
        chosen = getattr(outcome, "option_id", None) if outcome.outcome == "selected" else None
        return {"allow_once": ALLOW_ONCE, "allow_always": ALWAYS_ALLOW}.get(chosen or "", DENY)

