"""The scripted model on its own: script validation, turn selection, and the HTTP wire format.

Plain urllib against the real server (no litellm here), so a failure points at the server.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gdm.scripted import ScriptedModel, ScriptError, load_script
from gdm.scripted.script import ScriptMismatch, check_expectations, select_turn

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "fixtures" / "scripts"

SCRIPT = {"conversations": [
    {"match": "fix", "turns": [
        {"reply": {"content": "Reading.", "tool_calls": [
            {"name": "read_file", "arguments": {"path": "app.py"}},
            {"name": "edit_file", "arguments_raw": "{not json"}]},
         "usage": {"prompt_tokens": 900, "completion_tokens": 40}},
        {"expect": {"tool_results_contain": ["def greet"], "messages_contain": ["fix"]},
         "reply": {"content": "Done."}},
    ]},
    {"match": "flaky", "turns": [{"reply": {"content": "finally"}, "fault": {"status": 503, "times": 2, "retry_after": 3}}]},
    {"match": "garbage", "turns": [{"fault": {"garbage": True}}]},
    {"match": "empty", "turns": [{"fault": {"empty_choices": True}}]},
    {"match": "cut", "turns": [{"reply": {"content": "x" * 80}, "fault": {"cut_stream": True}}]},
    {"turns": [{"reply": {"content": "catch-all"}}]},
]}


def post(base: str, body: dict) -> tuple[int, dict | str, dict]:
    request = urllib.request.Request(base + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        text, status, headers = error.read().decode(), error.code, dict(error.headers)
    try:
        return status, json.loads(text), headers
    except json.JSONDecodeError:
        return status, text, headers


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


@pytest.fixture
def model():
    with ScriptedModel(SCRIPT) as scripted:
        yield scripted


# -- the format ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, where", [
    ({}, "conversations"),
    ({"conversations": []}, "conversations"),
    ({"conversations": [{"turns": []}]}, "conversations[0].turns"),
    ({"conversations": [{"turns": [{"reply": {"contents": "typo"}}]}]}, "conversations[0].turns[0].reply"),
    ({"conversations": [{"turns": [{"reply": {"tool_calls": [{"arguments": {}}]}}]}]}, "tool_calls[0].name"),
    ({"conversations": [{"turns": [{"reply": {"tool_calls": [{"name": "x", "arguments": "{}"}]}}]}]}, "arguments"),
    ({"conversations": [{"turns": [{"fault": {"status": 200}}]}]}, "fault.status"),
    ({"conversations": [{"turns": [{"usage": {"prompt_tokens": -1}}]}]}, "usage.prompt_tokens"),
    ({"conversations": [{"match": 3, "turns": [{}]}]}, "conversations[0].match"),
])
def test_bad_scripts_are_rejected_naming_the_place(bad, where):
    with pytest.raises(ScriptError, match=r"bad script at .*" + where.replace("[", r"\[").replace("]", r"\]")):
        load_script(bad)


def test_load_script_from_file_and_clear_errors(tmp_path):
    assert load_script(SCRIPTS / "read_then_edit.json")["conversations"]
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ScriptError, match="not valid JSON"):
        load_script(broken)
    with pytest.raises(ScriptError, match="cannot read script"):
        load_script(tmp_path / "missing.json")


def test_turn_is_chosen_from_the_request_alone():
    messages = user("please fix it")
    assert (select_turn(SCRIPT, messages).conversation, select_turn(SCRIPT, messages).turn) == (0, 0)
    messages += [{"role": "assistant", "content": "Reading."}, {"role": "tool", "content": "x"}]
    assert select_turn(SCRIPT, messages).turn == 1
    assert select_turn(SCRIPT, user("something else")).conversation == 5
    with pytest.raises(ScriptMismatch, match="script exhausted after 2 turns"):
        select_turn(SCRIPT, messages + [{"role": "assistant", "content": "Done."}])
    with pytest.raises(ScriptMismatch, match="no conversation matches"):
        select_turn({"conversations": [{"match": "zzz", "turns": [{}]}]}, user("hi"))


def test_user_content_as_parts_is_matched():
    parts = [{"role": "user", "content": [{"type": "text", "text": "please fix"}]}]
    assert select_turn(SCRIPT, parts).conversation == 0


def test_tool_results_are_only_those_answering_the_previous_turn():
    spec = SCRIPT["conversations"][0]["turns"][1]
    old_result = [*user("fix"), {"role": "assistant", "content": "a"}, {"role": "tool", "content": "def greet"},
                  {"role": "assistant", "content": "b"}, {"role": "tool", "content": "other"}]
    assert check_expectations(spec, old_result) == ["tool results do not contain 'def greet'"]
    assert check_expectations(spec, old_result[:4]) == []


# -- the wire -----------------------------------------------------------------------------------

def test_non_streaming_reply(model):
    status, body, _ = post(model.base_url, {"model": "scripted", "messages": user("fix")})
    assert status == 200
    message = body["choices"][0]["message"]
    assert body["model"] == "scripted" and body["object"] == "chat.completion"
    assert message["content"] == "Reading."
    assert [c["id"] for c in message["tool_calls"]] == ["call_0_0", "call_0_1"]
    assert message["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path": "app.py"}'}
    assert message["tool_calls"][1]["function"]["arguments"] == "{not json"
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940}
    assert model.requests[-1]["messages"] == user("fix")


def test_streaming_reply_is_sse_with_usage_and_done(model):
    request = urllib.request.Request(
        model.base_url + "/chat/completions",
        data=json.dumps({"model": "m1", "stream": True, "messages": user("fix")}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        events = [line[len("data: "):] for line in response.read().decode().split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Reading."
    arguments: dict[int, str] = {}
    for chunk in chunks:
        for call in chunk["choices"][0]["delta"].get("tool_calls", []):
            arguments[call["index"]] = arguments.get(call["index"], "") + call["function"]["arguments"]
    assert arguments == {0: '{"path": "app.py"}', 1: "{not json"}
    assert len(chunks) > 6  # really in pieces
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 900
    assert {c["model"] for c in chunks} == {"m1"}


def test_expectation_failure_is_a_400_and_recorded(model):
    messages = [*user("fix"), {"role": "assistant", "content": "Reading."},
                {"role": "tool", "tool_call_id": "call_0_0", "content": "no such file"}]
    status, body, _ = post(model.base_url, {"model": "scripted", "messages": messages})
    assert status == 400
    assert body["error"]["message"].startswith("scripted model: expectation failed: ")
    assert "def greet" in body["error"]["message"]
    assert model.failures == [body["error"]["message"]]
    assert get(model.base_url.replace("/v1", "/_gdm/failures")) == model.failures
    assert get(model.base_url.replace("/v1", "/_gdm/requests"))[-1]["messages"] == messages


def test_exhausted_script_is_a_400(model):
    messages = [*user("garbage"), {"role": "assistant", "content": "?"}]
    status, body, _ = post(model.base_url, {"model": "scripted", "messages": messages})
    assert (status, body["error"]["message"]) == (400, "scripted model: script exhausted after 1 turns")


def test_status_fault_fires_times_then_answers(model):
    answers = [post(model.base_url, {"model": "scripted", "messages": user("flaky")}) for _ in range(3)]
    assert [status for status, _, _ in answers] == [503, 503, 200]
    assert answers[0][2]["Retry-After"] == "3"
    assert answers[0][1]["error"]["message"] == "scripted model: injected HTTP 503"
    assert answers[2][1]["choices"][0]["message"]["content"] == "finally"


def test_fault_counts_are_thread_safe():
    script = {"conversations": [{"turns": [{"reply": {"content": "ok"}, "fault": {"status": 500, "times": 5}}]}]}
    with ScriptedModel(script) as scripted:
        statuses: list[int] = []
        lock = threading.Lock()

        def call() -> None:
            status, _, _ = post(scripted.base_url, {"model": "s", "messages": user("x")})
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 7 + [500] * 5
    assert len(scripted.requests) == 12


def test_fault_limited_to_one_model():
    script = {"conversations": [{"turns": [{"reply": {"content": "ok"}, "fault": {"status": 429, "times": 9, "model": "a"}}]}]}
    with ScriptedModel(script) as scripted:
        assert post(scripted.base_url, {"model": "a", "messages": user("x")})[0] == 429
        assert post(scripted.base_url, {"model": "b", "messages": user("x")})[0] == 200


def test_garbage_and_empty_choices(model):
    status, body, _ = post(model.base_url, {"model": "scripted", "messages": user("garbage")})
    assert status == 200 and isinstance(body, str) and "not JSON" in body
    status, body, _ = post(model.base_url, {"model": "scripted", "messages": user("empty")})
    assert status == 200 and body["choices"] == []


def test_cut_stream_breaks_the_body(model):
    host, port = model.base_url.split("//")[1].split("/")[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps({"model": "s", "stream": True, "messages": user("cut")})
    connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    connection.close()


def test_models_endpoint_and_unknown_routes(model):
    assert [m["id"] for m in get(model.base_url + "/models")["data"]] == ["scripted", "scripted-fallback"]
    with pytest.raises(urllib.error.HTTPError) as error:
        get(model.base_url + "/nothing")
    assert error.value.code == 404


def test_unparseable_request_is_a_400(model):
    request = urllib.request.Request(model.base_url + "/chat/completions", data=b"{nope")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400
    assert "_unparseable" in model.requests[-1]


def test_stop_releases_and_base_url_needs_start():
    scripted = ScriptedModel(SCRIPT)
    with pytest.raises(RuntimeError, match="not started"):
        _ = scripted.base_url
    base = scripted.start()
    assert base.startswith("http://127.0.0.1:") and base.endswith("/v1")
    scripted.stop()
    with pytest.raises(urllib.error.URLError):
        get(base + "/models")


def test_cli_prints_base_url_and_serves():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "gdm.scripted", str(SCRIPTS / "read_then_edit.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:") and base.endswith("/v1")
        status, body, _ = post(base, {"model": "scripted", "messages": user("change the greeting")})
        assert status == 200
        assert body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "read_file"
        assert len(get(base.replace("/v1", "/_gdm/requests"))) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_cli_reports_a_bad_script(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"conversations": [{"turns": [{"repl": {}}]}]}))
    result = subprocess.run([sys.executable, "-m", "gdm.scripted", str(bad)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert "unknown key(s) ['repl']" in result.stderr
    assert result.stdout == ""
