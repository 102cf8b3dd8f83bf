"""The scripted model's `/v1/completions` (prompt + suffix → text): rules, the `continue_from`
oracle, faults, bad bodies and bad scripts — over plain HTTP, then through litellm's own
fill-in-the-middle call (`atext_completion` with `suffix`), the path gdm's completions take."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request

import pytest

from gdm.scripted import ScriptedModel, ScriptError, load_script
from gdm.scripted.completions import continuation

TARGET = "def add(a, b):\n    return a + b\n\n\ndef mean(values):\n    return sum(values) / len(values)\n"
SCRIPT = {"completions": [
    {"prefix_ends_with": "def add(", "suffix_starts_with": "\n", "text": "a, b):",
     "usage": {"prompt_tokens": 100, "completion_tokens": 5}},
    {"prompt_contains": ["slow"], "text": "late", "fault": {"delay_s": 0.2}},
    {"prompt_contains": ["boom"], "text": "never", "fault": {"status": 503, "times": 1}},
    {"continue_from": TARGET},
]}


def _post(url: str, body: object) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def model():
    with ScriptedModel(SCRIPT) as served:
        yield served


def test_rules_answer_in_order_with_usage_and_record_the_request(model):
    status, body = _post(model.base_url + "/completions", {"model": "scripted", "prompt": "x = 1\ndef add(",
                                                            "suffix": "\n\nprint(add(1, 2))"})
    assert status == 200 and body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "a, b):" and body["usage"]["prompt_tokens"] == 100
    assert model.requests[-1]["suffix"] == "\n\nprint(add(1, 2))"
    # Without the suffix the first rule does not fit: the oracle continues the line from TARGET.
    _status, body = _post(model.base_url + "/completions", {"model": "scripted", "prompt": "def mean(values):\n    return s"})
    assert body["choices"][0]["text"] == "um(values) / len(values)"


def test_the_oracle_follows_the_longest_end_of_the_prompt():
    assert continuation(TARGET, "def add(a, b):\n    ret") == "urn a + b"
    assert continuation(TARGET, "zzz_no_such_text\u2603") == ""
    assert continuation(TARGET, "def add(a, b):", lines=2) == "\n    return a + b"


def test_faults_and_bad_bodies(model):
    status, body = _post(model.base_url + "/completions", {"prompt": "boom"})
    assert status == 503
    assert _post(model.base_url + "/completions", {"prompt": "boom"})[1]["choices"][0]["text"] == "never"
    status, body = _post(model.base_url + "/completions", b"{not json")
    assert status == 400 and "not a text completion request" in body["error"]["message"]
    status, body = _post(model.base_url + "/completions", {"messages": []})
    assert status == 400


def test_no_rule_fits_is_a_400_naming_the_prompt():
    with ScriptedModel({"completions": [{"prefix_ends_with": "zz", "text": "y"}]}) as served:
        status, body = _post(served.base_url + "/completions", {"prompt": "abc"})
    assert status == 400 and "no completion rule fits" in body["error"]["message"] and "'abc'" in body["error"]["message"]


@pytest.mark.parametrize("bad, where", [
    ({"completions": []}, "completions"),
    ({"completions": [{"text": "a", "continue_from": "b"}]}, "completions[0]"),
    ({"completions": [{"text": 3}]}, "completions[0].text"),
    ({"completions": [{"text": "a", "lines": 0}]}, "completions[0].lines"),
    ({"completions": [{"text": "a", "prompt_contains": "x"}]}, "completions[0].prompt_contains"),
    ({"completions": [{"text": "a", "fault": {"status": 200}}]}, "completions[0].fault.status"),
    ({"completions": [{"txt": "a"}]}, "completions[0]"),
])
def test_bad_completion_rules_are_rejected_naming_the_place(bad, where):
    with pytest.raises(ScriptError, match=f"at {where.replace('[', '.').replace(']', '.')}"):
        load_script(bad)


def test_a_script_may_hold_chat_conversations_beside_completions():
    script = load_script({"conversations": [{"turns": [{"reply": {"content": "hi"}}]}],
                          "completions": [{"text": "x"}]})
    assert len(script["conversations"]) == 1


def test_litellm_fill_in_the_middle_reaches_the_route(model):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: PLC0415 - seconds to import: only this test needs it

    async def call() -> object:
        return await litellm.atext_completion(model="openai/scripted", prompt="x = 1\ndef add(", suffix="\n",
                                              api_base=model.base_url, api_key="sk-test", max_tokens=16)
    response = asyncio.run(call())
    assert response.choices[0].text == "a, b):"
    assert model.requests[-1]["suffix"] == "\n" and model.requests[-1]["model"] == "scripted"
