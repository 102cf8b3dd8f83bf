"""The model loop: a call runs on its own thread's loop, its result or error comes back, cancelling
the caller cancels it there, and streamed text reaches the caller's loop whole and in order."""

import asyncio
import threading

import pytest

from gdm.models.runner import ModelLoop


@pytest.fixture
def model_loop():
    runner = ModelLoop()
    yield runner
    runner.close()


async def test_runs_on_another_thread_and_returns_results_and_errors(model_loop):
    async def where() -> int:
        await asyncio.sleep(0)
        return threading.get_ident()

    assert await model_loop.run(where()) != threading.get_ident()

    async def fails() -> None:
        raise ValueError("from the model loop")
    with pytest.raises(ValueError, match="from the model loop"):
        await model_loop.run(fails())


async def test_cancelling_the_caller_cancels_the_call_there(model_loop):
    started, stopped = threading.Event(), threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()  # the HTTP stream's aclose() runs here in the real call

    call = asyncio.ensure_future(model_loop.run(slow()))
    await asyncio.to_thread(started.wait, 5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await asyncio.to_thread(stopped.wait, 5)


async def test_relayed_text_arrives_on_the_callers_loop_in_order(model_loop):
    caller = threading.get_ident()
    got: list[tuple[int, str]] = []
    relay = model_loop.relay(lambda text: got.append((threading.get_ident(), text)))

    async def stream() -> None:
        for i in range(500):
            relay(f"{i},")
            if i % 50 == 0:
                await asyncio.sleep(0)

    await model_loop.run(stream())
    await asyncio.sleep(0.05)  # the last hand-over
    assert {thread for thread, _ in got} == {caller}
    assert "".join(text for _, text in got) == "".join(f"{i}," for i in range(500))
    assert len(got) < 500  # pieces that arrive together are handed over together
