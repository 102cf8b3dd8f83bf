"""Prices of model calls: the user's `prices` setting over a lookup (litellm's table, injected).

No litellm import here: the lookup is passed in, so the price book is cheap to build and easy
to test, and an unknown price is reported as None rather than silently costing $0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

PriceLookup = Callable[[str], "tuple[float, float] | None"]
"""model -> (USD per input token, USD per output token), or None when unknown."""

FREE_PREFIXES = ("ollama/", "ollama_chat/")
"""Models that run on the user's own machine: they cost nothing."""

_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """The price of a call with these token counts, in USD."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / _PER_MILLION


class PriceBook:
    """Looks up model prices: explicit overrides first, then the lookup; local models are free."""

    def __init__(self, overrides: dict[str, dict] | None, lookup: PriceLookup | None):
        """`overrides` is the `prices` setting: {model: {"inputPerMTok": x, "outputPerMTok": y}}.

        Raises ValueError naming the model when an override is malformed, so config can show it.
        """
        self._overrides = {model: _parse_override(model, spec) for model, spec in (overrides or {}).items()}
        self._lookup = lookup

    def price(self, model: str) -> Price | None:
        """The price of `model`, or None when neither the overrides nor the lookup know it."""
        if model in self._overrides:
            return self._overrides[model]
        if model.startswith(FREE_PREFIXES):
            return Price(0.0, 0.0)
        if self._lookup is None:
            return None
        # litellm's table keys most models by bare name ("gpt-4.1"), some by "provider/name".
        candidates = [model]
        if "/" in model:
            candidates.append(model.split("/", 1)[1])
        for candidate in candidates:
            found = self._lookup(candidate)
            if found is not None:
                per_in, per_out = found
                return Price(per_in * _PER_MILLION, per_out * _PER_MILLION)
        return None

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float | None:
        """USD for a call, or None when the price is unknown (never a silent 0)."""
        price = self.price(model)
        return None if price is None else price.cost(tokens_in, tokens_out)

    def estimate(self, model: str, prompt_tokens: int, max_output_tokens: int) -> float | None:
        """Worst-case USD for a call about to be made (all output tokens used), or None if unknown."""
        return self.cost(model, prompt_tokens, max_output_tokens)


def _parse_override(model: str, spec: object) -> Price:
    if not isinstance(spec, dict):
        raise ValueError(f"prices.{model} must be an object with inputPerMTok and outputPerMTok")
    values = []
    for key in ("inputPerMTok", "outputPerMTok"):
        value = spec.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"prices.{model}.{key} must be a non-negative number of USD per million tokens")
        values.append(float(value))
    return Price(values[0], values[1])
