"""Values against a ConfigurationSpace: a mapping as a Configuration (with errors a user can act on), warm
starts completed and checked against the space, and which hyperparameters are active."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from metaconf.space.builtin import MODEL, SEPARATOR, plain_value, plain_values
from metaconf.space.errors import SpaceError, SpaceProblem

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace


def to_configuration(space: ConfigurationSpace, values: Mapping[str, Any]) -> Configuration:
    """A validated :class:`Configuration` of ``space``; :class:`SpaceError` naming the bad key or value."""
    from ConfigSpace import Configuration

    clean = plain_values(values)
    for key in clean:
        if key not in space:
            raise SpaceError(
                f"`{key}` is not a hyperparameter of the search space.",
                _did_you_mean(key, list(space.keys())),
                kind=SpaceProblem.bad_warm_start,
            )
    try:
        configuration = Configuration(space, values=clean)
        configuration.check_valid_configuration()
    except Exception as exc:  # ConfigSpace raises several unrelated types: see explain_configspace_error
        raise SpaceError(
            explain_configspace_error(exc),
            "Use values inside the space.",
            kind=SpaceProblem.bad_warm_start,
        ) from None
    return configuration


def explain_configspace_error(exc: BaseException) -> str:
    """One line for a ConfigSpace exception (they print whole spaces or bare keys otherwise)."""
    from ConfigSpace.exceptions import (
        ActiveHyperparameterNotSetError,
        ForbiddenValueError,
        IllegalValueError,
        InactiveHyperparameterSetError,
    )

    if isinstance(exc, IllegalValueError):
        hp = exc.hyperparameter
        return f"`{hp.name}` cannot be {exc.value!r}: {_describe_range(hp)}."
    if isinstance(exc, InactiveHyperparameterSetError):
        return f"`{exc.hyperparameter.name}` is set but inactive here (its condition is not met), so it has no effect."
    if isinstance(exc, ActiveHyperparameterNotSetError):
        return f"`{exc.hyperparameter.name}` is active here but has no value."
    if isinstance(exc, ForbiddenValueError):
        return f"The combination is forbidden in the space: {str(exc).splitlines()[0]}."
    if isinstance(exc, KeyError):
        return f"`{exc.args[0] if exc.args else exc}` is not a hyperparameter of the space."
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _describe_range(hp: Any) -> str:
    if hasattr(hp, "choices"):
        return f"choices are {list(hp.choices)}"
    if hasattr(hp, "sequence"):
        return f"choices are {list(hp.sequence)}"
    if hasattr(hp, "lower"):
        kind = "integer" if "Integer" in type(hp).__name__ else "number"
        return f"expected a{'n' if kind == 'integer' else ''} {kind} in [{hp.lower}, {hp.upper}]"
    if hasattr(hp, "value"):
        return f"it is fixed at {hp.value!r}"
    return "not a legal value"


def _did_you_mean(name: str, candidates: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if close:
        return f"Did you mean {', '.join(f'`{c}`' for c in close)}?"
    return f"Known names: {', '.join(f'`{c}`' for c in candidates[:12])}{' ...' if len(candidates) > 12 else ''}."


def normalize_warm_start(space: ConfigurationSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """A full, valid configuration from a warm-start entry, as plain values.

    Accepts the shorthand ``{model: random_forest, max_depth: 5}``: an unprefixed name means the chosen
    model's ``<model>:<name>``; without ``model`` the family is inferred from prefixed names (or is the only
    one). Missing active hyperparameters get their defaults. Raises :class:`SpaceError` naming the bad key or
    value (unknown name, out of range, inactive under the chosen model).
    """
    given = plain_values(values)
    model = _warm_start_model(space, given)
    full_names: dict[str, Any] = {}
    written_as: dict[str, str] = {MODEL: MODEL}
    for key, value in given.items():
        if key in space:
            name = key
        elif model is not None and f"{model}{SEPARATOR}{key}" in space:
            name = f"{model}{SEPARATOR}{key}"
        else:
            candidates = [n for n in space if n.endswith(SEPARATOR + key)]
            hint = (
                f"Under `model: {model}` it is not a hyperparameter; {candidates[0]!r} belongs to another family."
                if candidates
                else _did_you_mean(key, list(space.keys()))
            )
            raise SpaceError(
                f"`{key}` is not a hyperparameter of the search space.",
                hint,
                kind=SpaceProblem.bad_warm_start,
                path=(key,),
            )
        if name in full_names:
            raise SpaceError(
                f"`{key}` is given twice (as `{name}`).",
                "Give each hyperparameter once.",
                kind=SpaceProblem.bad_warm_start,
                path=(key,),
            )
        full_names[name] = value
        written_as[name] = key
    if model is not None and MODEL in space:
        full_names[MODEL] = model
    for name, value in full_names.items():
        _check_legal(space, name, value, path=(written_as.get(name, name),))

    filled = {name: plain_value(hp.default_value) for name, hp in space.items()}
    filled.update(full_names)
    live = active_names(space, filled)
    active = {name: value for name, value in filled.items() if name in live}
    for name in full_names:
        if name not in active:
            raise SpaceError(
                f"`{name}` is inactive in this configuration ({_why_inactive(space, name, active)}), so it has no effect.",
                "Remove it, or choose the model/parent value that activates it.",
                kind=SpaceProblem.bad_warm_start,
                path=(written_as.get(name, name),),
            )
    return plain_values(dict(to_configuration(space, active)))


def _warm_start_model(space: ConfigurationSpace, given: Mapping[str, Any]) -> str | None:
    if MODEL not in space:
        return None
    hp = space[MODEL]
    legal = [plain_value(v) for v in getattr(hp, "choices", None) or [getattr(hp, "value", None)]]
    if MODEL in given:
        model = given[MODEL]
        if model not in legal:
            raise SpaceError(
                f"`model: {model}` is not searched by this space.",
                f"Use one of: {', '.join(str(v) for v in legal)}.",
                kind=SpaceProblem.bad_warm_start,
                path=(MODEL,),
            )
        return str(model)
    if len(legal) == 1:
        return str(legal[0])
    prefixes = {key.split(SEPARATOR, 1)[0] for key in given if SEPARATOR in key}
    if len(prefixes) == 1 and next(iter(prefixes)) in legal:
        return next(iter(prefixes))
    raise SpaceError(
        "A warm-start configuration must say which `model` it is for.",
        f"Add `model:` with one of: {', '.join(str(v) for v in legal)}.",
        kind=SpaceProblem.bad_warm_start,
    )


def _check_legal(space: ConfigurationSpace, name: str, value: Any, *, path: tuple[str, ...] = ()) -> None:
    hp = space[name]
    try:
        legal = hp.legal_value(value)
    except Exception:
        legal = False
    if not legal:
        raise SpaceError(
            f"`{name}` cannot be {value!r}: {_describe_range(hp)}.",
            "Use a value inside the space.",
            kind=SpaceProblem.bad_warm_start,
            path=path,
        )


def _why_inactive(space: ConfigurationSpace, name: str, active: Mapping[str, Any]) -> str:
    conditions = space.parent_conditions_of.get(name, [])
    if not conditions:
        return "its condition is not met"
    condition = conditions[0]
    parent = getattr(condition, "parent", None)
    if parent is None:
        return f"it needs {condition}"
    return f"it needs {condition}; `{parent.name}` is {active.get(parent.name, 'inactive')!r}"


def active_names(space: ConfigurationSpace, values: Mapping[str, Any]) -> set[str]:
    """The hyperparameters that are active under ``values`` (a value for every hyperparameter whose parents are
    active). Unlike ``ConfigSpace.util.deactivate_inactive_hyperparameters`` this does not also check forbidden
    clauses, so it can tell "inactive" apart from "forbidden"."""
    active: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in space:
            if name in active:
                continue
            parents = space.parents_of.get(name, [])
            if not all(parent.name in active for parent in parents):
                continue
            if all(
                condition.satisfied_by_value(dict(values))
                for condition in space.parent_conditions_of.get(name, [])
            ):
                active.add(name)
                changed = True
    return active
