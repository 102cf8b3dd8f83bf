"""Shared fixtures: a fresh copy of the sample workspace and the scripted model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gdm.scripted import ScriptedModel
from tests.store_fixtures import db_url  # noqa: F401 - the fixture: a store on SQLite, then PostgreSQL

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
# USD per million tokens for the scripted model, so every cost in the tests is real arithmetic.
SCRIPTED_PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0}}


@pytest.fixture(autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The code map's cache ($XDG_CACHE_HOME/gdm/) in a temporary folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh copy of fixtures/workspaces/calc."""
    target = tmp_path / "calc"
    shutil.copytree(FIXTURES / "workspaces" / "calc", target)
    return target


@pytest.fixture
def scripted() -> Iterator[ScriptedModel]:
    """The scripted model playing fixtures/scripts/demo.json, e2e.json and review.json."""
    conversations = []
    for name in ("demo.json", "e2e.json", "review.json"):
        conversations += json.loads((FIXTURES / "scripts" / name).read_text())["conversations"]
    with ScriptedModel({"conversations": conversations}) as model:
        yield model


def scripted_settings(model: ScriptedModel, tmp_path: Path, **extra) -> dict:
    """gdm settings pointing at a scripted model, with prices and a store file in tmp_path."""
    return {"model": "openai/scripted", "apiBase": model.base_url, "prices": SCRIPTED_PRICES,
            "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}", **extra}


@pytest.fixture
def settings(scripted: ScriptedModel, tmp_path: Path) -> dict:
    """gdm settings pointing at the scripted model, with a store file in tmp_path."""
    return scripted_settings(scripted, tmp_path)


@pytest.fixture
def agent_model() -> Iterator[ScriptedModel]:
    """The scripted model playing fixtures/scripts/agent.json (the agent end-to-end tests)."""
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "agent.json").read_text())) as model:
        yield model
