"""The circuit breaker: on its own with a fake clock, and inside LLMClient over the real HTTP path."""

from __future__ import annotations

import pytest

from gdm.models.breaker import CircuitBreaker
from gdm.models.llm import LLMClient, LLMError, ModelConfig
from gdm.scripted import ScriptedModel


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures_and_says_so():
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=30, clock=clock)
    assert breaker.failure("m", "server") is False
    assert breaker.failure("m", "timeout") is False
    assert breaker.refusal("m") is None
    assert breaker.failure("m", "connection") is True
    refusal = breaker.refusal("m")
    assert refusal is not None
    assert "m" in refusal and "3 consecutive failures" in refusal and "30 s" in refusal
    assert breaker.refusal("other") is None  # per model


def test_success_resets_the_count():
    breaker = CircuitBreaker(threshold=2, clock=Clock())
    breaker.failure("m", "server")
    breaker.success("m")
    assert breaker.failure("m", "server") is False
    assert not breaker.is_open("m")


def test_our_own_mistakes_do_not_count():
    breaker = CircuitBreaker(threshold=1, clock=Clock())
    assert breaker.failure("m", "auth") is False
    assert breaker.failure("m", "bad_request") is False
    assert breaker.failure("m", "config") is False
    assert breaker.refusal("m") is None


def test_half_open_lets_one_probe_through_then_closes_on_success():
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=10, clock=clock)
    breaker.failure("m", "server")
    clock.now += 9.9
    assert breaker.refusal("m") is not None
    clock.now += 0.2
    assert breaker.refusal("m") is None  # the probe
    assert "probe" in (breaker.refusal("m") or "")  # a second caller waits for the probe
    breaker.success("m")
    assert breaker.refusal("m") is None and not breaker.is_open("m")


def test_failed_probe_reopens_for_a_full_cooldown():
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown_s=10, clock=clock)
    breaker.failure("m", "server")
    breaker.failure("m", "server")
    clock.now += 10
    assert breaker.refusal("m") is None
    assert breaker.failure("m", "rate_limit") is True  # one failure is enough when probing
    clock.now += 5
    assert breaker.refusal("m") is not None
    clock.now += 5
    assert breaker.refusal("m") is None


def test_released_probe_frees_the_slot():
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=1, clock=clock)
    breaker.failure("m", "server")
    clock.now += 2
    assert breaker.refusal("m") is None
    breaker.release("m")  # cancelled: no verdict
    assert breaker.refusal("m") is None


def test_threshold_must_be_positive():
    with pytest.raises(ValueError):
        CircuitBreaker(threshold=0)


# -- inside LLMClient ----------------------------------------------------------------------

SCRIPT = {"conversations": [
    {"match": "down", "turns": [{"fault": {"status": 503, "times": 999, "model": "scripted"},
                                 "reply": {"content": "the fallback answers"}}]},
    {"match": "recovers", "turns": [{"fault": {"status": 500, "times": 2}, "reply": {"content": "back"}}]},
]}


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def server():
    with ScriptedModel(SCRIPT) as model:
        yield model


async def test_open_circuit_stops_calling_the_model_and_says_so(server):
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown_s=60, clock=clock)
    client = LLMClient(ModelConfig(model="openai/scripted", api_base=server.base_url, num_retries=5),
                       retry_backoff_s=0, breaker=breaker)
    with pytest.raises(LLMError) as first:
        await client.complete(user("down"))
    # Three attempts opened the circuit: no more retries although five were allowed.
    assert len(server.requests) == 3
    assert first.value.circuit_opened and "circuit breaker" in first.value.message
    with pytest.raises(LLMError) as second:
        await client.complete(user("down"))
    assert len(server.requests) == 3  # refused without a call
    assert second.value.kind == "circuit_open"
    assert "openai/scripted" in second.value.message and "60 s" in second.value.message


async def test_open_circuit_goes_straight_to_the_fallback(server):
    breaker = CircuitBreaker(threshold=1, cooldown_s=60, clock=Clock())
    config = ModelConfig(model="openai/scripted", api_base=server.base_url,
                         fallback_model="openai/scripted-fallback", num_retries=0)
    client = LLMClient(config, retry_backoff_s=0, breaker=breaker)
    assert (await client.complete(user("down"))).text == "the fallback answers"
    assert (await client.complete(user("down"))).text == "the fallback answers"
    assert [r["model"] for r in server.requests] == ["scripted", "scripted-fallback", "scripted-fallback"]


async def test_probe_after_cooldown_closes_the_circuit(server):
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown_s=5, clock=clock)
    client = LLMClient(ModelConfig(model="openai/scripted", api_base=server.base_url, num_retries=3),
                       retry_backoff_s=0, breaker=breaker)
    with pytest.raises(LLMError):
        await client.complete(user("recovers"))
    assert breaker.is_open("openai/scripted")
    clock.now += 5
    assert (await client.complete(user("recovers"))).text == "back"
    assert not breaker.is_open("openai/scripted")
    assert len(server.requests) == 3
