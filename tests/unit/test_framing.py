"""The frame parser on its own: lone surrogates (valid JSON escapes, not encodable as UTF-8) are
mended to U+FFFD where they arrive, so no path, store write or reply meets one later."""

import json

from gdm.framing import FrameParser


def _one(data: bytes):
    frames = FrameParser().feed(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
    assert len(frames) == 1
    return frames[0]


def test_lone_surrogates_become_replacement_characters_everywhere():
    frame = _one(rb'{"a": ["\ud800x", {"\udfff": [["\uDBFF"]]}], "b": "\ud83d\ude00"}')
    assert frame.problem is None
    assert frame.message == {"a": ["\ufffdx", {"\ufffd": [["\ufffd"]]}], "b": "\U0001F600"}
    # One UTF-16 code unit each: positions in a document holding one stay where the editor has them.
    assert len(frame.message["a"][0].encode("utf-16-le")) == 4


def test_a_surrogate_at_the_top_and_in_a_lenient_read():
    assert _one(rb'"\ud800"').message == "\ufffd"
    frame = _one(b'{"k": "\\ud800", "bad": "\xff"}')  # invalid UTF-8 too: read leniently, both mended
    assert frame.message == {"k": "\ufffd", "bad": "\ufffd"} and "UTF-8" in (frame.problem or "")


def test_bodies_without_surrogate_escapes_are_left_as_they_are():
    text = {"t": "a\\ud800 is spelt with a backslash", "e": "é"}
    body = json.dumps(text, ensure_ascii=False).encode()
    assert _one(body).message == text
