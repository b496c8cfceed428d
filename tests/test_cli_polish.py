"""The command line as a whole: help that reads cleanly, one meaning per short option, one seed range, shell
completion, and a spinner while suggest works on a terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from metaconf.cli.app import app
from metaconf.cli.common import SEED_MAX

WIDE = {"COLUMNS": "220", "NO_COLOR": "1", "TERM": "dumb"}


def _commands() -> list[tuple[list[str], Any]]:
    root = typer.main.get_command(app)
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return found


COMMANDS = _commands()


def _help(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "metaconf")
def test_help_shows_no_type_for_flags_and_keeps_every_bracket(path: list[str]) -> None:
    text = _help(path)
    assert "<bool>" not in text
    command = dict((tuple(p), c) for p, c in COMMANDS)[tuple(path)]
    flat = " ".join(text.replace("│", " ").split())
    for param in command.params:
        help_text = getattr(param, "help", None) or ""
        # what square brackets hold in a help text is shown, not eaten as markup
        for bracketed in re.findall(r"\[[^\]]*\]", help_text):
            assert bracketed in flat, (param.name, bracketed)
        if getattr(param, "is_flag", False) and param.opts[0] != "--help" and not param.hidden:
            line = next(line for line in text.splitlines() if re.search(re.escape(param.opts[0]) + r"[ ,]", line))
            assert "<" not in line.split(param.opts[0], 1)[1][:30], line


def test_short_options_mean_one_thing_everywhere() -> None:
    meanings: dict[str, set[str]] = {}
    for _, command in COMMANDS:
        for param in command.params:
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts + param.secondary_opts if re.fullmatch(r"-[a-zA-Z]", o)):
                meanings.setdefault(short, set()).update(longs)
    assert meanings, "no short options found"
    assert {short: longs for short, longs in meanings.items() if len(longs) != 1} == {}
    assert meanings["-t"] == {"--target"}
    assert meanings["-f"] == {"--format"}
    assert meanings["-o"] == {"--output"}


def test_every_seed_option_takes_the_same_range() -> None:
    seeds = [
        (" ".join(path), param)
        for path, command in COMMANDS
        for param in command.params
        if "--seed" in param.opts
    ]
    assert {name for name, _ in seeds} >= {"suggest", "run", "compile", "profile"}
    for name, param in seeds:
        bounds = param if hasattr(param, "min") else param.type  # typer 0.29 keeps them on the option
        assert (bounds.min, bounds.max) == (0, SEED_MAX), name
    from metaconf.config.model import Execution

    bounds = Execution.model_json_schema()["properties"]["seed"]["anyOf"][0]
    assert (bounds["minimum"], bounds["maximum"]) == (0, SEED_MAX)


@pytest.mark.parametrize("command", ["suggest", "run", "compile", "profile"])
def test_a_seed_out_of_range_is_a_usage_error(command: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [command, "x.yaml" if command in ("run", "compile") else "--demo", *(
        [] if command in ("run", "compile") else ["iris"]), "--seed", str(SEED_MAX + 1)], env=WIDE)
    assert result.exit_code == 2
    assert "--seed" in result.output


def test_shell_completion_completes_commands_and_choices() -> None:
    def complete(words: str) -> list[str]:
        env = {**os.environ, "_METACONF_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        out = subprocess.run(
            [sys.executable, "-m", "metaconf"], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        return out.stdout.split()

    assert complete("metaconf sug") == ["suggest"]
    assert complete("metaconf lint --format ") == ["text", "json", "github", "sarif"]
    help_text = _help([])
    assert "--install-completion" in help_text


def test_suggest_shows_what_it_is_doing_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, a spinner names the slow step (here the probe); in a pipe, stderr holds only results."""
    args = [sys.executable, "-m", "metaconf", "suggest", "--demo", "iris", "--budget", "1m", "-o"]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm", "METACONF_PROBE_CACHE": "off"}
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: suggest on a terminal
        os.chdir(tmp_path)
        os.execvpe(args[0], [*args, "a.yaml"], env)
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert b"measuring what one fit of each model family costs" in seen
    assert (tmp_path / "a.yaml").exists()

    piped = subprocess.run([*args, "b.yaml"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert "measuring what one fit" not in piped.stderr
