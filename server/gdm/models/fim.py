"""Fill-in-the-middle for inline completions: which models take a suffix, and the chat prompt of
the others (a "hole filler"). Pure functions; the call itself is models/llm.py's `LLMClient.fill`.
"""

from __future__ import annotations

FIM_PROVIDERS = ("text-completion-codestral/", "text-completion-openai/", "codestral/", "deepseek/")
HOLE = "<FILL_HERE>"


def has_fim(model: str, api_base: str | None) -> bool:
    """Whether `model` is called fill-in-the-middle (prompt + suffix): the providers litellm sends a
    suffix to, and any OpenAI-compatible server given by `apiBase` (vLLM, llama.cpp, Ollama's
    OpenAI API, a LiteLLM proxy, the scripted model)."""
    return model.startswith(FIM_PROVIDERS) or (model.startswith("openai/") and bool(api_base))


def hole_messages(prefix: str, suffix: str) -> list[dict]:
    """The chat prompt for models without fill-in-the-middle: the code with a hole to fill."""
    return [{"role": "system", "content": f"You complete code. The user's message is a file with one {HOLE} where "
                                          f"the cursor is. Answer with exactly the text that replaces {HOLE}: no "
                                          "explanation, no code fences, nothing repeated from around it."},
            {"role": "user", "content": f"{prefix}{HOLE}{suffix}"}]


def strip_fences(text: str) -> str:
    """A chat model's answer without the ``` fences it may wrap code in."""
    lines = text.strip("\n").split("\n")
    if len(lines) >= 2 and lines[0].startswith("```") and lines[-1].strip() == "```":
        return "\n".join(lines[1:-1])
    return text
