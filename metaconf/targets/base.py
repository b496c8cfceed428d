"""One interface for the AutoML tools metaconf drives: a :class:`Target` plans a config (the tool's exact
calls, pure data), renders the plan, writes it as a script, and runs it into a run directory.

:func:`target_for` gives the target of a config's ``tool``: :class:`metaconf.targets.smac.target.SmacTarget`
(SMAC3, in this process) or :class:`metaconf.targets.autosklearn.target.AutoSklearnTarget` (auto-sklearn 0.15, in
its own environment). `metaconf compile`, `metaconf run` and the Python API (:mod:`metaconf.api`) go through it;
what both tools share — the run request, the seed, the run directory and its marker and lock — is in
:mod:`metaconf.targets.run_dir`, and the results' format in :mod:`metaconf.report.results`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from metaconf.config.model import Config
    from metaconf.report.results import RunResults, TrialRecord
    from metaconf.targets.run_dir import RunRequest


class Plan(Protocol):
    """What a target will call: pure data, JSON-renderable, with a sha256 (``meta``) and notes on what was
    derived."""

    @property
    def meta(self) -> str: ...

    @property
    def notes(self) -> Sequence[str]: ...

    def to_dict(self) -> dict[str, Any]: ...


class Outcome(Protocol):
    """What a finished (or interrupted, or failed) run hands back."""

    @property
    def run_dir(self) -> Path: ...

    @property
    def results(self) -> RunResults: ...

    @property
    def trials(self) -> list[TrialRecord]: ...

    @property
    def notes(self) -> list[str]: ...


class Target(Protocol):
    @property
    def tool(self) -> str: ...

    def plan(self, config: Config, base_dir: Path, run_dir: Path) -> Plan:
        """The plan for ``config`` (overrides applied), compiled against its data as a run would."""
        ...

    def render(self, plan: Any, fmt: str) -> str:
        """The plan as ``yaml`` (with a header for people) or ``json``."""
        ...

    def script(self, config: Config, base_dir: Path, run_dir: Path, source: Path) -> str:
        """A Python script that makes the tool's calls (``metaconf compile -f python``)."""
        ...

    def run(
        self,
        config: Config,
        base_dir: Path,
        run_dir: Path,
        request: RunRequest,
        *,
        on_trial: Callable[[TrialRecord, Any], None] | None = None,
        on_phase: Callable[[str, Any], None] | None = None,
    ) -> Outcome:
        """Run into ``run_dir`` (held with a marker and a lock for the whole run); ``on_trial(record, state)``
        after every trial, ``on_phase(name, state)`` when the tool's phase changes (auto-sklearn)."""
        ...


def target_for(tool: Any) -> Target:
    """The target of ``tool`` (a :class:`~metaconf.config.model.Tool` or its value)."""
    name = getattr(tool, "value", tool)
    if name == "smac":
        from metaconf.targets.smac.target import SmacTarget

        return SmacTarget()
    if name == "auto-sklearn":
        from metaconf.targets.autosklearn.target import AutoSklearnTarget

        return AutoSklearnTarget()
    raise ValueError(f"no target for tool {name!r}")
