"""`/commit [message]` in ACP: what the user accepted in this session becomes one git commit.

An ACP session is one conversation, so `/commit` commits the conversation's tasks whose accepted
changes are not committed yet (the review engine's squash: review/commit.py), with the message
given after the command, else the cheap model's, else one from the prompts. The files are read
through the client first (`fs/read_text_file`), so a file with unsaved changes in the editor is
refused like over LSP. The answer is an agent message naming the commit, or why there is none;
the prompt then ends with `end_turn`. No model-tool loop runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.acp import mapping
from gdm.review.commit import CommitRefused, CommitRequest, Committer, short
from gdm.review.service import Review
from gdm.review.undo import accepted

if TYPE_CHECKING:
    from gdm.acp.state import AcpSession

COMMAND = "/commit"


def commit_message_of(blocks: list[Any]) -> str | None:
    """The message after `/commit` ("" for none), or None when the prompt is not that command."""
    text = "\n".join(b.text for b in blocks if getattr(b, "type", None) == "text").strip()
    if text != COMMAND and not text.startswith((COMMAND + " ", COMMAND + "\n")):
        return None
    return text[len(COMMAND):].strip()


async def run(state: AcpSession, conn: Any, message: str) -> str:
    """Commit the session's conversation and tell the client; the stop reason."""
    session = state.session
    for path in sorted({p for patch in session.patches.all() if accepted(patch)
                        for p in (patch.path, patch.new_path) if p}):
        await state.buffers.fetch(path)  # what the editor has now: unsaved changes are refused
    review = Review(session.view, session.patches, session.task_label)
    committer = Committer(review, session.store, session.id, session.commit_message, session.settings.commit_trailer,
                          session.settings.model)
    try:
        result = await committer.commit(CommitRequest(conversation_id=state.conversation_id, message=message or None))
    except CommitRefused as exc:
        text = f"gdm: nothing was committed: {exc}"
    else:
        subject = result["message"].splitlines()[0]
        text = (f"Committed {short(result['commit'])} on {result['branch']}: {subject}\n\n"
                f"Files: {', '.join(result['files'])}" + "".join(f"\n\n{n}" for n in result.get("notes", [])))
    await conn.session_update(session_id=state.id, update=mapping.message(text))
    return "end_turn"
