"""Finding and killing a stdio MCP server's process by the tag in its environment (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from gdm.mcp_tools.processes import TAG_ENV, find_server, kill_server, new_tag

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _start(tag: str, *, own_group: bool = True) -> subprocess.Popen[bytes]:
    return subprocess.Popen(SLEEPER, env={**os.environ, TAG_ENV: tag}, start_new_session=own_group)


def _wait_gone(process: subprocess.Popen[bytes]) -> int | None:
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def test_the_child_with_the_tag_is_found_and_killed_with_its_group():
    tag, other = new_tag(), new_tag()
    assert tag != other and tag.startswith(f"{os.getpid()}-")
    server, bystander = _start(tag), _start(other)
    try:
        deadline = time.monotonic() + 5
        while (pid := find_server(tag)) is None and time.monotonic() < deadline:
            time.sleep(0.02)  # the child's environ is readable once it has exec'd
        assert pid == server.pid
        assert find_server(new_tag()) is None  # no child carries a fresh tag
        assert kill_server(server.pid, tag)
        assert _wait_gone(server) == -9
        assert bystander.poll() is None  # the other server is left alone
    finally:
        for p in (server, bystander):
            p.kill()
            p.wait()


def test_a_pid_that_no_longer_carries_the_tag_is_never_signalled():
    tag = new_tag()
    server = _start(tag)
    try:
        assert not kill_server(server.pid, new_tag())  # the pid is someone else's server now
        assert server.poll() is None
        server.kill()
        server.wait()
        assert not kill_server(server.pid, tag)  # gone (and reaped): nothing to kill
    finally:
        server.kill()
        server.wait()


def test_a_server_that_left_for_gdms_group_is_killed_alone():
    tag = new_tag()
    server = _start(tag, own_group=False)  # its group is the test's: killpg would kill pytest
    try:
        deadline = time.monotonic() + 5
        while find_server(tag) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert kill_server(server.pid, tag)
        assert _wait_gone(server) == -9
    finally:
        server.kill()
        server.wait()
