"""The gdm/* notifications and the payload shapes they share with command results.

`gdm/taskEvent`, `gdm/patchProposed`, `gdm/costUpdate` (DESIGN.md); the patch object is also
what `gdm.patch.list` returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.agent import events as ev
from gdm.patches.apply import hunk_ranges
from gdm.patches.model import FilePatch, PatchKind

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer


def document(server: GdmServer, uri: str) -> tuple[Session, str, str] | None:
    """The session, workspace path and current text of a document with open patches, if any."""
    session = server.session
    rel = session.view.rel_of_uri(uri) if session is not None else None
    if session is None or rel is None or not session.patches.open_for_path(rel):
        return None
    current = session.view.current(rel)
    return session, rel, current.text if current is not None else ""


def task_event_payload(event: ev.Event) -> dict[str, Any] | None:
    """The `gdm/taskEvent` params of an event (None for events that are not task events)."""
    base = {"taskId": event.task_id, "kind": getattr(event, "kind", None)}
    match event:
        case ev.Thinking(text=text):
            return {**base, "text": text}
        case ev.ToolCall(call_id=cid, name=name, arguments=args):
            return {**base, "callId": cid, "name": name, "arguments": args}
        case ev.ToolResult(call_id=cid, name=name, ok=ok, result=result, facts=facts):
            return {**base, "callId": cid, "name": name, "ok": ok, "result": result, "facts": facts}
        case ev.Response(text=text, delta=delta):
            return {**base, "text": text, "delta": delta}
        case ev.Error(message=message, error_kind=kind):
            return {**base, "message": message, "errorKind": kind}
        case ev.Done(status=status, patch_ids=ids, cost_usd=usd):
            return {**base, "status": status, "patchIds": ids, "costUsd": round(usd, 6)}
    return None


def patch_payload(session: Session, patch: FilePatch) -> dict[str, Any]:
    """The patch object of `gdm/patchProposed` and `gdm.patch.list`."""
    current = session.view.current(patch.path)
    text = current.text if current is not None else ""
    hunks = []
    ranges = hunk_ranges(patch, text) if current is not None else {}
    if patch.kind is PatchKind.RENAME:  # a move is one decision, shown as hunk 0 on the first line
        hunks.append({"index": 0, "status": patch.decision.value, "oldText": "", "newText": "", "fits": True,
                      "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}})
    for hunk in patch.hunks:
        where = ranges.get(hunk.index) if current is not None else (0, 0)
        start, end = where if where is not None else (hunk.old_start, hunk.old_start + len(hunk.old_lines))
        hunks.append({
            "index": hunk.index,
            "status": hunk.status.value,
            "range": {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}},
            "oldText": "".join(hunk.old_lines),
            "newText": "".join(hunk.new_lines),
            "fits": where is not None,
        })
    return {
        "patchId": patch.id,
        "taskId": patch.task_id,
        "conversationId": session.conversation_of(patch.task_id),
        "uri": session.view.uri(patch.path),
        "path": patch.path,
        "kind": patch.kind.value,
        **({"newUri": session.view.uri(patch.new_path), "newPath": patch.new_path} if patch.new_path else {}),
        "status": patch.status.value,
        "diff": patch.diff(),
        "risk": patch.risk.to_json() if patch.risk else None,
        "hunks": hunks,
    }


def task_event(server: GdmServer, event: ev.Event) -> None:
    """Send `gdm/taskEvent` for a task event."""
    payload = task_event_payload(event)
    if payload is not None:
        session = server.session
        conversation_id = session.conversation_of(event.task_id) if session is not None else None
        server.notify("gdm/taskEvent", {**payload, "conversationId": conversation_id})


def patch_proposed(server: GdmServer, session: Session, patch: FilePatch) -> None:
    """Send `gdm/patchProposed` (also after a review changed the patch's status)."""
    server.notify("gdm/patchProposed", patch_payload(session, patch))


def cost_update(server: GdmServer, totals: dict[str, Any]) -> None:
    """Send `gdm/costUpdate` with task, session and day totals and the budget, and log the cost
    (`window/logMessage`) for editors that show no status bar item for gdm."""
    session, task_id = server.session, totals.get("taskId")
    if session is not None and task_id:  # the conversation's running total beside the task's
        totals = {**totals, "conversationId": session.conversation_of(task_id),
                  "conversationUsd": round(session.conversation_usd(task_id), 6)}
    if session is not None:  # the meter says when commands run unsandboxed (or cannot run)
        totals = {**totals, "sandbox": session.sandbox.state}
    server.notify("gdm/costUpdate", totals)
    task = f"task {totals['taskId']} ${totals.get('taskUsd', 0.0):.4f}, " if totals.get("taskId") else ""
    unsandboxed = {"off": " (sandbox off)", "unavailable": " (sandbox unavailable)"}.get(totals.get("sandbox", "on"), "")
    server.log(f"gdm: cost {task}day ${totals.get('dayUsd', 0.0):.4f} of ${totals.get('dayBudgetUsd', 0.0):.2f}"
               f"{unsandboxed}")
