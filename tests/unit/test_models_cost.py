"""PriceBook: overrides over the lookup, provider-prefix fallback, free local models, None when unknown."""

from __future__ import annotations

import pytest

from gdm.models.cost import Price, PriceBook

TABLE = {"gpt-4.1": (2e-06, 8e-06), "openai/special": (1e-06, 1e-06), "ollama/llama3": (5e-06, 5e-06)}


def lookup(model: str):
    return TABLE.get(model)


def test_override_wins_over_lookup():
    book = PriceBook({"openai/gpt-4.1": {"inputPerMTok": 1, "outputPerMTok": 3}}, lookup)
    assert book.price("openai/gpt-4.1") == Price(1.0, 3.0)
    assert book.cost("openai/gpt-4.1", 1_000_000, 500_000) == pytest.approx(2.5)


def test_lookup_tries_full_string_then_bare_name():
    book = PriceBook(None, lookup)
    assert book.price("openai/gpt-4.1") == Price(pytest.approx(2.0), pytest.approx(8.0))
    assert book.price("openai/special") == Price(pytest.approx(1.0), pytest.approx(1.0))
    assert book.cost("gpt-4.1", 1000, 100) == pytest.approx(1000 * 2e-06 + 100 * 8e-06)


def test_unknown_price_is_none_never_zero():
    book = PriceBook(None, lookup)
    assert book.price("openai/scripted") is None
    assert book.cost("openai/scripted", 10, 10) is None
    assert book.estimate("openai/scripted", 10, 10) is None
    assert PriceBook(None, None).cost("gpt-4.1", 1, 1) is None


@pytest.mark.parametrize("model", ["ollama/llama3", "ollama_chat/qwen2.5-coder", "ollama/unknown"])
def test_local_models_are_free(model):
    assert PriceBook(None, lookup).cost(model, 5000, 5000) == 0.0
    assert PriceBook(None, None).cost(model, 5000, 5000) == 0.0


def test_estimate_assumes_all_output_tokens_used():
    book = PriceBook({"m": {"inputPerMTok": 2, "outputPerMTok": 10}}, None)
    assert book.estimate("m", 1000, 4096) == pytest.approx((1000 * 2 + 4096 * 10) / 1e6)


@pytest.mark.parametrize("spec", [{"inputPerMTok": 1}, {"inputPerMTok": -1, "outputPerMTok": 1},
                                  {"inputPerMTok": "1", "outputPerMTok": 1}, 3])
def test_malformed_override_names_the_model(spec):
    with pytest.raises(ValueError, match="prices.bad"):
        PriceBook({"bad": spec}, None)
