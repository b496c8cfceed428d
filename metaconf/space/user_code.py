"""The one piece of user code a config can name, ``search_space.estimator``, and where it may come from.

Configs are data (see docs/trust.md): reading, checking or linting one never runs code it names. So an
estimator path is checked in one of two ways:

- :func:`find_module` looks its module up as ``import`` would (the config's directory first, then
  ``sys.path``), asking the import system's finders only: no module is executed. A typo or a package that is
  not installed is found; the class and its arguments are not. This is what ``metaconf lint`` does.
- Importing it (:func:`~metaconf.space.estimators.import_estimator`, with :func:`config_directory_on_path`) runs
  the module's code. ``metaconf run`` does it, because running the estimator is the point, and ``metaconf
  lint --trust`` does it when asked to check the class and its constructor arguments.

Either way a module next to the config is found there, never in whatever directory the command happened to
be started from (:func:`prepare_run_import_path`).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _find_spec(name: str, path: list[str] | None) -> Any:
    """The spec the import system's finders give for ``name`` (a finder locates, it never executes)."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, path)
        except (ImportError, ValueError, TypeError, OSError):
            continue
        if spec is not None:
            return spec
    return None


def find_module(module_name: str, base_dir: Path | None = None) -> bool:
    """Whether ``import module_name`` would find a module, looking in ``base_dir`` first and then on
    ``sys.path``, without executing any module (not even the parent packages of a dotted name).

    A module that a package creates only when it is imported (rare: ``six.moves``) is not found this way.
    """
    parts = module_name.split(".")
    if not all(part.isidentifier() for part in parts):
        return False
    search: list[str] | None = None
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        last = depth == len(parts)
        loaded = sys.modules.get(name)
        if loaded is not None:
            locations = getattr(loaded, "__path__", None)
        else:
            spec = None
            if depth == 1 and base_dir is not None:
                spec = importlib.machinery.PathFinder.find_spec(name, [str(base_dir)])
            if spec is None:
                spec = _find_spec(name, search)
            if spec is None:
                return False
            locations = spec.submodule_search_locations
        if last:
            return True
        if locations is None:  # not a package: it has no submodules to find
            return False
        search = list(locations)
    return True


@contextlib.contextmanager
def config_directory_on_path(base_dir: Path) -> Iterator[None]:
    """``base_dir`` first on ``sys.path`` while the block runs (``lint --trust`` imports one config's
    estimator at a time, each from its own directory)."""
    entry = str(base_dir.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def add_config_directory(base_dir: str | Path) -> None:
    """Put the config's directory first on ``sys.path`` for the rest of the process (a run, or a worker of
    one), so ``estimator: my_model:MyEstimator`` finds ``my_model.py`` next to the config."""
    entry = str(Path(base_dir).resolve())
    if sys.path[:1] != [entry]:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)
        sys.path.insert(0, entry)


def prepare_run_import_path(base_dir: Path, *, command_process: bool) -> None:
    """The import path ``metaconf run`` imports the estimator with: the config's directory first, and, in
    the ``metaconf`` command's own process (``command_process``), without the entry Python puts first for
    how it was started: the working directory for ``python -m metaconf``, the script's directory for the
    ``metaconf`` script. A module lying in the directory the command happens to run in is then never
    imported by accident. An embedding process (a notebook, a test) keeps its path; ``PYTHONPATH`` is kept
    (it is set on purpose).
    """
    if command_process and not getattr(sys.flags, "safe_path", False) and sys.path:
        sys.path.pop(0)
    add_config_directory(base_dir)


def estimator_parts(
    path: str, *, field_path: tuple[str, ...] = ("search_space", "estimator")
) -> tuple[str, str]:
    """``module:Class`` (or ``module.Class``) -> ``(module, Class)``; :class:`SpaceError` when it is neither."""
    from metaconf.space.errors import SpaceError, SpaceProblem

    module_name, sep, class_name = path.partition(":")
    if not sep:
        module_name, _, class_name = path.rpartition(".")
    if not module_name or not class_name:
        raise SpaceError(
            f"`{path}` is not a `module:Class` estimator path.",
            "Write it as e.g. `sklearn.ensemble:RandomForestClassifier`.",
            kind=SpaceProblem.bad_estimator,
            path=field_path,
        )
    return module_name, class_name


def check_estimator_path(
    path: str, base_dir: Path | None, *, field_path: tuple[str, ...] = ("search_space", "estimator")
) -> None:
    """What can be known about ``path`` without running any code: its form, and that its module exists
    (:func:`find_module`). Raises :class:`SpaceError`."""
    from metaconf.space.errors import SpaceError, SpaceProblem

    module_name, _ = estimator_parts(path, field_path=field_path)
    if not find_module(module_name, base_dir):
        raise SpaceError(
            f"Cannot find module `{module_name}` for estimator `{path}` (looked next to the config and on the "
            "Python path, without importing anything).",
            "Check the spelling, or install the package that provides it; `metaconf lint --trust` imports the "
            "module (running its code) and checks the class too.",
            kind=SpaceProblem.bad_estimator,
            path=field_path,
        )
