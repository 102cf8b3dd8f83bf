"""Background store writes (agent/store_writes.py): in order, a failure raised at the settle point
with the writes after it not attempted, and a cancel that waits for the writes in flight."""

from __future__ import annotations

import asyncio
import threading

import pytest
from gdm.agent.store_writes import SerialWriter, on_event_loop


async def test_writes_run_in_order_off_the_loop_and_settle_waits_for_them() -> None:
    writer, done, threads = SerialWriter("test-writes"), [], set()

    def write(i: int) -> None:
        threads.add(threading.get_ident())
        done.append(i)
    for i in range(50):
        writer.submit(lambda i=i: write(i))
    await writer.settled()
    assert done == list(range(50))
    assert threading.get_ident() not in threads and len(threads) == 1
    writer.close()


async def test_a_failed_write_is_raised_once_and_the_writes_after_it_wait_for_that() -> None:
    writer, done = SerialWriter("test-writes"), []

    def fail() -> None:
        raise RuntimeError("disk full")
    writer.submit(lambda: done.append(1))
    writer.submit(fail)
    writer.submit(lambda: done.append(3))  # a synchronous caller would have stopped at the failure
    with pytest.raises(RuntimeError, match="disk full"):
        await writer.settled()
    assert done == [1]
    writer.submit(lambda: done.append(4))  # once raised, the next writes are attempted again
    await writer.settled()
    assert done == [1, 4]
    writer.close()


async def test_a_cancel_while_settling_waits_for_the_write_in_flight() -> None:
    writer, release, done = SerialWriter("test-writes"), threading.Event(), []
    writer.submit(lambda: (release.wait(5), done.append("written")))
    settling = asyncio.ensure_future(writer.settled())
    await asyncio.sleep(0.05)
    settling.cancel()
    await asyncio.sleep(0.05)
    assert not settling.done()  # still waiting for the write, not abandoning it
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await settling
    assert done == ["written"]
    writer.close()


def test_off_the_loop_settle_blocks_and_on_event_loop_tells_where_it_runs() -> None:
    writer, done = SerialWriter("test-writes"), []
    writer.submit(lambda: done.append(1))
    writer.settle()
    assert done == [1] and not on_event_loop()
    writer.close()
