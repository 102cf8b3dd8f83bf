"""Fixtures of the end-to-end tests that more than one module uses."""

from tests.e2e.hostile import hostile, sandbox_model  # noqa: F401 - fixtures: the sandbox tests' workspace and model
