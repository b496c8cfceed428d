"""auto-sklearn's own virtual environment: where it lives, which Python builds it, how it is installed and
checked.

auto-sklearn 0.15 pins smac 1.2, ConfigSpace < 0.5 and scikit-learn 0.24 under the same package names that
SMAC3 2.x needs newer: the two never share an environment (docs/tools.md). metaconf keeps a dedicated
venv and drives auto-sklearn through a subprocess.

Location: ``$METACONF_ENV_DIR/auto-sklearn`` when ``METACONF_ENV_DIR`` is set, else
``$XDG_CACHE_HOME/metaconf/envs/auto-sklearn`` (``~/.cache/metaconf/envs/auto-sklearn``); ``--env-dir`` on the
command line names the folder that holds the environments, like ``METACONF_ENV_DIR``.

Recipes (measured on these machines, see docs/tools.md):

- ``wheels``: Python 3.8 / 3.9, binary wheels only, about 45 s and 476 MB.
- ``source-build``: Python 3.10 / 3.11, where scikit-learn 0.24.2 has no wheel and its plain build fails on
  ``pkg_resources``: old setuptools / Cython / numpy first, then pyrfr, ConfigSpace 0.4.21 and scikit-learn
  0.24.2 without build isolation, then auto-sklearn. About 10 minutes and a C/C++ compiler.

States: ``missing`` (no folder), ``half-installed`` (a folder without the marker: an install that died or is
still running), ``broken`` (marker there, but its Python is gone or the import check fails), ``outdated``
(installed by a recipe this metaconf no longer uses), ``ready``. The marker ``metaconf-env.json`` is written
only after a successful install *and* import check, so a half-installed environment is never taken for a
working one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from metaconf.errors import MetaconfError, UsageError

BACKEND = "auto-sklearn"
ENV_DIR_VARIABLE = "METACONF_ENV_DIR"
MARKER_FILE = "metaconf-env.json"
LOG_FILE = "metaconf-install.log"
MARKER_FORMAT = 1
PROBE_TIMEOUT_S = 20
CHECK_TIMEOUT_S = 120

INSTALL_COMMAND = "metaconf backends install auto-sklearn"
REPAIR_COMMAND = "metaconf backends install auto-sklearn --repair"

PINS = ("auto-sklearn==0.15.0", "numpy<1.24", "scipy<1.10", "pandas<2")
"""Each pin matters: numpy 2 breaks the binary interface; numpy >= 1.24 removes ``np.int`` that smac 1.2 uses;
scipy >= 1.11 crashes 9 of 20 runs in ``_most_frequent``; scipy 1.10 turns a kernel_pca deprecation warning
into an error; pandas 2 removed ``iteritems``."""


class BackendEnvError(MetaconfError):
    """The auto-sklearn environment cannot be created or used. The hint says how to fix it."""


@dataclass(frozen=True)
class Recipe:
    """One way to install auto-sklearn: pip invocations run with the environment's Python, in order."""

    name: str
    pythons: tuple[tuple[int, int], ...]
    steps: tuple[tuple[str, ...], ...]
    minutes: float
    """Typical duration, for the progress message."""
    needs_compiler: bool = False

    def sha256(self) -> str:
        from metaconf.report.results import sha256_of

        return sha256_of({"name": self.name, "steps": [list(step) for step in self.steps]})


WHEELS = Recipe(
    name="wheels",
    pythons=((3, 9), (3, 8)),
    steps=(("-m", "pip", "install", *PINS),),
    minutes=1.0,
)
SOURCE_BUILD = Recipe(
    name="source-build",
    pythons=((3, 10), (3, 11)),
    steps=(
        ("-m", "pip", "install", "setuptools<60", "wheel", "Cython<3", "numpy==1.23.5", "scipy<1.10", "pandas<2", "swig"),
        ("-m", "pip", "install", "--no-build-isolation", "pyrfr==0.8.3", "ConfigSpace==0.4.21", "scikit-learn==0.24.2"),
        ("-m", "pip", "install", *PINS),
    ),
    minutes=10.0,
    needs_compiler=True,
)
RECIPES = (WHEELS, SOURCE_BUILD)


def recipe_for(version: Sequence[int]) -> Recipe | None:
    """The recipe for a Python version, or None when auto-sklearn 0.15 cannot be installed on it."""
    for recipe in RECIPES:
        if tuple(version[:2]) in recipe.pythons:
            return recipe
    return None


# ------------------------------------------------------------------------------------------------ location
def envs_root(explicit: str | Path | None = None) -> Path:
    """The folder that holds metaconf's tool environments (see the module docstring for the order)."""
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(ENV_DIR_VARIABLE)
    if from_env:
        return Path(from_env).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(cache).expanduser() / "metaconf" / "envs").resolve()


def env_dir(root: str | Path | None = None) -> Path:
    """auto-sklearn's environment folder."""
    return envs_root(root) / BACKEND


def env_python(directory: Path) -> Path:
    """The environment's Python executable."""
    if sys.platform == "win32":  # pragma: no cover - metaconf's targets run on Linux / macOS
        return directory / "Scripts" / "python.exe"
    return directory / "bin" / "python"


# ---------------------------------------------------------------------------------------------- interpreters
@dataclass(frozen=True)
class Interpreter:
    """A Python that can build the environment."""

    path: Path
    version: tuple[int, int, int]
    source: str
    """Where it was found: ``--python``, ``pyenv``, ``PATH``."""
    has_venv: bool = True
    """Whether ``venv`` and ``ensurepip`` import (Debian's system Pythons ship without them)."""

    @property
    def version_text(self) -> str:
        return ".".join(str(v) for v in self.version)

    @property
    def recipe(self) -> Recipe | None:
        return recipe_for(self.version)


_PROBE_CODE = (
    "import json, sys\n"
    "try:\n"
    "    import venv, ensurepip\n"
    "    ok = True\n"
    "except ImportError:\n"
    "    ok = False\n"
    "print(json.dumps({'version': list(sys.version_info[:3]), 'implementation': sys.implementation.name, "
    "'venv': ok}))\n"
)


def probe_interpreter(path: str | Path, source: str) -> Interpreter | None:
    """Ask a Python for its version; None when it does not run or is not CPython."""
    try:
        completed = subprocess.run(
            [str(path), "-c", _PROBE_CODE], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    try:
        data = json.loads(completed.stdout.strip().splitlines()[-1])
        version = tuple(int(v) for v in data["version"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if data.get("implementation", "cpython") != "cpython" or len(version) != 3:
        return None
    return Interpreter(Path(path), (version[0], version[1], version[2]), source, bool(data.get("venv", True)))


def pyenv_root() -> Path | None:
    """pyenv's root: ``$PYENV_ROOT``, else ``~/.pyenv`` when it exists, else ``pyenv root``."""
    from_env = os.environ.get("PYENV_ROOT")
    if from_env:
        return Path(from_env).expanduser()
    default = Path.home() / ".pyenv"
    if default.is_dir():
        return default
    executable = shutil.which("pyenv")
    if executable is None:
        return None
    try:
        completed = subprocess.run([executable, "root"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = completed.stdout.strip()
    return Path(text) if completed.returncode == 0 and text else None


_VERSION_DIR = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_WANTED_MINORS = ((3, 9), (3, 8), (3, 10), (3, 11))
"""Preference: the wheels recipe (3.9, then 3.8) before the 10-minute source build (3.10, 3.11)."""


def candidate_paths(pyenv: Path | None, search_path: str | None) -> list[tuple[Path, str]]:
    """Pythons worth probing, in order of preference: per wanted minor version, pyenv's (newest patch first),
    then ``pythonX.Y`` on PATH."""
    by_minor: dict[tuple[int, int], list[tuple[Path, str]]] = {minor: [] for minor in _WANTED_MINORS}
    if pyenv is not None and (pyenv / "versions").is_dir():
        found = []
        for child in (pyenv / "versions").iterdir():
            match = _VERSION_DIR.match(child.name)
            python = child / "bin" / "python"
            if match and python.exists():
                found.append((tuple(int(g) for g in match.groups()), python))
        for version, python in sorted(found, key=lambda item: item[0], reverse=True):
            minor = (version[0], version[1])
            if minor in by_minor:
                by_minor[minor].append((python, "pyenv"))
    for minor in _WANTED_MINORS:
        found_on_path = shutil.which(f"python{minor[0]}.{minor[1]}", path=search_path)
        if found_on_path is not None:
            by_minor[minor].append((Path(found_on_path), "PATH"))
    ordered: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for minor in _WANTED_MINORS:
        for path, source in by_minor[minor]:
            key = path.resolve() if path.exists() else path
            if key not in seen:
                seen.add(key)
                ordered.append((path, source))
    return ordered


def find_interpreters(pyenv: Path | None = None, search_path: str | None = None, *, use_pyenv: bool = True) -> list[Interpreter]:
    """Every usable Python found, best first (each probed: a broken shim or a non-CPython is left out)."""
    root = (pyenv if pyenv is not None else pyenv_root()) if use_pyenv else None
    found = []
    for path, source in candidate_paths(root, search_path):
        interpreter = probe_interpreter(path, source)
        if interpreter is not None and interpreter.recipe is not None:
            found.append(interpreter)
    return found


def choose_interpreter(
    explicit: str | Path | None = None, *, pyenv: Path | None = None, search_path: str | None = None
) -> Interpreter:
    """The Python to build the environment with: ``explicit`` (``--python``) or the best one found.

    Raises :class:`BackendEnvError` saying what was searched and how to get a suitable Python.
    """
    supported = "Python 3.9 or 3.8 (about a minute), or 3.10 / 3.11 (a source build of about 10 minutes)"
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise BackendEnvError(f"`--python {explicit}`: no such file", f"pass the path of {supported}")
        interpreter = probe_interpreter(path, "--python")
        if interpreter is None:
            raise BackendEnvError(
                f"`--python {explicit}` does not run as a CPython interpreter", f"pass the path of {supported}"
            )
        if interpreter.recipe is None:
            raise BackendEnvError(
                f"`--python {explicit}` is Python {interpreter.version_text}; auto-sklearn 0.15 installs on "
                "Python 3.8 to 3.11 only",
                f"pass the path of {supported}",
            )
        _require_venv(interpreter)
        return interpreter
    found = find_interpreters(pyenv, search_path)
    usable = [i for i in found if i.has_venv]
    if not usable:
        where = f"pyenv ({pyenv or pyenv_root() or 'not installed'}) and PATH"
        lacking = f"; found without venv/ensurepip: {', '.join(str(i.path) for i in found)}" if found else ""
        raise BackendEnvError(
            f"no suitable Python found in {where}{lacking}: auto-sklearn 0.15 needs {supported}",
            "install one (`pyenv install 3.9.18`, or your system's python3.9 with its venv package) and re-run, "
            "or pass `--python PATH`",
        )
    return usable[0]


def _require_venv(interpreter: Interpreter) -> None:
    if not interpreter.has_venv:
        raise BackendEnvError(
            f"{interpreter.path} (Python {interpreter.version_text}) has no `venv` / `ensurepip` module",
            f"install it (Debian: `apt-get install python{interpreter.version[0]}.{interpreter.version[1]}-venv`) "
            "or use another Python",
        )


# ------------------------------------------------------------------------------------------------ status
class EnvState(str, Enum):
    missing = "missing"
    half_installed = "half-installed"
    broken = "broken"
    outdated = "outdated"
    ready = "ready"


@dataclass
class EnvStatus:
    """What ``backends list`` / ``doctor`` report for the environment."""

    directory: Path
    state: EnvState
    problem: str | None = None
    fix: str | None = None
    marker: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    check_s: float | None = None

    @property
    def python(self) -> Path:
        return env_python(self.directory)

    @property
    def ready(self) -> bool:
        return self.state == EnvState.ready


def read_marker(directory: Path) -> dict[str, Any] | None:
    """The marker's content, or None when there is none or it is unreadable."""
    try:
        data = json.loads((directory / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MARKER_FORMAT else None


def _fix_with_dir(command: str, root: Path | None) -> str:
    return f"{command} --env-dir {root}" if root is not None else command


def inspect_env(directory: Path, *, deep: bool = False, root_option: Path | None = None) -> EnvStatus:
    """The environment's state. ``deep`` also runs the worker's import check inside it (a few seconds)."""
    install = _fix_with_dir(INSTALL_COMMAND, root_option)
    repair = _fix_with_dir(REPAIR_COMMAND, root_option)
    if not directory.exists():
        return EnvStatus(directory, EnvState.missing, "not installed", f"run `{install}`")
    marker = read_marker(directory)
    if marker is None:
        log = directory / LOG_FILE
        seen = f" (install log: {log})" if log.exists() else ""
        return EnvStatus(
            directory,
            EnvState.half_installed,
            f"half-installed: the folder exists but the install never completed{seen}",
            f"run `{repair}`",
        )
    status = EnvStatus(directory, EnvState.ready, marker=marker, versions=dict(marker.get("versions") or {}))
    if not env_python(directory).exists():
        status.state, status.problem, status.fix = (
            EnvState.broken,
            f"its Python {env_python(directory)} is gone (was the base Python {marker.get('base_python')} removed?)",
            f"run `{repair}`",
        )
        return status
    if marker.get("recipe_sha256") not in {r.sha256() for r in RECIPES}:
        status.state, status.problem, status.fix = (
            EnvState.outdated,
            f"installed by the recipe `{marker.get('recipe')}` of an older metaconf",
            f"run `{repair}`",
        )
        return status
    if deep:
        try:
            versions, seconds = check_env(directory)
        except BackendEnvError as error:
            status.state, status.problem, status.fix = EnvState.broken, error.message, f"run `{repair}`"
            return status
        status.versions, status.check_s = versions, seconds
    return status


def worker_source() -> Path:
    """The worker script shipped with metaconf (copied into run directories)."""
    return Path(__file__).resolve().parent / "worker.py"


def check_env(directory: Path) -> tuple[dict[str, str], float]:
    """Run the worker's ``--check`` with the environment's Python: imports auto-sklearn's whole chain and
    returns the versions. Raises :class:`BackendEnvError` with the output's tail on failure."""
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            # -I: the worker's folder (metaconf's own modules) must not shadow anything on sys.path
            [str(env_python(directory)), "-I", str(worker_source()), "--check"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
            check=False,
            env=worker_environment(),
            cwd=str(directory),
        )
    except subprocess.TimeoutExpired:
        raise BackendEnvError(f"the import check in {directory} took over {CHECK_TIMEOUT_S}s") from None
    except OSError as error:
        raise BackendEnvError(f"cannot start {env_python(directory)}: {error.strerror}") from None
    seconds = time.perf_counter() - started
    for line in reversed(completed.stdout.splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "check":
            return {str(k): str(v) for k, v in event["versions"].items()}, seconds
    tail = _tail(completed.stderr or completed.stdout, 6)
    raise BackendEnvError(f"importing auto-sklearn in {directory} fails: {tail}")


def worker_environment() -> dict[str, str]:
    """The environment variables of every process in auto-sklearn's env: one thread per BLAS / OpenMP pool,
    no leaking of metaconf's own PYTHONPATH / virtualenv into Python 3.9."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return env


def _tail(text: str, lines: int) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(no output)"


# ------------------------------------------------------------------------------------------------ install
Progress = Callable[[str], None]
"""Receives one line per step and per notable pip line (``Collecting ...``, ``Installing ...``)."""

_NOTABLE = re.compile(r"^(Collecting|Building wheel|Installing collected|Successfully installed|ERROR|error:)")


def _is_safe_to_delete(directory: Path) -> bool:
    """Only ever delete what metaconf made: a venv (``pyvenv.cfg``), a folder with its log or marker, or an
    empty folder. A wrong ``--env-dir`` must never wipe a user's files."""
    if not directory.exists():
        return True
    if not directory.is_dir():
        return False
    names = {p.name for p in directory.iterdir()}
    return not names or bool(names & {"pyvenv.cfg", LOG_FILE, MARKER_FILE})


def install_env(
    directory: Path,
    interpreter: Interpreter,
    *,
    repair: bool = False,
    force: bool = False,
    progress: Progress = lambda line: None,
    root_option: Path | None = None,
) -> dict[str, Any]:
    """Create the environment in ``directory`` with ``interpreter`` and return its marker.

    A ready environment is kept (its marker is returned) unless ``force``; a half-installed, broken or
    outdated one is deleted and rebuilt with ``repair`` (or ``force``), else refused. So
    ``install --repair`` always ends in a ready environment, which is what CI wants. The marker is written
    last, after the import check passed; any failure leaves the folder without it (detected as
    half-installed) and raises :class:`BackendEnvError` pointing at the log.
    """
    recipe = interpreter.recipe
    if recipe is None:
        raise BackendEnvError(f"Python {interpreter.version_text} cannot run auto-sklearn 0.15")
    _require_venv(interpreter)
    repair_command = _fix_with_dir(REPAIR_COMMAND, root_option)
    if directory.exists():
        state = inspect_env(directory).state
        marker = read_marker(directory)
        if state == EnvState.ready and not force and marker is not None:
            progress(f"already installed in {directory} (`metaconf backends doctor` checks it; --force reinstalls)")
            return marker
        if not (repair or force):
            raise UsageError(
                f"{directory} exists but is {state.value.replace('-', ' ')}",
                f"run `{repair_command}` to delete and reinstall it",
            )
        if not _is_safe_to_delete(directory):
            raise UsageError(
                f"{directory} is not a metaconf environment (no pyvenv.cfg, marker or install log); "
                "metaconf will not delete it",
                "choose another `--env-dir`, or remove the folder yourself",
            )
        progress(f"removing the old environment in {directory}")
        shutil.rmtree(directory)
    if recipe.needs_compiler and shutil.which("cc") is None and shutil.which("gcc") is None:
        raise BackendEnvError(
            f"Python {interpreter.version_text} needs the source build of scikit-learn 0.24, and no C compiler "
            "(cc / gcc) is on PATH",
            "install Python 3.9 instead (`pyenv install 3.9.18`) and pass `--python`, or install a compiler "
            "(Debian: `apt-get install build-essential`)",
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    log_path = directory / LOG_FILE
    progress(f"creating a virtual environment with Python {interpreter.version_text} ({interpreter.path})")
    _run_logged([str(interpreter.path), "-m", "venv", str(directory)], None, progress, directory, log_path, first=True)
    python = env_python(directory)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"  # the source build needs the env's tools
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for number, step in enumerate(recipe.steps, start=1):
        progress(f"step {number}/{len(recipe.steps)}: pip install " + " ".join(a for a in step[3:] if not a.startswith("--")))
        _run_logged([str(python), *step], env, progress, directory, log_path)
    progress("checking that auto-sklearn imports")
    try:
        versions, _ = check_env(directory)
    except BackendEnvError as error:
        raise BackendEnvError(
            f"{error.message} (install log: {log_path})", f"run `{repair_command}`"
        ) from None
    from metaconf import __version__
    from metaconf.io import atomic_write_text
    from metaconf.report.results import utc_now

    marker = {
        "format": MARKER_FORMAT,
        "backend": BACKEND,
        "recipe": recipe.name,
        "recipe_sha256": recipe.sha256(),
        "base_python": str(interpreter.path),
        "base_python_version": interpreter.version_text,
        "base_python_source": interpreter.source,
        "versions": versions,
        "installed": utc_now(),
        "install_s": round(time.perf_counter() - started, 1),
        "metaconf": __version__,
    }
    atomic_write_text(directory / MARKER_FILE, json.dumps(marker, indent=2) + "\n", force=True)
    progress(f"ready in {marker['install_s']:.0f}s: auto-sklearn {versions.get('auto-sklearn')} in {directory}")
    return marker


def _run_logged(
    command: list[str],
    env: dict[str, str] | None,
    progress: Progress,
    directory: Path,
    log_path: Path,
    *,
    first: bool = False,
) -> None:
    """Run ``command``, appending its output to the log and passing notable lines to ``progress``."""
    repair = REPAIR_COMMAND
    buffered: list[str] = []
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1
        )
    except OSError as error:
        raise BackendEnvError(f"cannot run {command[0]}: {error.strerror}") from None
    assert process.stdout is not None
    handle = None
    try:
        for line in process.stdout:
            if handle is None and log_path.parent.exists():
                handle = log_path.open("a", encoding="utf-8", buffering=1)  # line-buffered: `tail -f` shows pip live
                handle.write("".join(buffered))
                buffered.clear()
            if handle is not None:
                handle.write(line)
            else:
                buffered.append(line)
            if _NOTABLE.match(line.strip()):
                progress("  " + line.strip())
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        if handle is None and log_path.parent.exists():
            handle = log_path.open("a", encoding="utf-8", buffering=1)
            handle.write("".join(buffered))
        if handle is not None:
            handle.write(f"[metaconf] exit code {process.returncode} of: {' '.join(command)}\n")
            handle.close()
    if code != 0:
        where = f"; full output in {log_path}" if log_path.exists() else ""
        tail = _tail("".join(buffered) if buffered else _read_tail(log_path), 4)
        hint = f"run `{repair}` after fixing the cause" if not first else "check the Python installation"
        raise BackendEnvError(f"`{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}` failed: {tail}{where}", hint)


def _read_tail(path: Path, limit: int = 8000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def ready_env(root: str | Path | None = None) -> EnvStatus:
    """The environment for a run; raises :class:`BackendEnvError` with the command that fixes it unless ready."""
    root_path = Path(root) if root is not None else None
    status = inspect_env(env_dir(root), root_option=root_path)
    if not status.ready:
        raise BackendEnvError(
            f"auto-sklearn's environment in {status.directory} is {status.state.value}: {status.problem}",
            status.fix,
        )
    return status


def describe_interpreters(found: Iterable[Interpreter]) -> list[str]:
    """One line per interpreter, for ``doctor``."""
    lines = []
    for interpreter in found:
        recipe = interpreter.recipe
        how = f"{recipe.name}, ~{recipe.minutes:g} min" if recipe else "unsupported"
        venv = "" if interpreter.has_venv else ", no venv module"
        lines.append(f"Python {interpreter.version_text} at {interpreter.path} ({interpreter.source}; {how}{venv})")
    return lines
