"""`metaconf lint` end to end through the Typer app: paths, exit codes, formats, bad input, --fix / --diff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.cli.lint import FailOn, _exit_code
from metaconf.config.loader import Span
from metaconf.lint.finding import Finding, Severity

runner = CliRunner()

CLEAN = """\
data:
  demo: iris
budget:
  walltime: 5m
stopping:
  n_trials: 40
  trial_walltime: 5s
  crash_cost: 1.0
execution:
  seed: 0
"""
# a clean config with one typo, so the tests see exactly one finding whatever other rules are added; a config
# that does not validate is bad input: exit 2
TYPO = CLEAN.replace("  walltime: 5m\n", "  walltime: 5m\n  corse: 2   # keep me\n")
# a valid config with one warning (a bare memory number this large looks like bytes): exit 1
WARN = CLEAN.replace("  walltime: 5m\n", "  walltime: 5m\n  memory: 4000000\n")


def lint(*args: str, stdin: bytes | str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["lint", *args], input=stdin)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact-output assertions need uncoloured text whatever the CI environment sets."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- exit codes ---------------------------------------------------------------------------------------------


def test_clean_file_exits_0(project: Path) -> None:
    write(project / "ok.yaml", CLEAN)
    code, out, _ = lint("ok.yaml")
    assert code == 0, out
    assert out.strip() == "All checks passed (1 file)."


def test_findings_on_a_valid_config_exit_1(project: Path) -> None:
    write(project / "warn.yaml", WARN)
    code, out, _ = lint("warn.yaml")
    assert code == 1, out
    assert "MC308" in out


def test_schema_findings_exit_2_and_use_the_line_format(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    code, out, _ = lint("typo.yaml")
    assert code == 2
    assert out.splitlines()[0] == "typo.yaml:5:3: MC101 unknown key `corse`; did you mean `cores`?"
    assert "Found 1 finding (1 error) in 1 file; 1 fixable with --fix --unsafe-fixes." in out


def test_exit_zero_turns_1_into_0_but_not_2(project: Path) -> None:
    write(project / "warn.yaml", WARN)
    write(project / "typo.yaml", TYPO)
    write(project / "bad.yaml", "a: [1\n")
    assert lint("warn.yaml", "--exit-zero")[0] == 0
    assert lint("typo.yaml", "--exit-zero")[0] == 2
    assert lint("bad.yaml", "--exit-zero")[0] == 2


@pytest.mark.parametrize(
    ("severities", "fail_on", "expected"),
    [
        ([], FailOn.warning, 0),
        ([Severity.info], FailOn.warning, 0),
        ([Severity.info], FailOn.info, 1),
        ([Severity.warning], FailOn.warning, 1),
        ([Severity.warning], FailOn.error, 0),
        ([Severity.warning, Severity.error], FailOn.error, 1),
    ],
)
def test_fail_on_threshold(severities: list[Severity], fail_on: FailOn, expected: int) -> None:
    findings = [Finding("MC301", "m", s, "f.yaml", Span(1, 1, 1, 2)) for s in severities]
    assert _exit_code(findings, False, fail_on, exit_zero=False) == expected
    assert _exit_code(findings, False, fail_on, exit_zero=True) == 0
    assert _exit_code(findings, True, fail_on, exit_zero=True) == 2


def test_fail_on_through_the_cli(project: Path) -> None:
    # a bare memory number this large is read as megabytes but looks like bytes: a warning, not an error
    write(project / "mem.yaml", "data:\n  demo: iris\nbudget:\n  memory: 4000000\n")
    code, out, _ = lint("mem.yaml", "--select", "MC308")
    assert code == 1 and "MC308" in out and "1 warning" in out
    assert lint("mem.yaml", "--select", "MC308", "--fail-on", "error")[0] == 0


# --- selection ----------------------------------------------------------------------------------------------


def test_select_and_ignore(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    assert lint("typo.yaml", "--ignore", "MC101")[0] == 0
    assert lint("typo.yaml", "--select", "MC0,MC1")[0] == 2
    assert lint("typo.yaml", "--select", "MC0", "--select", "MC3")[0] == 0
    assert lint("typo.yaml", "--ignore", "unknown-key")[0] == 0


@pytest.mark.parametrize(
    "selection",
    [["--ignore", "ALL"], ["--ignore", "MC1,MC0"], ["--select", "MC3"], ["--ignore", "invalid-yaml"]],
    ids=["ignore-all", "ignore-mc0-mc1", "select-mc3", "ignore-by-name"],
)
@pytest.mark.parametrize("fix", [[], ["--fix"], ["--diff"]], ids=["lint", "fix", "diff"])
def test_yaml_that_does_not_parse_exits_2_whatever_is_selected(
    project: Path, selection: list[str], fix: list[str]
) -> None:
    """ruff never lets a syntax error be ignored: input that is not a config is never "All checks passed"."""
    write(project / "broken.yaml", "budget:\n  walltime: 10m\n cores: 2\n")
    code, out, _ = lint("broken.yaml", *selection, *fix)
    assert code == 2, out
    if fix != ["--diff"]:
        assert "broken.yaml:3:2: MC001 invalid YAML" in out
    assert "All checks passed" not in out


@pytest.mark.parametrize(
    ("content", "code"),
    [("", "MC002"), (b"a: caf\xe9\n", "MC003"), ("a: !!python/name:os.system\n", "MC004")],
)
def test_other_unloadable_input_exits_2_even_when_its_rule_is_ignored(
    project: Path, content: str | bytes, code: str
) -> None:
    write(project / "bad.yaml", content)
    exit_code, out, _ = lint("bad.yaml", "--ignore", "ALL")
    assert exit_code == 2 and code in out
    assert lint("-", "--select", "MC9", stdin=content)[0] == 2


def test_unknown_selector_is_a_usage_error(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    code, out, err = lint("typo.yaml", "--select", "MC9999,unknown-kee")
    assert code == 2 and out == ""
    assert "unknown rule selectors: `MC9999`, `unknown-kee`" in err
    assert "`unknown-key`" in err
    assert "Traceback" not in err


def test_suppression_comment(project: Path) -> None:
    write(project / "s.yaml", "budget:\n  walltime: 10m\n  corse: 2   # metaconf: ignore[MC101]\n")
    assert lint("s.yaml")[0] == 0


# --- paths --------------------------------------------------------------------------------------------------


def test_directory_of_mixed_files(project: Path) -> None:
    write(project / "configs" / "a.yaml", CLEAN)
    write(project / "configs" / "b.yml", TYPO)
    write(project / "configs" / "README.md", "# notes\n")
    write(project / "configs" / "data.csv", "a,b\n1,2\n")
    write(project / "configs" / "nested" / "c.yaml", CLEAN)
    write(project / "configs" / ".hidden" / "h.yaml", "a: [1\n")
    write(project / "configs" / "runs" / "exp" / "resolved.yaml", "a: [1\n")
    code, out, _ = lint("configs")
    assert code == 2
    assert "configs/b.yml:5:3: MC101" in out
    assert "in 3 files" in out
    assert "Skipped 2 files that are not YAML (*.yaml, *.yml)." in out
    assert "hidden" not in out and "resolved" not in out


def test_quoted_glob_is_expanded_by_metaconf(project: Path) -> None:
    write(project / "configs" / "a.yaml", CLEAN)
    write(project / "configs" / "deep" / "b.yaml", TYPO)
    write(project / "configs" / "notes.txt", "x")
    code, out, _ = lint("configs/**/*.yaml")
    assert code == 2
    assert "configs/deep/b.yaml:5:3: MC101" in out
    assert "in 2 files" in out
    code, out, _ = lint("configs/*")  # a matched directory is searched like a directory argument
    assert "in 2 files" in out and "Skipped 1 file" in out
    code, out, _ = lint("configs/*.yaml")
    assert code == 0 and "(1 file)" in out


def test_explicit_file_is_linted_whatever_its_suffix(project: Path) -> None:
    write(project / "config.conf", TYPO)
    assert lint("config.conf")[0] == 2


def test_same_file_twice_is_linted_once(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    _, out, _ = lint("typo.yaml", "./typo.yaml", "*.yaml")
    assert out.count("MC101") == 1


def test_no_path_matched_exits_2(project: Path) -> None:
    code, out, err = lint("missing.yaml", "nothing/*.yaml")
    assert code == 2 and out == ""
    assert "no config file matched `missing.yaml`, `nothing/*.yaml`" in err


def test_some_paths_missing_still_lints_the_others_and_exits_2(project: Path) -> None:
    write(project / "ok.yaml", CLEAN)
    code, out, err = lint("ok.yaml", "missing.yaml")
    assert code == 2
    assert "All checks passed (1 file)." in out
    assert "`missing.yaml` matched no file" in err


def test_stdin(project: Path) -> None:
    code, out, _ = lint("-", stdin=TYPO)
    assert code == 2
    assert out.startswith("<stdin>:5:3: MC101")
    code, out, _ = lint("-", "--stdin-filename", "configs/x.yaml", stdin=TYPO)
    assert out.startswith("configs/x.yaml:5:3: MC101")


def test_stdin_not_utf8(project: Path) -> None:
    code, out, _ = lint("-", stdin=b"a: 1\nb: caf\xe9\n")
    assert code == 2
    assert "<stdin>:2:7: MC003" in out


# --- bad input: one clear finding or error each, never a traceback ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "expected_exit", "expected"),
    [
        ("budget:\n  walltime: 10m\n cores: 2\n", "MC001", 2, "bad.yaml:3:2: MC001 invalid YAML"),
        ("", "MC002", 2, "bad.yaml:1:1: MC002 the file is empty"),
        ("# only comments\n\n", "MC002", 2, "MC002"),
        (b"a: 1\nb: caf\xe9\n", "MC003", 2, "bad.yaml:2:7: MC003 the file is not UTF-8"),
        ("stopping:\n  n_trails: 50\n", "MC101", 2, "did you mean `n_trials`?"),
        ("budget:\n  cores: many\n", "MC102", 2, "The `budget.cores` parameter must be"),
        ("budget:\n  walltime: .nan\n", "MC102", 2, "must be a finite number"),
        ("budget:\n  walltime: .inf\n", "MC102", 2, "must be a finite number"),
        ("budget:\n  walltime: -10\n", "MC102", 2, "must not be negative"),
        ("budget:\n  cores: 99999999999999999999999999999999\n", "MC102", 2, "less than or equal to 4096"),
        ("- just\n- a list\n", "MC102", 2, "a config is a mapping"),
        ("a: 1\n---\nb: 2\n", "MC001", 2, "2 YAML documents"),
    ],
)
def test_bad_input(project: Path, content: str | bytes, code: str, expected_exit: int, expected: str) -> None:
    write(project / "bad.yaml", content)
    exit_code, out, err = lint("bad.yaml")
    assert exit_code == expected_exit, out + err
    assert code in out and expected in out
    assert "Traceback" not in out + err


def test_python_tags_are_refused_and_never_executed(project: Path) -> None:
    marker = project / "pwned"
    write(project / "evil.yaml", f"execution:\n  seed: !!python/object/apply:os.system ['touch {marker}']\n")
    code, out, _ = lint("evil.yaml")
    assert code == 2
    assert "evil.yaml:2:9: MC004 the tag `!!python/object/apply:os.system` is not allowed" in out
    assert not marker.exists()


def test_alias_bomb_is_reported_not_expanded(project: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    write(project / "bomb.yaml", "\n".join(lines) + "\n")
    code, out, _ = lint("bomb.yaml")
    assert code == 2 and "MC005" in out


def test_directory_argument_with_unreadable_yaml_inside(project: Path) -> None:
    write(project / "d" / "good.yaml", CLEAN)
    write(project / "d" / "latin1.yaml", b"task:\n  target: \xe9t\xe9\n")
    code, out, _ = lint("d")
    assert code == 2
    assert "d/latin1.yaml:2:11: MC003" in out


def test_missing_data_file_with_data_flag(project: Path) -> None:
    write(project / "exp" / "c.yaml", "task:\n  target: label\ndata:\n  path: train.csv\n")
    assert "MC900" not in lint("exp/c.yaml")[1]  # without --data the data is not touched
    code, out, _ = lint("exp/c.yaml", "--data")
    assert code == 2
    assert "exp/c.yaml:4:9: MC900 cannot load the data" in out
    assert "train.csv" in out


def test_data_flag_resolves_paths_relative_to_the_config(project: Path) -> None:
    rows = "\n".join(f"{i % 7},{i % 3},{'yes' if i % 2 else 'no'}" for i in range(60))
    write(project / "exp" / "train.csv", "f1,f2,label\n" + rows + "\n")
    write(project / "exp" / "c.yaml", "task:\n  target: label\ndata:\n  path: train.csv\n")
    code, out, _ = lint("exp/c.yaml", "--data", "--select", "MC900")
    assert code == 0, out


# --- formats ------------------------------------------------------------------------------------------------


def test_json_format(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    code, out, _ = lint("typo.yaml", "--format", "json")
    assert code == 2
    (item,) = json.loads(out)
    assert item["file"] == "typo.yaml"
    assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (5, 3, 5, 8)
    assert item["json_path"] == "$.budget.corse" and item["name"] == "unknown-key"


def test_github_format(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    _, out, _ = lint("typo.yaml", "-f", "github")
    assert out.startswith("::error file=typo.yaml,line=5,col=3,endLine=5,endColumn=8,title=MC101::unknown key")


def test_sarif_format(project: Path) -> None:
    write(project / "typo.yaml", TYPO)
    _, out, _ = lint("typo.yaml", "-f", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "MC101"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["name"] == "unknown-key"


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    write(project / "ok.yaml", CLEAN)
    assert lint("ok.yaml", "-f", "xml")[0] == 2


# --- fixing -------------------------------------------------------------------------------------------------


def test_unsafe_fix_needs_the_flag(project: Path) -> None:
    path = write(project / "typo.yaml", TYPO)
    code, out, _ = lint("typo.yaml", "--fix")
    assert code == 2 and path.read_text() == TYPO
    code, out, err = lint("typo.yaml", "--fix", "--unsafe-fixes")
    assert code == 0, out
    assert path.read_text() == TYPO.replace("corse", "cores")
    assert "fixed: typo.yaml:5:3: MC101 Rename `corse` to `cores`" in err
    assert "Fixed 1 finding (0 remaining)." in out


def test_diff_does_not_write(project: Path) -> None:
    path = write(project / "typo.yaml", TYPO)
    code, out, err = lint("typo.yaml", "--diff", "--unsafe-fixes")
    assert code == 1  # the diff would fix the only finding: exit 1 means "would change"
    assert "-  corse: 2   # keep me\n+  cores: 2   # keep me" in out
    assert "Would fix 1 finding (0 remaining)." in err
    assert path.read_text() == TYPO
    assert lint("typo.yaml", "--diff")[0] == 2  # nothing safe to fix: no diff, and the config is still invalid


def test_diff_from_stdin_and_fix_refused_on_stdin(project: Path) -> None:
    code, out, _ = lint("-", "--diff", "--unsafe-fixes", stdin=TYPO)
    assert code == 1 and "+  cores: 2" in out
    code, _, err = lint("-", "--fix", stdin=TYPO)
    assert code == 2 and "--fix cannot write back to stdin" in err


def test_fix_leaves_unreadable_files_alone(project: Path) -> None:
    path = write(project / "bad.yaml", "a: [1\n")
    code, out, _ = lint("bad.yaml", "--fix", "--unsafe-fixes")
    assert code == 2 and "MC001" in out
    assert path.read_text() == "a: [1\n"


# --- the process ----------------------------------------------------------------------------------------------


def test_help_in_a_subprocess_documents_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "metaconf", "lint", "--help"], capture_output=True, text=True, timeout=60,
        env={"COLUMNS": "200", "PATH": "", "TERM": "dumb", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    for needle in ("--fail-on", "--exit-zero", "--unsafe-fixes", "--diff", "--data", "--format"):
        assert needle in result.stdout
    assert "Exit codes" in result.stdout


def test_plain_lint_does_not_import_smac_or_pandas(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.yaml", CLEAN)
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from metaconf.cli.app import app\n"
        f"result = CliRunner().invoke(app, ['lint', {str(path)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(','.join(m for m in ('smac', 'pandas', 'sklearn', 'dask', 'matplotlib') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_search_space_file_that_is_not_configspace_exits_2(project: Path) -> None:
    write(project / "space.yaml", "just a sentence, not a space\n")
    write(
        project / "c.yaml",
        "data:\n  demo: iris\nsearch_space:\n  file: space.yaml\n  estimator: sklearn.svm:SVC\n",
    )
    code, out, _ = lint("c.yaml")
    assert code == 2
    assert "c.yaml:4:9: MC201" in out


def test_a_crashing_rule_is_one_error_message(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from metaconf.lint.catalog import all_rules
    from metaconf.lint.registry import RULES

    def boom(ctx: object) -> list:
        raise KeyError("oops")

    monkeypatch.setitem(RULES, "MC101", replace(all_rules()["MC101"], check=boom))
    write(project / "typo.yaml", TYPO)
    code, out, err = lint("typo.yaml")
    assert code == 2 and out == ""
    assert "internal error: rule MC101 failed on `typo.yaml`: KeyError" in err
    assert "Traceback" not in err


def test_pre_commit_hooks_run_metaconf_lint_on_config_files() -> None:
    import re

    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"metaconf-lint", "metaconf-lint-fix"}
    assert hooks["metaconf-lint"]["entry"] == "metaconf lint"
    assert hooks["metaconf-lint-fix"]["entry"] == "metaconf lint --fix"
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == ["yaml"]
        pattern = re.compile(hook["files"])
        for path in ("metaconf.yaml", "exp/metaconf.yml", "configs/big.metaconf.yaml", "metaconf/a.yaml"):
            assert pattern.search(path), path
        for path in (".github/workflows/ci.yml", "docker-compose.yaml", "mkdocs.yml"):
            assert not pattern.search(path), path


def test_pre_commit_style_invocation_with_many_files(project: Path) -> None:
    """pre-commit passes the staged files as arguments; a clean set passes, one bad file fails the hook."""
    names = [f"metaconf/exp{i}.yaml" for i in range(5)]
    for name in names:
        write(project / name, CLEAN)
    assert lint(*names)[0] == 0
    write(project / names[2], TYPO)
    code, out, _ = lint(*names)
    assert code == 2 and f"{names[2]}:5:3: MC101" in out


def test_force_color_colours_text_and_no_color_wins(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "typo.yaml", TYPO)
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = lint("typo.yaml")
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = lint("typo.yaml")
    assert "\x1b[" not in out
    monkeypatch.delenv("NO_COLOR")
    _, out, _ = lint("typo.yaml", "-f", "json")
    assert "\x1b[" not in out
