"""Settings: DESIGN.md's keys, layers in order, bad values reported and defaulted."""

from gdm.config import ENV_VARS, Settings, env_layer, resolve, to_wire

DESIGN_KEYS = {"model", "apiBase", "apiKeyEnv", "fallbackModel", "cheapModel", "timeoutS", "prices", "taskBudgetUsd",
               "dayBudgetUsd",
               "autonomy", "shell", "sandbox", "sandboxNetwork", "completions", "completionModel", "maxTurns", "testCommand", "databaseUrl", "mapTokens",
               "rules", "checkCommands", "mcpServers", "mcpPolicy", "user", "commitTrailer"}


def test_wire_keys_are_exactly_designs():
    assert set(to_wire(Settings())) == DESIGN_KEYS
    assert set(ENV_VARS) == DESIGN_KEYS - {"prices", "mcpServers"}


def test_defaults():
    s = Settings()
    assert (s.model, s.task_budget_usd, s.day_budget_usd, s.autonomy, s.shell, s.max_turns) == \
        (None, 2.0, 20.0, "review", "ask", 30)


def test_later_layers_win_and_env_is_read():
    env = env_layer({"GDM_MODEL": "openai/a", "GDM_MAX_TURNS": "7", "GDM_SHELL": ""})
    result = resolve([env, {"model": "openai/b"}, {"apiBase": "http://x"}])
    assert result.settings.model == "openai/b"
    assert result.settings.max_turns == 7
    assert result.settings.api_base == "http://x"
    assert result.errors == []


def test_bad_value_is_reported_and_previous_value_kept():
    result = resolve([{"maxTurns": 12}, {"maxTurns": "lots", "autonomy": "yolo", "taskBudgetUsd": -1}],
                     ["environment", "workspace/configuration"])
    assert result.settings.max_turns == 12
    assert result.settings.autonomy == "review"
    assert result.settings.task_budget_usd == 2.0
    assert len(result.errors) == 3
    assert any("maxTurns" in e and "workspace/configuration" in e and "'lots'" in e and "12" in e
               for e in result.errors)


def test_prices_shape_and_unknown_keys():
    result = resolve([{"prices": {"openai/x": {"inputPerMTok": 1, "outputPerMTok": 2}}, "modle": "typo",
                       "pythonPath": "/usr/bin/python3"}])
    assert result.settings.prices_json() == {"openai/x": {"inputPerMTok": 1.0, "outputPerMTok": 2.0}}
    assert result.ignored == ["modle (from layer 0)"]
    bad = resolve([{"prices": {"openai/x": {"input": 1}}}])
    assert bad.settings.prices == {} and "prices" in bad.errors[0]


def test_non_object_layer_is_an_error_not_a_crash():
    result = resolve([["not", "an", "object"]], ["initializationOptions"])
    assert result.settings == Settings()
    assert "initializationOptions" in result.errors[0]


def test_new_keys_defaults_env_and_bad_values():
    s = Settings()
    assert (s.map_tokens, s.rules, s.check_commands, s.mcp_servers, s.mcp_policy) == (2048, "auto", None, {}, "ask")
    assert s.effective_user()
    env = env_layer({"GDM_CHECK_COMMANDS": "ruff check . ; mypy src;", "GDM_MAP_TOKENS": "0", "GDM_USER": "ana",
                     "GDM_MCP_POLICY": "deny", "GDM_RULES": "off"})
    r = resolve([env])
    assert r.errors == []
    assert r.settings.check_commands == ("ruff check .", "mypy src")
    assert (r.settings.map_tokens, r.settings.user, r.settings.effective_user()) == (0, "ana", "ana")
    assert (r.settings.mcp_policy, r.settings.rules) == ("deny", "off")
    servers = {"git": {"command": "uvx", "args": ["mcp-server-git"], "env": {"A": "1"}},
               "web": {"url": "http://127.0.0.1:9/mcp", "headers": {"X": "y"}}}
    r = resolve([{"mcpServers": servers, "checkCommands": ["ruff check --output-format json ."]}])
    assert r.errors == []
    assert r.settings.mcp_servers["git"].command == "uvx" and r.settings.mcp_servers["web"].url.endswith("/mcp")
    assert to_wire(r.settings)["checkCommands"] == ("ruff check --output-format json .",)
    bad = resolve([{"mcpServers": {"x": {"args": []}}, "mapTokens": -1, "mcpPolicy": "sometimes"}])
    assert bad.settings.mcp_servers == {} and bad.settings.map_tokens == 2048 and len(bad.errors) == 3


def test_commit_trailer_default_empty_means_none_and_bad_lines_are_refused():
    assert Settings().commit_trailer == "Assisted-by: gdm (<model>)"
    # "" is a value for this key alone: no trailer. For every other key "" still means "not set here".
    r = resolve([{"commitTrailer": "Co-authored-by: gdm <gdm@example.com>", "model": "openai/a"},
                 {"commitTrailer": "", "model": "", "shell": ""}])
    assert r.errors == [] and r.settings.commit_trailer == ""
    assert (r.settings.model, r.settings.shell) == ("openai/a", "ask")
    assert resolve([{"commitTrailer": "   "}]).settings.commit_trailer == ""
    # The environment: a set but empty GDM_COMMIT_TRAILER is "no trailer"; an unset one is the default.
    assert env_layer({"GDM_COMMIT_TRAILER": ""}) == {"commitTrailer": ""}
    assert env_layer({"GDM_SHELL": "", "GDM_MODEL": ""}) == {}
    assert resolve([env_layer({})]).settings.commit_trailer == "Assisted-by: gdm (<model>)"
    assert resolve([env_layer({"GDM_COMMIT_TRAILER": ""})]).settings.commit_trailer == ""
    assert resolve([env_layer({"GDM_COMMIT_TRAILER": "Assisted-by: me"})]).settings.commit_trailer == "Assisted-by: me"
    for bad in ("no colon here", "Two: lines\nSigned-off-by: x", ": no key", "Key:", 42):
        result = resolve([{"commitTrailer": "Made-with: gdm"}, {"commitTrailer": bad}], ["a", "b"])
        assert result.settings.commit_trailer == "Made-with: gdm", bad
        assert len(result.errors) == 1 and "commitTrailer" in result.errors[0], (bad, result.errors)


def test_completions_default_follow_the_models_and_bad_values_are_reported():
    assert not Settings().completions_on() and Settings().completion_model_name() is None
    only_model = resolve([{"model": "openai/a"}]).settings
    assert only_model.completions_on() and only_model.completion_model_name() == "openai/a"
    cheap = resolve([{"model": "openai/a", "cheapModel": "openai/c"}]).settings
    assert cheap.completion_model_name() == "openai/c"
    chosen = resolve([{"model": "openai/a", "cheapModel": "openai/c", "completionModel": "text-completion-codestral/x"}])
    assert chosen.settings.completion_model_name() == "text-completion-codestral/x"
    off = resolve([env_layer({"GDM_MODEL": "openai/a", "GDM_COMPLETIONS": "OFF"})]).settings
    assert not off.completions_on()
    assert resolve([{"completions": False, "model": "m"}]).settings.completions == "off"
    assert resolve([{"completions": True}]).settings.completions_on()  # on, even with no model (nothing to call)
    bad = resolve([{"completions": "sometimes", "model": "m"}], ["initializationOptions"])
    assert bad.settings.completions is None and bad.settings.completions_on()
    assert "completions" in bad.errors[0] and "'sometimes'" in bad.errors[0]
