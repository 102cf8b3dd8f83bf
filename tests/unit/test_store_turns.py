"""Turn requests stored as deltas (store/turns.py): each row holds only what its request gained,
`Store.turns()` still gives every turn's whole request, old whole rows still read, and a row that
could not be stored makes the next one whole again."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gdm.store.repo import Store
from gdm.store.turns import DeltaEncoder, rebuild

TOOLS = [{"type": "function", "function": {"name": "read_file"}}]


def conversation(turns: int) -> list[list[dict]]:
    """The requests of a task that reads a file each turn: each one the previous plus two messages."""
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task"}]
    requests = []
    for i in range(turns):
        requests.append(list(messages))
        messages.append({"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}"}]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"result {i}"})
    return requests


def test_each_row_holds_only_the_new_messages_and_reads_back_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gdm.db'}"
    requests = conversation(6)
    encoder = DeltaEncoder()
    with Store(url) as store:
        for i, messages in enumerate(requests):
            store.record_turn("s1", "t1", i, "m", encoder.encode(messages, TOOLS), {"choices": [i]}, 10, 2, 0.001)
        turns = store.turns("t1")
    assert [t["request"] for t in turns] == [{"messages": m, "tools": TOOLS} for m in requests]
    assert [t["response"] for t in turns] == [{"choices": [i]} for i in range(6)]
    raw = [json.loads(r[0]) for r in sqlite3.connect(tmp_path / "gdm.db").execute(
        "select request_json from turns order by id")]
    assert raw[0] == {"delta": {"keep": 0, "messages": requests[0]}, "tools": TOOLS}
    # Later rows: the two messages the turn added, the tools not repeated.
    assert all(len(r["delta"]["messages"]) == 2 and r["sameTools"] and "tools" not in r for r in raw[1:])
    assert [r["delta"]["keep"] for r in raw] == [0, 2, 4, 6, 8, 10]


def test_a_rewritten_conversation_keeps_its_common_prefix() -> None:
    requests = conversation(4)
    summary = {"role": "user", "content": "Summary of earlier turns"}
    compacted = requests[3][:2] + [summary] + requests[3][6:]
    later = [*compacted, {"role": "assistant", "content": "done"}]
    new_tools = [*TOOLS, {"type": "function", "function": {"name": "search"}}]
    encoder = DeltaEncoder()
    payloads = [encoder.encode(m, TOOLS) for m in requests] + [encoder.encode(compacted, TOOLS),
                                                                encoder.encode(later, new_tools)]
    assert payloads[4]["delta"]["keep"] == 2 and payloads[4]["delta"]["messages"][0] == summary
    assert payloads[5]["delta"]["keep"] == len(compacted) and payloads[5]["tools"] == new_tools
    whole = rebuild(payloads)
    assert [w["messages"] for w in whole] == [*requests, compacted, later]
    assert whole[-1]["tools"] == new_tools and whole[-2]["tools"] == TOOLS


def test_old_whole_rows_still_read(tmp_path: Path) -> None:
    requests = conversation(3)
    with Store(f"sqlite:///{tmp_path / 'gdm.db'}") as store:
        for i, messages in enumerate(requests):  # as gdm stored turns before deltas
            store.add_turn("t-old", i, "m", {"messages": messages, "tools": TOOLS}, {}, 1, 1, None)
        assert [t["request"] for t in store.turns("t-old")] == [{"messages": m, "tools": TOOLS} for m in requests]


def test_after_a_failed_write_the_next_row_is_whole() -> None:
    requests = conversation(3)
    encoder = DeltaEncoder()
    encoder.encode(requests[0], TOOLS)
    encoder.encode(requests[1], TOOLS)  # this row's write failed: not stored
    encoder.reset()
    third = encoder.encode(requests[2], TOOLS)
    assert third == {"delta": {"keep": 0, "messages": requests[2]}, "tools": TOOLS}
    assert rebuild([{"delta": {"keep": 0, "messages": requests[0]}, "tools": TOOLS}, third])[1] == {
        "messages": requests[2], "tools": TOOLS}


@pytest.mark.parametrize("turns", [1, 20])
def test_stored_bytes_grow_linearly(tmp_path: Path, turns: int) -> None:
    encoder = DeltaEncoder()
    sizes = [len(json.dumps(encoder.encode(m, TOOLS))) for m in conversation(turns)]
    assert max(sizes[1:] or [0]) < 200  # the new messages only, however long the conversation
