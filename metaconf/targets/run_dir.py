"""Run directories metaconf owns: a marker that says metaconf made the directory, a lock held while a run
writes it, and what an existing directory means for a new run (new, resume, overwrite, or refuse).

- ``.metaconf-run`` (:data:`MARKER_FILE`, JSON) is written when ``metaconf run`` first claims a directory:
  ``{"format": 1, "made_by": "metaconf run", "metaconf": "<version>", "created": "<ISO 8601 UTC>",
  "tool": "smac" | "auto-sklearn"}``. ``--overwrite`` and resume act only on a directory that has it. A
  directory written by metaconf before the marker existed is recognised by its ``results.json`` (metaconf's
  format, a known tool, a config hash) and gets the marker (with ``"adopted": true``) the next time it is run.
- A directory that holds anything else and has no marker is someone else's: ``metaconf run`` stops (exit 2)
  before it writes, replaces or deletes anything in it, including the lock file.
- ``.metaconf-run.lock`` (:data:`LOCK_FILE`) is ``flock``-ed for as long as a run writes the directory; a
  second ``metaconf run`` into the same directory stops with exit 2. The kernel releases the lock when the
  process ends, however it ends (SIGKILL included), so a stale lock never blocks a later run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import OutputExistsError, UsageError
from metaconf.report import results as rr

if TYPE_CHECKING:
    from metaconf.config.model import Config, ExistingOutput
    from metaconf.targets.smac.callbacks import SearchState
    from metaconf.targets.smac.compile import SmacPlan

MARKER_FILE = ".metaconf-run"
LOCK_FILE = ".metaconf-run.lock"
MARKER_FORMAT = 1
TEMP_PREFIX = ".metaconf-saving-"
"""Temporary names of SMAC's state files being written (:mod:`metaconf.targets.smac.durable`; SMAC's savers
require a ``.json`` suffix): a killed run may leave them, and :func:`remove_stale_temporaries` removes them."""
_OWN_FILES = frozenset({MARKER_FILE, LOCK_FILE})
_LOCK_ATTEMPTS = 10


class RunDirectoryBusy(UsageError):
    """Another ``metaconf run`` is writing the run directory."""


def read_marker(run_dir: Path) -> dict[str, Any] | None:
    """The marker's content, or None when there is none (or it is not metaconf's)."""
    try:
        data = json.loads((run_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("made_by") == "metaconf run" else None


def _written_before_the_marker(run_dir: Path) -> bool:
    """A run directory from a metaconf without markers: its results.json is metaconf's own format."""
    try:
        data = json.loads((run_dir / rr.RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("format") == rr.RESULTS_FORMAT
        and data.get("tool") in ("smac", "auto-sklearn")
        and isinstance(data.get("config_sha256"), str)
        and isinstance(data.get("status"), str)
    )


def _entries(run_dir: Path) -> list[str]:
    """What the directory holds besides metaconf's marker and lock."""
    try:
        return sorted(p.name for p in run_dir.iterdir() if p.name not in _OWN_FILES)
    except FileNotFoundError:
        return []


def owner(run_dir: Path) -> str:
    """``"none"`` (missing or empty), ``"metaconf"`` (marked), ``"metaconf-unmarked"`` (written by a metaconf
    without markers) or ``"foreign"``."""
    if not run_dir.exists():
        return "none"
    if read_marker(run_dir) is not None:
        return "metaconf"
    if not _entries(run_dir):
        return "none"
    return "metaconf-unmarked" if _written_before_the_marker(run_dir) else "foreign"


def refuse_foreign(run_dir: Path) -> None:
    """Stop (exit 2) when ``run_dir`` holds files metaconf did not write; nothing is written to it."""
    if run_dir.exists() and not run_dir.is_dir():
        raise OutputExistsError(
            f"`{run_dir}` is a file, not a run directory",
            "set `execution.name` or `execution.output_dir` to a new directory",
        )
    if owner(run_dir) == "foreign":
        shown = ", ".join(f"`{name}`" for name in _entries(run_dir)[:3])
        more = "" if len(_entries(run_dir)) <= 3 else ", ..."
        raise OutputExistsError(
            f"`{run_dir}` holds files metaconf did not write ({shown}{more}) and no `{MARKER_FILE}` marker; "
            "metaconf will not write, replace or delete anything in it, with or without --overwrite",
            "set `execution.name` or `execution.output_dir` to a new directory, or move the files away "
            "(an empty directory is used as it is)",
        )


def _lock(run_dir: Path) -> int:
    """Open and ``flock`` the lock file; the open descriptor holds the lock until it is closed."""
    path = run_dir / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_LOCK_ATTEMPTS):
        fd = os.open(path, flags, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise RunDirectoryBusy(
                f"`{run_dir}` is in use by another `metaconf run`"
                + (f" ({holder})" if holder else "")
                + "; two runs in one directory would mix their searches",
                "wait for it to finish or stop it (Ctrl-C, or SIGTERM to its pid), or set `execution.name` "
                "to run this one elsewhere",
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file another process removed between our open and our flock
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
            return fd
        os.close(fd)
    raise RunDirectoryBusy(f"cannot lock `{run_dir}`: its lock file keeps changing", "try again")


def _write_marker(run_dir: Path, tool: str, *, adopted: bool) -> None:
    from metaconf import __version__
    from metaconf.io import atomic_write_text

    marker: dict[str, Any] = {
        "format": MARKER_FORMAT,
        "made_by": "metaconf run",
        "metaconf": __version__,
        "created": rr.utc_now(),
        "tool": tool,
    }
    if adopted:
        marker["adopted"] = True  # written by a metaconf without markers; recognised by its results.json
    atomic_write_text(run_dir / MARKER_FILE, json.dumps(marker, indent=2) + "\n", force=True)


@contextlib.contextmanager
def claimed_run_directory(run_dir: Path, tool: str) -> Iterator[None]:
    """Hold ``run_dir`` for one run: refuse a foreign directory (before writing anything), create the
    directory, take the lock (:class:`RunDirectoryBusy` when another run holds it) and write the marker.

    A directory this created that holds nothing but the marker and the lock when the block ends (the run
    was refused before it wrote anything) is removed again.
    """
    refuse_foreign(run_dir)
    created = [d for d in (run_dir, *run_dir.parents) if not d.exists()]  # what a refused run removes again
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = _lock(run_dir)
    except BaseException:
        _remove_if_unused(run_dir, created)
        raise
    try:
        refuse_foreign(run_dir)  # again, now that no other metaconf run can be writing it
        state = owner(run_dir)
        if state != "metaconf":
            _write_marker(run_dir, tool, adopted=state == "metaconf-unmarked")
        else:
            remove_stale_temporaries(run_dir)
        yield
    finally:
        _remove_if_unused(run_dir, created)
        os.close(fd)


_STALE_TEMPORARY = re.compile(
    r"\.(?:" + "|".join(re.escape(n) for n in (
        rr.RESULTS_FILE, rr.TRAJECTORY_FILE, rr.PLOT_FILE, rr.MODEL_FILE, rr.MODEL_SCHEMA_FILE, rr.CONFIG_FILE
    )) + r")\.[0-9a-f]{8}\.tmp"
)
"""A temporary file of :mod:`metaconf.io`'s atomic writes, for a file metaconf writes in a run directory."""


def remove_stale_temporaries(run_dir: Path) -> list[str]:
    """Delete the temporary files a killed run left mid-write in ``run_dir`` (metaconf's run directory, held
    under its lock, so no other metaconf run is writing them): :mod:`metaconf.io`'s ``.NAME.XXXXXXXX.tmp`` for
    the files of a run, and SMAC's state being saved (``.metaconf-saving-*.json`` in the tool's folders).
    Returns their names."""
    removed = []
    candidates = [p for p in run_dir.iterdir() if _STALE_TEMPORARY.fullmatch(p.name)]
    for folder in (rr.SMAC_DIR,):
        if (run_dir / folder).is_dir() and not (run_dir / folder).is_symlink():
            candidates += [p for p in (run_dir / folder).rglob(f"{TEMP_PREFIX}*.json") if p.is_file()]
    for path in candidates:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(str(path.relative_to(run_dir)))
    return removed


def _remove_if_unused(run_dir: Path, created: list[Path]) -> None:
    """Remove the directories :func:`claimed_run_directory` created when the run wrote nothing in them."""
    if not created or _entries(run_dir):
        return
    for name in _OWN_FILES:
        with contextlib.suppress(OSError):
            (run_dir / name).unlink()
    for directory in created:  # deepest first; stops at the first one that holds something
        try:
            directory.rmdir()
        except OSError:
            return


def decide_existing(run_dir: Path, config_hash: str, mode: ExistingOutput, request: RunRequest) -> str:
    """``"new"``, ``"resume"`` or ``"overwrite"`` for ``run_dir``; never silently replaces anything.

    ``--overwrite`` wins, then ``--resume``, then ``execution.on_existing``. Resuming needs the same config
    (``config_sha256`` in ``results.json``); otherwise metaconf stops and says how to go on. A directory that
    is not metaconf's is refused whatever the options (:func:`refuse_foreign`).
    """
    from metaconf.config.model import ExistingOutput

    refuse_foreign(run_dir)
    if not _entries(run_dir):
        return "new"
    if request.overwrite or (mode == ExistingOutput.overwrite and not request.resume):
        return "overwrite"
    if mode == ExistingOutput.error and not request.resume:
        raise OutputExistsError(
            f"`{run_dir}` already holds a run (execution.on_existing is `error`)",
            "pass --resume to continue it, --overwrite to replace it, or set `execution.name` to a new name",
        )
    old_hash = None
    if (run_dir / rr.RESULTS_FILE).exists():
        try:
            old_hash = rr.read_results(run_dir).config_sha256
        except UsageError:
            old_hash = None
    if old_hash != config_hash:
        raise OutputExistsError(
            f"`{run_dir}` holds a run of a different config (or one whose results cannot be read); "
            "resuming it would mix two searches",
            "pass --overwrite to replace it, or set `execution.name` (or another output_dir) for a new run",
        )
    return "resume"


def clear_run_directory(
    run_dir: Path, *, tool_dirs: tuple[str, ...] = (rr.SMAC_DIR,), keep: Path | None = None
) -> None:
    """Remove what a previous metaconf run wrote in ``run_dir``: its known files and the tool's own folders,
    except ``keep`` (a folder inside one of them, with the folders that lead to it: the tool's output for the
    new run, written by the tool's constructor). Only for a directory metaconf owns (checked here again, so a
    foreign folder is never deleted)."""
    import shutil

    if owner(run_dir) not in ("metaconf", "none"):
        raise OutputExistsError(f"`{run_dir}` is not a metaconf run directory; nothing in it is deleted")
    for name in (
        rr.RESULTS_FILE,
        rr.TRAJECTORY_FILE,
        rr.PLOT_FILE,
        rr.MODEL_FILE,
        rr.MODEL_SCHEMA_FILE,
        rr.CONFIG_FILE,
    ):
        (run_dir / name).unlink(missing_ok=True)
    kept = keep.resolve() if keep is not None else None
    for folder in tool_dirs:
        _remove_except(run_dir / folder, kept, shutil.rmtree)


def _remove_except(path: Path, keep: Path | None, rmtree: Any) -> None:
    """Delete ``path`` (a folder), or, when ``keep`` lies inside it, every entry beside the way to ``keep``."""
    resolved = path.resolve()
    if keep is None or not keep.is_relative_to(resolved):
        rmtree(path, ignore_errors=True)
        return
    if keep == resolved or not path.is_dir():
        return
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            _remove_except(entry, keep, rmtree)
        else:
            entry.unlink(missing_ok=True)


# ------------------------------------------------------------------------- what a run is asked (both tools)
DEFAULT_SEED = 0


def resolve_seed(config: Config, seed: int | None) -> tuple[int, str | None]:
    """The run's seed: ``--seed``, else ``execution.seed``, else 0 (with a note saying so)."""
    if seed is not None:
        return seed, None
    if config.execution.seed is not None:
        return config.execution.seed, None
    return DEFAULT_SEED, f"execution.seed is unset: using {DEFAULT_SEED} so that the run is reproducible"


@dataclass
class RunRequest:
    """`metaconf run` options that override the config (None: keep the config's value)."""

    overwrite: bool = False
    resume: bool = False
    workers: int | None = None
    scheduler: str | None = None
    seed: int | None = None
    save_model: bool = False
    model_rows: str = "all"
    """The rows the saved model is fitted on: ``all`` (search + test rows, once the test score is measured) or
    ``search`` (the very model the test score describes)."""
    progress: bool = False
    """Show a progress bar (the CLI passes whether stderr is a terminal and not --quiet)."""
    on_trial: Callable[[rr.TrialRecord, SearchState], None] | None = None
    """Called after every trial (progress displays)."""
    on_plan: Callable[[SmacPlan], None] | None = None
    """Called once the plan is compiled, before the search starts (to show notes and the trial total)."""


def apply_overrides(config: Config, request: RunRequest) -> Config:
    """The config with command-line overrides applied and the seed resolved (what ``config.yaml`` holds)."""
    execution = config.execution.model_copy()
    if request.workers is not None:
        execution.workers = request.workers
    if request.scheduler is not None:
        execution.dask_scheduler = request.scheduler
    execution.seed = resolve_seed(config, request.seed)[0]
    return config.model_copy(update={"execution": execution})


def run_directory(config: Config, config_path: Path) -> Path:
    """``execution.output_dir / (execution.name or the config file's stem)``, relative to the config file."""
    output = Path(config.execution.output_dir)
    if not output.is_absolute():
        output = config_path.resolve().parent / output
    return output / (config.execution.name or config_path.stem)
