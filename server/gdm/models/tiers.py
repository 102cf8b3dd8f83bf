"""The cheap tier: a cheaper model (setting `cheapModel`) for small jobs: task titles and the
summaries that compact a long conversation (agent/compaction.py).

The agent's own model does the work; cheap work goes to `cheapModel` when one is set. A title is
skipped without one; a summary then comes from the task's own model. A cheap call is small, never
retried, has no fallback, and its failure never fails the task: the caller logs it and goes on.
The fixed lead-ins below let a scripted model (and a replay) tell these requests apart.
"""

from __future__ import annotations

from dataclasses import replace

from gdm.models.llm import ModelConfig

TITLE_MAX_TOKENS = 24
TITLE_MAX_CHARS = 60
TITLE_LEAD = "Title this coding task: "
TITLE_SYSTEM = ("You name coding tasks. Reply with a title of at most six words for the user's request: "
                "no quotes, no final period, nothing else.")


def cheap_config(config: ModelConfig, cheap_model: str, max_output_tokens: int) -> ModelConfig:
    """The task's model settings with the cheap model swapped in: small, one attempt, no fallback."""
    return replace(config, model=cheap_model, fallback_model=None, max_output_tokens=max_output_tokens,
                   num_retries=0)


def title_messages(prompt: str) -> list[dict]:
    """The messages asking for a task title."""
    # The fixed lead-in lets a scripted model tell title requests from the task's own.
    return [{"role": "system", "content": TITLE_SYSTEM},
            {"role": "user", "content": f"{TITLE_LEAD}{prompt[:2000]}"}]


def clean_title(text: str) -> str | None:
    """The model's answer as a one-line title, or None when there is nothing usable."""
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), "")
    line = line.strip("\"'`*#. ").removeprefix("Title:").strip()
    if not line:
        return None
    return line if len(line) <= TITLE_MAX_CHARS else line[: TITLE_MAX_CHARS - 1].rstrip() + "…"


SUMMARY_MAX_TOKENS = 1024
SUMMARY_LEAD = "Summarize this coding session so far: "
SUMMARY_HEADER = "Summary of the earlier turns of this task (their tool results were compacted):"
SUMMARY_SYSTEM = ("You summarize a coding agent's work so it can go on without the full transcript. Keep every "
                  "fact it still needs: files read and what matters in them (names, line numbers, exact code it "
                  "may edit), edits proposed, errors seen, what is left to do. Plain text, at most 300 words.")


def summary_messages(transcript: str) -> list[dict]:
    """The messages asking for a summary of the transcript of a task's older turns."""
    return [{"role": "system", "content": SUMMARY_SYSTEM},
            {"role": "user", "content": f"{SUMMARY_LEAD}\n\n{transcript}"}]


def is_summary_request(messages: list[dict]) -> bool:
    """Whether a request asks for a compaction summary (see `summary_messages`)."""
    return any(m.get("role") == "user" and str(m.get("content") or "").startswith(SUMMARY_LEAD) for m in messages)


def summary_message(summary: str) -> dict:
    """The user message that stands for the compacted turns in the conversation."""
    return {"role": "user", "content": f"{SUMMARY_HEADER}\n{summary.strip()}"}


def summary_of(message: dict) -> str | None:
    """The summary text of a message made by `summary_message`, else None."""
    content = message.get("content")
    if message.get("role") != "user" or not isinstance(content, str) or not content.startswith(SUMMARY_HEADER):
        return None
    return content[len(SUMMARY_HEADER):].strip()


COMMIT_MAX_TOKENS = 400
COMMIT_DIFF_CHARS = 12_000
COMMIT_LEAD = "Write a git commit message for this change: "
COMMIT_SYSTEM = ("You write git commit messages. Reply with the message only: a subject line of at most 72 "
                 "characters in the imperative mood without a final period, a blank line, then a short body "
                 "(lines of at most 72 characters) saying what changed and why, from the request, the summary "
                 "and the diff. No code fences, no trailers, no sign-off.")


def commit_messages(requests: list[str], summaries: list[str], diff: str) -> list[dict]:
    """The messages asking for a commit message of one or more tasks' accepted change."""
    asked = "\n\n".join(f"Request {i + 1}: {r[:2000]}" if len(requests) > 1 else f"Request: {r[:2000]}"
                        for i, r in enumerate(requests))
    said = "\n\n".join(s[:2000] for s in summaries if s.strip())
    shown = diff if len(diff) <= COMMIT_DIFF_CHARS else diff[:COMMIT_DIFF_CHARS] + "\n[diff cut]"
    content = f"{COMMIT_LEAD}\n\n{asked}\n\nSummary of the work:\n{said or '(none)'}\n\nDiff:\n{shown}"
    return [{"role": "system", "content": COMMIT_SYSTEM}, {"role": "user", "content": content}]
