"""The meta-space: for each target tool, a ConfigSpace space of the legal settings of an AutoML run.

Each hyperparameter of the meta-space is one config field, named by its dotted path (``resampling.folds``).
Fields whose legal range depends on another field get one hyperparameter per case, with the case in brackets
(``fidelity.min[subsample]`` is a fraction, ``fidelity.min[n_estimators]`` a count), each active only in its
case. Conditions say when a field has an effect (``fidelity.eta`` only with a multi-fidelity optimizer,
``resampling.folds`` only with ``cv``); forbidden clauses say which combinations cannot run (a ``cv_folds``
fidelity with holdout resampling; for auto-sklearn, ``stopping.n_trials`` not above the meta-learning
configurations).

A config is checked by mapping it to a Configuration of the meta-space (:func:`check_config`): a value outside
its range, a value the user wrote for a field that is inactive, and a forbidden combination each become a
:class:`Violation` at the JSON path the value came from. The same ranges and choices
are exported as data (:func:`meta_space_bounds`) to narrow the JSON Schema an LLM decodes against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from metaconf.config.loader import Document, JsonPath
from metaconf.config.model import (
    MULTI_FIDELITY_OPTIMIZERS,
    Config,
    FidelityType,
    InitialDesignKind,
    OptimizerKind,
    ResamplingStrategy,
    Tool,
)
from metaconf.config.units import MAX_SECONDS

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

_MF = [kind.value for kind in OptimizerKind if kind in MULTI_FIDELITY_OPTIMIZERS]

# Legal budget ranges per fidelity type: a fraction of the rows, or a count of trees / iterations / folds.
_FIDELITY_BOUNDS: dict[str, tuple[float, float, float, float]] = {
    # type: (lower, upper, default min, default max)
    FidelityType.subsample.value: (0.001, 1.0, 0.1, 1.0),
    FidelityType.n_estimators.value: (1.0, 10000.0, 10.0, 300.0),
    FidelityType.max_iter.value: (1.0, 100000.0, 10.0, 300.0),
    FidelityType.cv_folds.value: (1.0, 100.0, 1.0, 5.0),
}

AUTOSKLEARN_MIN_WALLTIME = 30.0
"""auto-sklearn refuses ``time_left_for_this_task`` below 30 seconds."""


@dataclass(frozen=True)
class ForbiddenNote:
    """Why a forbidden clause of the meta-space is forbidden, and which field the finding points at."""

    message: str
    paths: tuple[JsonPath, ...]
    """Candidate paths, most specific first; the first one the user wrote is used."""


@dataclass(frozen=True)
class MetaSpace:
    space: ConfigurationSpace
    notes: dict[str, ForbiddenNote]
    """Per ``str(forbidden clause)``."""


def path_of(name: str) -> JsonPath:
    """The config path of a meta-space hyperparameter: ``fidelity.min[subsample]`` -> ``("fidelity", "min")``."""
    return tuple(name.split("[", 1)[0].split("."))


def _case_of(name: str) -> str | None:
    return name.split("[", 1)[1].rstrip("]") if "[" in name else None


def meta_space(tool: str | Tool) -> ConfigurationSpace:
    """The ConfigSpace space of legal run settings for ``tool`` (``smac`` or ``auto-sklearn``)."""
    return _meta(Tool(tool).value).space


@cache
def _meta(tool: str) -> MetaSpace:
    if tool == Tool.smac.value:
        return _smac_meta_space()
    return _autosklearn_meta_space()


def _common(space: ConfigurationSpace, *, min_walltime: float) -> None:
    """Settings both tools share: resampling, stopping limits, workers."""
    from ConfigSpace import Categorical, EqualsCondition, Float, Integer

    strategy = Categorical("resampling.strategy", [s.value for s in ResamplingStrategy], default="holdout")
    folds = Integer("resampling.folds", (2, 100), default=5)
    fraction = Float("resampling.holdout_fraction", (0.01, 0.99), default=0.33)
    space.add(
        strategy,
        folds,
        fraction,
        Integer("stopping.n_trials", (1, 100_000_000), default=100),
        Float("stopping.walltime", (min_walltime, MAX_SECONDS), default=max(min_walltime, 600.0), log=True),
        Float("budget.walltime", (min_walltime, MAX_SECONDS), default=max(min_walltime, 900.0), log=True),
        Float("stopping.trial_walltime", (1.0, MAX_SECONDS), default=60.0, log=True),
        Integer("stopping.plateau_patience", (1, 1_000_000), default=50),
        Integer("execution.workers", (1, 4096), default=1),
    )
    space.add(
        EqualsCondition(folds, strategy, ResamplingStrategy.cv.value),
        EqualsCondition(fraction, strategy, ResamplingStrategy.holdout.value),
    )


def _smac_meta_space() -> MetaSpace:
    from ConfigSpace import (
        Categorical,
        ConfigurationSpace,
        EqualsCondition,
        Float,
        ForbiddenAndConjunction,
        ForbiddenEqualsClause,
        ForbiddenGreaterThanEqualsRelation,
        ForbiddenGreaterThanRelation,
        InCondition,
        Integer,
    )

    space = ConfigurationSpace(name="metaconf-smac")
    notes: dict[str, ForbiddenNote] = {}
    _common(space, min_walltime=1.0)
    optimizer = Categorical(
        "optimizer.kind", [k.value for k in OptimizerKind], default=OptimizerKind.bo.value
    )
    fidelity_type = Categorical(
        "fidelity.type",
        [
            FidelityType.subsample.value,
            FidelityType.n_estimators.value,
            FidelityType.max_iter.value,
            "cv_folds",
            "none",
        ],
        default=FidelityType.subsample.value,
    )
    eta = Float("fidelity.eta", (1.1, 10.0), default=3.0)
    space.add(
        optimizer,
        fidelity_type,
        eta,
        Categorical("initial_design.kind", [k.value for k in InitialDesignKind], default="sobol"),
        Integer("initial_design.size", (0, 100_000), default=10),
        Integer("initial_design.per_hyperparameter", (0, 1000), default=10),
        Float("initial_design.max_ratio", (0.001, 1.0), default=0.25),
    )
    space.add(
        InCondition(fidelity_type, optimizer, _MF),
        InCondition(eta, optimizer, _MF),
    )
    for kind, (lower, upper, default_min, default_max) in _FIDELITY_BOUNDS.items():
        low = Float(f"fidelity.min[{kind}]", (lower, upper), default=default_min, log=kind != "cv_folds")
        high = Float(f"fidelity.max[{kind}]", (lower, upper), default=default_max, log=kind != "cv_folds")
        space.add(low, high)
        space.add(EqualsCondition(low, fidelity_type, kind), EqualsCondition(high, fidelity_type, kind))
        bounds = ForbiddenGreaterThanEqualsRelation(low, high)
        space.add(bounds)
        notes[str(bounds)] = ForbiddenNote(
            "`fidelity.min` must be below `fidelity.max`", (("fidelity", "min"), ("fidelity", "max"))
        )
        if kind == FidelityType.cv_folds.value:
            too_many = ForbiddenGreaterThanRelation(high, space["resampling.folds"])
            space.add(too_many)
            notes[str(too_many)] = ForbiddenNote(
                "a `cv_folds` fidelity cannot use more folds than `resampling.folds`",
                (("fidelity", "max"), ("resampling", "folds")),
            )
    # Multi-fidelity with `fidelity.type: none` is legal: the compiler falls back to subsampling rows (MC401
    # warns about it).
    cv_with_holdout = ForbiddenAndConjunction(
        ForbiddenEqualsClause(fidelity_type, FidelityType.cv_folds.value),
        ForbiddenEqualsClause(space["resampling.strategy"], ResamplingStrategy.holdout.value),
    )
    space.add(cv_with_holdout)
    notes[str(cv_with_holdout)] = ForbiddenNote(
        "a `cv_folds` fidelity needs `resampling.strategy: cv` (holdout has no folds)",
        (("fidelity", "type"), ("resampling", "strategy")),
    )
    return MetaSpace(space, notes)


def _autosklearn_meta_space() -> MetaSpace:
    from ConfigSpace import Categorical, ConfigurationSpace, ForbiddenLessThanEqualsRelation, Integer

    space = ConfigurationSpace(name="metaconf-auto-sklearn")
    notes: dict[str, ForbiddenNote] = {}
    _common(space, min_walltime=AUTOSKLEARN_MIN_WALLTIME)
    n_trials = space["stopping.n_trials"]
    metalearning = Integer("auto_sklearn.metalearning_configs", (0, 1000), default=25)
    space.add(
        # auto-sklearn runs SMAC 1.2 with its random-forest surrogate and no multi-fidelity.
        Categorical("optimizer.kind", [OptimizerKind.bo.value], default=OptimizerKind.bo.value),
        Categorical("fidelity.type", [FidelityType.none.value], default=FidelityType.none.value),
        metalearning,
        Integer("auto_sklearn.ensemble_nbest", (1, 1000), default=50),
        Integer("auto_sklearn.max_models_on_disc", (1, 100_000), default=50),
    )
    too_few = ForbiddenLessThanEqualsRelation(n_trials, metalearning)
    space.add(too_few)
    notes[str(too_few)] = ForbiddenNote(
        "auto-sklearn needs `stopping.n_trials` above `auto_sklearn.metalearning_configs` (its SMAC fails with "
        "`Initial budget ... cannot be higher than the run limit`)",
        (("stopping", "n_trials"), ("auto_sklearn", "metalearning_configs")),
    )
    return MetaSpace(space, notes)


def meta_space_bounds(tool: str | Tool) -> dict[str, dict[str, Any]]:
    """The meta-space as data: per hyperparameter name, its config ``path``, type, range or choices, default
    and the condition under which it is active (``active_if``: parent name -> values)."""
    space = meta_space(tool)
    out: dict[str, dict[str, Any]] = {}
    for name, hp_ in space.items():
        hp: Any = hp_  # numeric and categorical hyperparameters have different attributes
        entry: dict[str, Any] = {"path": list(path_of(name)), "default": _plain(hp.default_value)}
        if hasattr(hp, "choices"):
            entry.update(type="categorical", choices=[_plain(c) for c in hp.choices])
        else:
            entry.update(
                type="integer" if "Integer" in type(hp).__name__ else "number",
                lower=_plain(hp.lower),
                upper=_plain(hp.upper),
                log=bool(hp.log),
            )
        conditions: Sequence[Any] = space.parent_conditions_of.get(name, [])
        if conditions:
            entry["active_if"] = {
                c.parent.name: [_plain(v) for v in (c.values if hasattr(c, "values") else [c.value])]
                for c in conditions
            }
        out[name] = entry
    return out


def _plain(value: Any) -> Any:
    return value.item() if type(value).__module__ == "numpy" and hasattr(value, "item") else value


def _config_value(config: Config, path: JsonPath) -> Any:
    node: Any = config
    for step in path:
        if node is None:
            return None
        node = getattr(node, str(step), None)
    if isinstance(node, Enum):
        return node.value
    return node


def config_values(config: Config, tool: str | Tool | None = None) -> dict[str, Any]:
    """The config's settings as meta-space values (unset fields left out; case-split fields only for the
    config's case)."""
    space = meta_space(tool or config.tool)
    fidelity_kind = config.fidelity.type.value
    out: dict[str, Any] = {}
    for name in space:
        case = _case_of(name)
        if case is not None and case != fidelity_kind:
            continue
        value = _config_value(config, path_of(name))
        if value is not None:
            out[name] = value
    return out


def _number(value: Any) -> str:
    value = _plain(value)
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1 else f"{value:g}"


def _describe(hp: Any) -> str:
    if hasattr(hp, "choices"):
        return "one of " + ", ".join(f"`{_plain(c)}`" for c in hp.choices)
    return f"between {_number(hp.lower)} and {_number(hp.upper)}"


def _dotted(path: JsonPath) -> str:
    return ".".join(str(p) for p in path)


@dataclass(frozen=True)
class Violation:
    """A value the meta-space rejects: where (a JSON path into the document), what, and the fix's title;
    ``key``: point at the key (a field that has no effect). Lint rule MC110 reports these as findings."""

    path: JsonPath
    message: str
    fix_title: str | None = None
    key: bool = False


def check_config(document: Document | None, config: Config) -> list[Violation]:
    """The config mapped to a Configuration of its tool's meta-space; ConfigSpace's verdicts as violations.

    - a value outside its legal range or choices -> at the value;
    - a value the user wrote for a field that is inactive (no effect) -> at its key;
    - a forbidden combination -> at the first of its fields the user wrote.

    Fields the user did not write are taken as the defaults resolve them and only reported when they make a
    combination forbidden. Without a ``document`` (the advisor's own configs), a field counts as written when
    it was set explicitly on the model (pydantic's ``model_fields_set``), not filled by a default.
    """
    from metaconf.space.configurations import active_names

    tool = config.tool.value
    meta = _meta(tool)
    space = meta.space

    def written(path: JsonPath) -> bool:
        return document.has(path) if document is not None else _explicitly_set(config, path)

    violations: list[Violation] = []
    values = config_values(config, tool)
    legal: dict[str, Any] = {}
    for name, value in values.items():
        hp = space[name]
        try:
            ok = bool(hp.legal_value(value))
        except (TypeError, ValueError):
            ok = False
        if ok:
            legal[name] = value
            continue
        path = path_of(name)
        if written(path):
            case = _case_of(name)
            where = f" with `fidelity.type: {case}`" if case else ""
            tool_note = f" with tool `{tool}`" if tool != Tool.smac.value and hasattr(hp, "choices") else ""
            violations.append(
                Violation(
                    path,
                    f"`{_dotted(path)}` is {value!r}{where}{tool_note}; it must be {_describe(hp)}",
                    fix_title=f"Set `{_dotted(path)}` to a value {_describe(hp)}",
                )
            )
    filled = {name: _plain(hp.default_value) for name, hp in space.items()}
    filled.update(legal)
    live = active_names(space, filled)
    active = {name: value for name, value in filled.items() if name in live}
    for name in legal:
        if name in active or not written(path_of(name)):
            continue
        path = path_of(name)
        violations.append(
            Violation(
                path,
                f"`{_dotted(path)}` has no effect {_inactive_reason(space, name, active)}",
                fix_title=f"Remove `{_dotted(path)}`",
                key=True,
            )
        )
    given = {name: value for name, value in legal.items() if name in active}
    for clause in space.forbidden_clauses:
        names = _clause_names(clause)
        if not names <= set(given):
            continue
        if not clause.is_forbidden_value({n: given[n] for n in names}):
            continue
        note = meta.notes.get(str(clause))
        candidates = note.paths if note else tuple(path_of(n) for n in sorted(names))
        path = next((p for p in candidates if written(p)), candidates[0])
        shown = ", ".join(f"`{_dotted(path_of(n))}: {given[n]}`" for n in sorted(names))
        message = note.message if note else "this combination cannot run"
        violations.append(Violation(path, f"{message} (got {shown})"))
    return violations


def _explicitly_set(config: Config, path: JsonPath) -> bool:
    node: Any = config
    for step in path:
        if node is None or str(step) not in getattr(node, "model_fields_set", set()):
            return False
        node = getattr(node, str(step))
    return True


def _inactive_reason(space: ConfigurationSpace, name: str, active: Mapping[str, Any]) -> str:
    conditions: Sequence[Any] = space.parent_conditions_of.get(name, [])
    for condition in conditions:
        parent = condition.parent.name
        if parent not in active:
            return f"because `{_dotted(path_of(parent))}` has no effect either"
        return f"with `{_dotted(path_of(parent))}: {_plain(active[parent])}`"
    return "here"


def _clause_names(clause: Any) -> set[str]:
    names: set[str] = set()
    for attr in ("hyperparameter", "left", "right"):
        hp = getattr(clause, attr, None)
        if hp is not None:
            names.add(hp.name)
    for component in getattr(clause, "components", ()) or ():
        names |= _clause_names(component)
    return names
