"""The cheap tier: a cheaper model (setting `cheapModel`) for small jobs such as task titles.

The agent's own model does the work; cheap work — a short title for a task now, summaries and
compaction later — goes to `cheapModel` when one is set, and is skipped otherwise. A cheap call
is small (a few dozen output tokens), never retried, has no fallback, and its failure never
fails the task: the caller logs it and goes on.
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
