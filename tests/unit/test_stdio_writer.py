"""The stdout writer after `exit` closed it: a late message is dropped, never an endless error report."""

from __future__ import annotations

import io

from gdm.stdio import ClosingWriter


def test_a_message_after_close_is_dropped_not_raised() -> None:
    out = io.BytesIO()
    writer = ClosingWriter(out)
    writer.write(b"first")
    assert out.getvalue() == b"first"
    writer.close()
    writer.write(b"late")  # a task cancelled as the loop ends; a closed BytesIO would raise ValueError
    assert writer.closed
