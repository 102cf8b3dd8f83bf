"""Typed settings with defaults, loud about bad values.

Settings come, lowest priority first, from the defaults, the environment (`GDM_*`, for
headless use), `initializationOptions` and `workspace/configuration` (section `gdm`).
Keys are the flat camelCase names of DESIGN.md. A bad value never stops the server: it is
reported (the caller shows it with `window/showMessage`) and the previous layer's value,
ultimately the default, is used.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gdm.review.message import TRAILER_LINE


class Price(BaseModel):
    """A custom price in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    input_per_mtok: float = Field(alias="inputPerMTok", ge=0)
    output_per_mtok: float = Field(alias="outputPerMTok", ge=0)


class McpStdioServer(BaseModel):
    """An MCP server started as a child process (the usual mcp.json shape)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None


class McpHttpServer(BaseModel):
    """An MCP server reached over streamable HTTP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)


DEFAULT_COMMIT_TRAILER = "Assisted-by: gdm (<model>)"


class Settings(BaseModel):
    """gdm's settings; field aliases are the wire names of DESIGN.md."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    model: str | None = None
    api_base: str | None = Field(default=None, alias="apiBase")
    api_key_env: str | None = Field(default=None, alias="apiKeyEnv")
    fallback_model: str | None = Field(default=None, alias="fallbackModel")
    cheap_model: str | None = Field(default=None, alias="cheapModel")
    timeout_s: float = Field(default=120.0, alias="timeoutS", gt=0, le=3600)
    prices: dict[str, Price] = Field(default_factory=dict)
    task_budget_usd: float = Field(default=2.0, alias="taskBudgetUsd", ge=0)
    day_budget_usd: float = Field(default=20.0, alias="dayBudgetUsd", ge=0)
    autonomy: Literal["review", "auto-low"] = "review"
    shell: Literal["ask", "auto", "allow", "deny"] = "ask"
    completions: Literal["on", "off"] | None = None  # None: on when a model is set
    completion_model: str | None = Field(default=None, alias="completionModel")
    sandbox: Literal["on", "off"] = "on"
    sandbox_network: Literal["on", "off"] = Field(default="off", alias="sandboxNetwork")
    max_turns: int = Field(default=30, alias="maxTurns", ge=1, le=500)
    test_command: str | None = Field(default=None, alias="testCommand")
    database_url: str | None = Field(default=None, alias="databaseUrl")
    map_tokens: int = Field(default=2048, alias="mapTokens", ge=0, le=200_000)
    rules: Literal["auto", "off"] = "auto"
    check_commands: tuple[str, ...] | None = Field(default=None, alias="checkCommands")
    mcp_servers: dict[str, McpStdioServer | McpHttpServer] = Field(default_factory=dict, alias="mcpServers")
    mcp_policy: Literal["ask", "allow", "deny"] = Field(default="ask", alias="mcpPolicy")
    user: str | None = None
    # `gdm.task.commit`'s trailer line; `<model>` becomes the task's model; "" = no trailer (the one
    # key where an empty string is a value, see EMPTY_IS_A_VALUE).
    commit_trailer: str = Field(default=DEFAULT_COMMIT_TRAILER, alias="commitTrailer")

    @field_validator("commit_trailer")
    @classmethod
    def _one_trailer(cls, value: str) -> str:
        """One git trailer line `Key: value`, or "" for none."""
        value = value.strip()
        if value and not TRAILER_LINE.match(value):
            raise ValueError("commitTrailer must be one git trailer line 'Key: value' "
                             "(e.g. 'Assisted-by: gdm (<model>)'), or \"\" for no trailer")
        return value

    def completion_model_name(self) -> str | None:
        """The model of inline completions: `completionModel`, else `cheapModel`, else `model`."""
        return self.completion_model or self.cheap_model or self.model

    def completions_on(self) -> bool:
        """Whether inline completions are served: `completions`, else on when a model is set."""
        if self.completions is not None:
            return self.completions == "on"
        return self.completion_model_name() is not None

    @field_validator("check_commands", mode="before")
    @classmethod
    def _split_commands(cls, value: Any) -> Any:
        """`GDM_CHECK_COMMANDS` is `;`-separated; settings give a JSON list of command strings."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(";") if part.strip())
        return value

    @field_validator("sandbox", "sandbox_network", "completions", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        """`true` / `false` (what a JSON settings file says of a switch) mean `on` / `off`; case and
        spaces do not matter (`GDM_COMPLETIONS=OFF`)."""
        if isinstance(value, bool):
            return "on" if value else "off"
        return value.strip().lower() if isinstance(value, str) else value

    def prices_json(self) -> dict[str, dict[str, float]]:
        """`prices` in the wire shape, for the cost layer."""
        return {m: p.model_dump(by_alias=True) for m, p in self.prices.items()}

    def effective_user(self) -> str:
        """Who the store records as the author: `user`, else the OS login name."""
        if self.user:
            return self.user
        try:
            return getpass.getuser()  # LOGNAME / USER, then the password database
        except (KeyError, OSError):
            return "unknown"


# Wire key -> environment variable (DESIGN.md's table; `prices` has none).
ENV_VARS: dict[str, str] = {
    "model": "GDM_MODEL",
    "apiBase": "GDM_API_BASE",
    "apiKeyEnv": "GDM_API_KEY_ENV",
    "fallbackModel": "GDM_FALLBACK_MODEL",
    "cheapModel": "GDM_CHEAP_MODEL",
    "timeoutS": "GDM_TIMEOUT_S",
    "taskBudgetUsd": "GDM_TASK_BUDGET_USD",
    "dayBudgetUsd": "GDM_DAY_BUDGET_USD",
    "autonomy": "GDM_AUTONOMY",
    "shell": "GDM_SHELL",
    "completions": "GDM_COMPLETIONS",
    "completionModel": "GDM_COMPLETION_MODEL",
    "sandbox": "GDM_SANDBOX",
    "sandboxNetwork": "GDM_SANDBOX_NETWORK",
    "maxTurns": "GDM_MAX_TURNS",
    "testCommand": "GDM_TEST_COMMAND",
    "databaseUrl": "GDM_DATABASE_URL",
    "mapTokens": "GDM_MAP_TOKENS",
    "rules": "GDM_RULES",
    "checkCommands": "GDM_CHECK_COMMANDS",
    "mcpPolicy": "GDM_MCP_POLICY",
    "user": "GDM_USER",
    "commitTrailer": "GDM_COMMIT_TRAILER",
}

# Keys whose empty string is a value, not "not set here": `commitTrailer: ""` means no trailer
# (DESIGN.md). For them an empty `GDM_*` variable that is set counts too.
EMPTY_IS_A_VALUE: frozenset[str] = frozenset({"commitTrailer"})

WIRE_KEYS: frozenset[str] = frozenset(f.alias or name for name, f in Settings.model_fields.items())

# Keys that editor clients put in the `gdm` section for themselves; not ours, not errors.
CLIENT_ONLY_KEYS: frozenset[str] = frozenset({"pythonPath", "trace", "serverArgs", "serverEnv"})


@dataclass
class SettingsResult:
    """Resolved settings plus what was wrong with the input, for the user to see."""

    settings: Settings
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def env_layer(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given through `GDM_*` environment variables (empty ones are unset, except for
    the keys of EMPTY_IS_A_VALUE, where a set variable is a value even when empty)."""
    environ = os.environ if environ is None else environ
    return {key: environ[var] for key, var in ENV_VARS.items()
            if environ.get(var, "").strip() or (key in EMPTY_IS_A_VALUE and var in environ)}


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return first.get("msg", str(exc))


def resolve(layers: list[Mapping[str, Any] | None], source_names: list[str] | None = None) -> SettingsResult:
    """Merge setting layers (lowest priority first), keeping the last good value of each key.

    `None` or empty-string values mean "not set here" (but for EMPTY_IS_A_VALUE's keys, where ""
    is a value). Each key is validated on its own, so one bad value costs only that key.
    """
    names = source_names or [f"layer {i}" for i in range(len(layers))]
    good: dict[str, Any] = {}
    result_errors: list[str] = []
    ignored: list[str] = []
    for layer, source in zip(layers, names):
        if not layer:
            continue
        if not isinstance(layer, Mapping):
            result_errors.append(f"gdm settings from {source} must be an object, got {type(layer).__name__}")
            continue
        for key, value in layer.items():
            if value is None or (isinstance(value, str) and not value.strip() and key not in EMPTY_IS_A_VALUE):
                continue
            if key not in WIRE_KEYS:
                if key not in CLIENT_ONLY_KEYS:
                    ignored.append(f"{key} (from {source})")
                continue
            try:
                Settings.model_validate({**good, key: value})
            except ValidationError as exc:
                result_errors.append(
                    f"gdm setting '{key}' from {source} is invalid ({_describe(exc)}): got {value!r}; "
                    f"using {_current_value(good, key)!r}"
                )
                continue
            good[key] = value
    return SettingsResult(Settings.model_validate(good), result_errors, ignored)


def _current_value(good: dict[str, Any], key: str) -> Any:
    if key in good:
        return good[key]
    for name, f in Settings.model_fields.items():
        if (f.alias or name) == key:
            return f.get_default(call_default_factory=True)
    return None


def to_wire(settings: Settings) -> dict[str, Any]:
    """The settings as the flat camelCase object of DESIGN.md."""
    return settings.model_dump(by_alias=True)
