"""Risk score: every signal is named, every tier reachable, ordinary small edits stay LOW."""

from __future__ import annotations

import pytest

from gdm.patches.model import PatchKind, make_patch
from gdm.patches.risk import Risk, RiskContext, RiskReason, Tier, changed_lines, score_patch, tier_for

SOURCE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(40))


def score(path: str, base: str, new: str, *, kind: PatchKind | None = None, mentioned: bool = True) -> Risk:
    patch = make_patch(patch_id="p", task_id="t", path=path, base_text=base, new_text=new, kind=kind)
    ctx = RiskContext(mentioned_paths={path} if mentioned else set(), open_paths=set())
    return score_patch(patch, ctx)


def codes(risk: Risk) -> set[str]:
    return {r.code for r in risk.reasons}


def add_line(path: str, line: str, base: str = SOURCE, **kw) -> Risk:
    return score(path, base, base.replace("    return x + 3\n", f"    return x + 3\n{line}\n"), **kw)


@pytest.mark.parametrize("value, tier", [(0.0, Tier.LOW), (0.2499, Tier.LOW), (0.25, Tier.MEDIUM),
                                         (0.4999, Tier.MEDIUM), (0.5, Tier.HIGH), (0.7499, Tier.HIGH),
                                         (0.75, Tier.CRITICAL), (1.0, Tier.CRITICAL)])
def test_tier_for_boundaries(value, tier):
    assert tier_for(value) is tier


def test_tiers_rank_in_order():
    assert [t.rank for t in (Tier.LOW, Tier.MEDIUM, Tier.HIGH, Tier.CRITICAL)] == [0, 1, 2, 3]


def test_one_line_change_in_an_open_ordinary_file_is_low():
    risk = score("src/app/util.py", SOURCE, SOURCE.replace("return x + 7", "return x + 8"))
    assert risk.tier is Tier.LOW and risk.score < 0.25
    assert codes(risk) == {"size"}
    patch = make_patch(patch_id="p", task_id="t", path="src/app/util.py", base_text=SOURCE,
                       new_text=SOURCE.replace("return x + 7", "return x + 8"))
    assert score_patch(patch, RiskContext(open_paths={"src/app/util.py"})).tier is Tier.LOW


def test_size_grows_smoothly_and_caps():
    weights = []
    for n in (1, 5, 30, 120, 400):
        new = SOURCE + "".join(f"extra_{k} = {k}\n" for k in range(n))
        risk = score("src/big.py", SOURCE, new)
        weights.append(next(r.weight for r in risk.reasons if r.code == "size"))
    assert weights == sorted(weights) and len(set(weights)) == 5
    assert weights[0] <= 0.05 and 0.28 <= weights[-1] <= 0.3


def test_mostly_deleting_is_named():
    lines = SOURCE.splitlines(keepends=True)
    risk = score("src/m.py", SOURCE, "".join(lines[:30] + lines[60:]))
    assert "deletion_ratio" in codes(risk)
    assert "deletion_ratio" not in codes(score("src/m.py", SOURCE, SOURCE + "a = 1\n" * 40))


@pytest.mark.parametrize("path", ["app/auth/views.py", "src/login.py", "lib/crypto_utils.py", "config/secrets.yaml",
                                  "proj/settings.py", "Dockerfile", "deploy/permissions.json", "certs/server.pem"])
def test_security_sensitive_paths(path):
    risk = add_line(path, "    pass")
    assert "sensitive_path" in codes(risk) and risk.tier.rank >= Tier.MEDIUM.rank


@pytest.mark.parametrize("path", ["src/author.py", "src/tokenizer.py", "src/util.py", "docs/index.md"])
def test_ordinary_paths_are_not_sensitive(path):
    assert "sensitive_path" not in codes(add_line(path, "    pass"))


@pytest.mark.parametrize("line", [
    "    eval(user_input)", "    exec(code)", "    subprocess.run(cmd)", "    os.system('rm -rf ' + d)",
    "    run(cmd, shell=True)", "    obj = pickle.loads(blob)", "    cfg = yaml.load(text)",
    "    q = f\"SELECT * FROM users WHERE name = '{name}'\"",
    "    q = \"DELETE FROM items WHERE id = \" + item_id",
    "    h = hashlib.md5(data)", "    requests.get(url, verify=False)",
])
def test_security_sensitive_code_added(line):
    risk = add_line("src/app/util.py", line)
    assert "sensitive_code" in codes(risk) and risk.tier is Tier.MEDIUM


@pytest.mark.parametrize("line", ["    cfg = yaml.load(text, Loader=yaml.SafeLoader)", "    # never eval(x) here",
                                  "    q = 'SELECT 1'", "    evaluate(x)", "    value = model.execute_plan()"])
def test_harmless_lookalikes_are_not_sensitive_code(line):
    assert "sensitive_code" not in codes(add_line("src/app/util.py", line))


def test_only_added_lines_count_for_code_signals():
    base = SOURCE.replace("    return x + 3\n", "    return eval(x)\n")
    assert "sensitive_code" not in codes(score("src/app/util.py", base, SOURCE))


@pytest.mark.parametrize("line", [
    "AWS_KEY = 'AKIAIOSFODNN7EXAMPLQ'",
    "token = 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'",
    "-----BEGIN RSA PRIVATE KEY-----",
    "api_key = \"9f8e7d6c5b4a39281706f5e4d3c2b1a0Zq\"",
    "    'password': 'Tr0ub4dor&3xYz!'",
])
def test_secrets_added_are_critical(line):
    risk = add_line("src/app/util.py", line)
    assert "secret_added" in codes(risk) and risk.tier is Tier.CRITICAL and risk.score >= 0.75
    secret = line.split("'")[1] if "'" in line else line
    assert all(secret not in r.message for r in risk.reasons)  # never repeat the secret itself


@pytest.mark.parametrize("line", ["api_key = os.environ['OPENAI_API_KEY']", "api_key = \"OPENAI_API_KEY\"",
                                  "password = 'changeme-please'", "token = \"<your-token-here>\""])
def test_placeholders_and_env_names_are_not_secrets(line):
    assert "secret_added" not in codes(add_line("src/app/util.py", line))


TEST_FILE = "".join(f"def test_{i}():\n    assert f({i}) == {i}\n\n" for i in range(10))


def test_assertions_removed_from_a_test_file():
    new = TEST_FILE.replace("    assert f(3) == 3\n", "    f(3)\n")
    risk = score("tests/test_f.py", TEST_FILE, new)
    assert "test_removed" in codes(risk) and risk.tier.rank >= Tier.MEDIUM.rank
    # adding an assertion is not a weakening, and the same edit outside tests is not a test signal
    assert "test_removed" not in codes(score("tests/test_f.py", TEST_FILE, TEST_FILE + "    assert g()\n"))
    assert "test_removed" not in codes(score("src/f.py", TEST_FILE, new))


def test_skip_marker_added_is_a_weakening():
    new = TEST_FILE.replace("def test_4():", "@pytest.mark.skip\ndef test_4():")
    assert "test_removed" in codes(score("tests/unit/test_f.py", TEST_FILE, new))
    new = TEST_FILE.replace("def test_4():", "@pytest.mark.xfail(reason='flaky')\ndef test_4():")
    assert "test_removed" in codes(score("pkg/f_test.py", TEST_FILE, new))


def test_test_file_deleted_is_high():
    risk = score("tests/test_f.py", TEST_FILE, "", kind=PatchKind.DELETE)
    assert {"test_removed", "file_deleted"} <= codes(risk) and risk.tier.rank >= Tier.HIGH.rank


CI = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n" \
     "      - uses: actions/checkout@v4\n      - name: Lint\n        run: ruff check .\n" \
     "      - name: Test\n        run: pytest\n"


def test_ci_config_changed_and_steps_removed():
    changed = score(".github/workflows/ci.yml", CI, CI.replace("ubuntu-latest", "ubuntu-22.04"))
    assert "ci_changed" in codes(changed) and changed.tier is Tier.MEDIUM
    removed = score(".github/workflows/ci.yml", CI, CI.replace("      - name: Test\n        run: pytest\n", ""))
    assert "ci_changed" in codes(removed) and removed.tier is Tier.HIGH
    assert "ci_changed" in codes(score(".gitlab-ci.yml", "a: 1\n", "a: 2\n"))


def test_file_neither_mentioned_nor_open():
    risk = score("src/app/util.py", SOURCE, SOURCE.replace("return x + 7", "return x + 8"), mentioned=False)
    assert "unmentioned_file" in codes(risk)
    patch = make_patch(patch_id="p", task_id="t", path="src/app/util.py", base_text=SOURCE,
                       new_text=SOURCE.replace("return x + 7", "return x + 8"))
    # a mentioned folder, a mentioned file name, a ./-prefixed path all count as mentioned
    for ctx in (RiskContext(mentioned_paths={"src/app/"}), RiskContext(mentioned_paths={"util.py"}),
                RiskContext(open_paths={"./src/app/util.py"})):
        assert "unmentioned_file" not in codes(score_patch(patch, ctx))


@pytest.mark.parametrize("path", ["pyproject.toml", "requirements-dev.txt", "web/package.json", "poetry.lock",
                                  "Cargo.lock", "go.mod"])
def test_dependency_manifests(path):
    risk = score(path, "a = 1\n", "a = 2\n")
    assert "dependency_manifest" in codes(risk) and risk.tier.rank >= Tier.MEDIUM.rank


def test_file_deletion():
    risk = score("src/app/old.py", SOURCE, "", kind=PatchKind.DELETE)
    assert "file_deleted" in codes(risk) and risk.tier is Tier.HIGH
    assert "deletion_ratio" not in codes(risk)  # the same fact, not counted twice
    small = score("src/app/old.py", "x = 1\n", "", kind=PatchKind.DELETE)
    assert small.tier is Tier.MEDIUM


def test_every_tier_is_reachable():
    assert score("src/a.py", SOURCE, SOURCE.replace("x + 1\n", "x + 100\n")).tier is Tier.LOW
    # the same line in a file the user never pointed at wants a look
    assert score("src/a.py", SOURCE, SOURCE.replace("x + 1\n", "x + 100\n"), mentioned=False).tier is Tier.MEDIUM
    assert add_line("src/a.py", "    subprocess.run(cmd)").tier is Tier.MEDIUM
    assert add_line("app/auth.py", "    subprocess.run(cmd)").tier is Tier.HIGH
    # the same in a file the user never pointed at, with a shell: nothing short of CRITICAL
    assert add_line("app/auth.py", "    subprocess.run(cmd, shell=True)", mentioned=False).tier is Tier.CRITICAL
    assert add_line("src/a.py", "KEY = 'AKIAIOSFODNN7EXAMPLQ'").tier is Tier.CRITICAL


def test_scores_are_capped_and_reasons_are_named():
    new = "import subprocess, pickle\n" + "eval(x)\nos.system(y)\n" * 200 + "KEY = 'AKIAIOSFODNN7EXAMPLQ'\n"
    risk = score("app/auth/settings.py", SOURCE, new, mentioned=False)
    assert risk.score == 1.0 and risk.tier is Tier.CRITICAL
    assert {"size", "sensitive_path", "sensitive_code", "secret_added",
            "unmentioned_file"} <= codes(risk)
    assert all(r.message and r.weight > 0 for r in risk.reasons)


def test_risk_json_round_trip():
    risk = add_line("app/auth.py", "    eval(x)")
    data = risk.to_json()
    assert set(data) == {"score", "tier", "reasons"} and isinstance(data["tier"], str)
    assert set(data["reasons"][0]) == {"code", "weight", "message"}
    assert Risk.from_json(data) == risk
    assert Risk(0.123456, Tier.LOW, [RiskReason("size", 0.1, "m")]).to_json()["score"] == 0.12


def test_changed_lines_of_nearby_changes_leave_out_the_unchanged_lines_between():
    patch = make_patch(patch_id="p", task_id="t", path="a.py", base_text=SOURCE,
                       new_text=SOURCE.replace("x + 5\n", "x + 50\n").replace("x + 6\n", "x + 60\n"))
    assert len(patch.hunks) == 2  # one hunk per change since issue 15 (they were merged into one)
    assert changed_lines(patch) == (["    return x + 5\n", "    return x + 6\n"],
                                    ["    return x + 50\n", "    return x + 60\n"])
