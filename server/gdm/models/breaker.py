"""A circuit breaker per model: stop calling a provider that keeps failing, then probe it.

Closed: calls go through; each failed attempt counts, a success resets the count. After
`threshold` consecutive failures the circuit opens: calls are refused at once (no network) for
`cooldown_s`, with a message saying so and when it will try again. After the cool-down the
circuit is half-open: one probe call goes through; its success closes the circuit, its failure
opens it for another cool-down. Only provider-health failures count (rate limits, 5xx, timeouts,
lost connections, unreadable replies), never a bad key or a bad request: those are ours to fix.

The session owns one breaker (no module state), so it outlives a single task's client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
DEFAULT_COOLDOWN_S = 30.0
HEALTH_KINDS = frozenset({"rate_limit", "server", "timeout", "connection", "bad_response"})
"""LLMError kinds that say the provider is unwell (and so count towards opening the circuit)."""


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None  # monotonic time the circuit opened, None when closed
    probing: bool = False  # half-open and a probe call is in flight


class CircuitBreaker:
    """Consecutive-failure circuit breaker keyed by model string; thread-safe."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, cooldown_s: float = DEFAULT_COOLDOWN_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`clock` returns seconds (monotonic); tests pass a fake one."""
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def refusal(self, key: str) -> str | None:
        """None if a call to `key` may go now (perhaps as the half-open probe), else why not.

        Call it right before each attempt: when it returns None in the half-open state, the
        caller holds the one probe and must report its outcome with success() or failure().
        """
        with self._lock:
            state = self._states.get(key)
            if state is None or state.opened_at is None:
                return None
            waited = self._clock() - state.opened_at
            if waited >= self.cooldown_s and not state.probing:
                state.probing = True
                return None
            left = max(0.0, self.cooldown_s - waited)
            again = "after the probe call in flight" if state.probing else f"in {left:.0f} s"
            return (f"gdm stopped calling {key} after {state.failures} consecutive failures "
                    f"(circuit breaker open); it will try {key} again {again}.")

    def success(self, key: str) -> None:
        """A call to `key` worked: close its circuit."""
        with self._lock:
            self._states.pop(key, None)

    def failure(self, key: str, kind: str) -> bool:
        """A call to `key` failed with an LLMError of `kind`; True when the circuit is now open."""
        with self._lock:
            state = self._states.setdefault(key, _State())
            if kind not in HEALTH_KINDS:
                state.probing = False  # the provider answered: not its health, but end the probe
                return state.opened_at is not None
            state.failures += 1
            if state.probing or state.failures >= self.threshold:
                state.opened_at = self._clock()
            state.probing = False
            return state.opened_at is not None

    def release(self, key: str) -> None:
        """An attempt ended without a verdict (cancelled): free the probe slot, count nothing."""
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                state.probing = False

    def is_open(self, key: str) -> bool:
        """True while `key` is refused or waiting for its probe (for status displays and tests)."""
        with self._lock:
            state = self._states.get(key)
            return state is not None and state.opened_at is not None

    def states(self) -> dict[str, dict]:
        """A snapshot {model: {failures, open}} for logs and tests."""
        with self._lock:
            return {key: {"failures": s.failures, "open": s.opened_at is not None}
                    for key, s in self._states.items()}
