"""Inline completions in the store, on SQLite and PostgreSQL: a call's row and its cost row written
together, outcomes that only move forward, the cost meter's `completions` line per user and day, and
`gdm usage --by completions` (what completions cost per accepted line)."""

from __future__ import annotations

import json

import pytest

from gdm import cli
from gdm.store.repo import Store


def _call(st: Store, cid: str, session: str, usd: float | None, text: str = "return a + b", day: str = "2030-01-01"):
    st.add_completion(cid, session, model="openai/fim", mode="fim", path="calc.py",
                      request={"prompt": "def add(a, b):\n    ", "suffix": ""}, response={"choices": [{"text": text}]},
                      text=text, tokens_in=1000, tokens_out=10, usd=usd, day=day)


def test_a_call_its_cost_and_its_outcome(db_url: str) -> None:
    with Store(db_url) as st:
        st.start_session("s-ann", "/ws", "m", user="ann")
        st.start_session("s-bob", "/ws", "m", user="bob")
        _call(st, "c-1", "s-ann", 0.002, "x = 1\ny = 2")
        _call(st, "c-2", "s-ann", None)
        _call(st, "c-3", "s-bob", 0.5)
        assert st.completion("c-1")["request"]["suffix"] == "" and st.completion("c-1")["lines"] == 2
        assert st.completion("nope") is None
        # Forward only: shown, then partly (more and more), accepted; never back.
        assert st.mark_completion("c-1", "shown")
        assert st.mark_completion("c-1", "partial", 3, 1) and st.mark_completion("c-1", "partial", 5, 1)
        assert not st.mark_completion("c-1", "partial", 4, 1)
        assert st.mark_completion("c-1", "accepted", 11, 2)
        assert not st.mark_completion("c-1", "shown") and not st.mark_completion("c-unknown", "shown")
        assert st.mark_completion("c-2", "shown")
        with pytest.raises(ValueError):
            st.mark_completion("c-2", "liked")
        line = st.completion_line(day="2030-01-01", user="ann")
        assert line == {"calls": 2, "usd": 0.002, "tokensIn": 2000, "tokensOut": 20, "unpricedCalls": 1,
                        "shown": 2, "acceptedPartly": 0, "accepted": 1, "acceptedLines": 2}
        assert st.completion_line(day="2030-01-01", user="bob")["usd"] == 0.5
        # The day total counts completions; the per-model breakdown of tasks does not.
        assert st.day_usd("2030-01-01", user="ann") == pytest.approx(0.002)
        assert st.by_model(day="2030-01-01") == []
        assert [c["id"] for c in st.completions_of("s-ann")] == ["c-1", "c-2"]


def test_gdm_usage_by_completions(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(db_url) as st:
        st.start_session("s-ann", "/ws", "m", user="ann")
        _call(st, "c-1", "s-ann", 0.004)
        _call(st, "c-2", "s-ann", 0.004)
        _call(st, "c-3", "s-ann", 0.004, day="2030-01-02")
        st.mark_completion("c-1", "accepted", 12, 2)
        st.mark_completion("c-2", "shown")
    with pytest.raises(SystemExit) as done:
        cli.main(["usage", "--by", "completions", "--format", "json", "--database-url", db_url])
    assert done.value.code == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {"day": "2030-01-01", "calls": 2, "tokensIn": 2000, "tokensOut": 20, "usd": 0.008,
                       "unpricedCalls": 0, "shown": 2, "acceptedPartly": 0, "accepted": 1, "acceptedLines": 2,
                       "usdPerAcceptedLine": 0.004}
    assert rows[1]["day"] == "2030-01-02" and rows[1]["usdPerAcceptedLine"] is None
    with pytest.raises(SystemExit):
        cli.main(["usage", "--by", "completions", "--since", "2030-01-02", "--database-url", db_url])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["day", "calls", "tokensIn"] and "usdPerAcceptedLine" in table[0]
    assert len(table) == 3 and table[-1].startswith("total")
