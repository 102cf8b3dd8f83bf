"""`gdm ask --continue <taskId>`: a headless follow-up, in a new process, reads the earlier task's
pending patch and extends it; a follow-up of an unknown task is refused with exit code 2."""

from __future__ import annotations

import json
import re

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.editor import server_env
from tests.unit.test_cli import gdm


@pytest.fixture
def model():
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "conversation.json").read_text())) as m:
        yield m


def test_continue_extends_the_conversation_across_processes(workspace, tmp_path, model):
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=model.base_url,
                     GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    first = gdm("ask", "Conversation: make divide() fail clearly on zero", "--workspace", str(workspace),
                "--file", "calc.py", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    task_id, conversation_id = re.search(r"Task (t-\w+) in conversation (c-\w+)", first.stdout).groups()
    assert f"gdm ask --continue {task_id}" in first.stdout

    second = gdm("ask", "now also reject an empty list in mean()", "--workspace", str(workspace),
                 "--file", "calc.py", "--continue", task_id, "--apply", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert model.failures == []
    assert f"in conversation {conversation_id}" in second.stdout
    # The follow-up read the first task's pending patch and extended it: applying writes both changes.
    text = (workspace / "calc.py").read_text()
    assert 'raise ValueError("cannot divide by zero")' in text and 'raise ValueError("mean of an empty list")' in text

    refused = gdm("ask", "more", "--workspace", str(workspace), "--continue", "t-nope", env=env)
    assert refused.returncode == 2 and "there is no task 't-nope'" in refused.stdout
