"""A user's own ConfigSpace space: ``search_space.file`` (YAML / JSON) or ``search_space.inline``.

Two forms are accepted:

- ConfigSpace's serialized form, as written by ``ConfigurationSpace.to_yaml`` / ``to_json``::

      hyperparameters:
        - {name: max_depth, type: uniform_int, lower: 2, upper: 20, default_value: 8}
        - {name: criterion, type: categorical, choices: [gini, entropy], default_value: gini}
      conditions: []
      forbiddens: []

- a shorthand, one entry per hyperparameter: ``{lower, upper[, log, default, type]}`` for a range,
  ``{choices[, default]}`` or a list for a choice, a scalar for a constant::

      max_depth: {lower: 2, upper: 20}
      criterion: [gini, entropy]

The hyperparameter names are the constructor arguments of ``search_space.estimator`` (``module:Class``).

ConfigSpace itself silently turns a YAML list ``[0.0, 1.0]`` into a two-choice categorical (and
``from_serialized_dict({"lr": [0.0, 1.0]})`` into an EMPTY space); a list of exactly two numbers is therefore
refused here with a hint, as is a space without hyperparameters. Problems are reported as
:class:`~metaconf.space.errors.SpaceError` with the path inside the space, so that lint findings land on the
right key of an inline space.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.config.loader import JsonPath
from metaconf.config.model import Config
from metaconf.space.errors import SpaceError, SpaceProblem

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace
    from ConfigSpace.hyperparameters import Hyperparameter

_NUMERIC_TYPES = {"uniform_float", "uniform_int", "normal_float", "normal_int", "beta_float", "beta_int"}
_SHORTHAND_KEYS = {"lower", "upper", "log", "default", "type", "choices"}


def _pointer(path: JsonPath) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


def read_space_source(config: Config, base_dir: Path) -> tuple[Any, JsonPath, str]:
    """The raw data of the user's space, the config path errors point at, and a label for messages."""
    search_space = config.search_space
    if search_space.inline is not None and search_space.file is not None:
        raise SpaceError(
            "`search_space` has both `file` and `inline`; it is not clear which space to search.",
            "Keep one of them.",
            kind=SpaceProblem.user_space_invalid,
            path=("search_space", "inline"),
        )
    if search_space.inline is not None:
        return search_space.inline, ("search_space", "inline"), "`search_space.inline`"
    assert search_space.file is not None
    path = Path(search_space.file)
    if not path.is_absolute():
        path = base_dir / path
    where: JsonPath = ("search_space", "file")
    if not path.is_file():
        raise SpaceError(
            f"Search space file `{search_space.file}` does not exist (looked at {path}).",
            "Paths are relative to the config file; write the space with `ConfigurationSpace.to_yaml(path)`.",
            kind=SpaceProblem.user_space_invalid,
            path=where,
        )
    name = search_space.file
    data = _read_json(path, name, where) if path.suffix.lower() == ".json" else _read_yaml(path, name, where)
    return data, where, f"`{name}`"


def _read_yaml(path: Path, name: str, where: JsonPath) -> Any:
    """A YAML space file, read by the loader configs are read with: the same size, alias and tag limits, and
    a duplicate key is an error (with its line and column) instead of silently keeping the last value."""
    from metaconf.config.loader import LoadError, load_file

    def fail(message: str, hint: str) -> SpaceError:
        return SpaceError(message, hint, kind=SpaceProblem.user_space_invalid, path=where)

    write_it = "Write it with `ConfigurationSpace.to_yaml(path)`."
    try:
        document = load_file(path)
    except LoadError as exc:
        at = f"{name}:{exc.span.line}:{exc.span.col}"
        if exc.code == "MC002":
            raise fail(f"Search space file `{name}` is empty.", write_it) from None
        if exc.code == "MC003":
            raise fail(
                f"Cannot read search space file `{name}`: {exc.message} ({at}).",
                "Check the file's permissions and that it is UTF-8 text.",
            ) from None
        raise fail(f"Search space file `{name}` is not valid YAML ({at}): {exc.message}", write_it) from None
    if document.duplicates:
        duplicate = document.duplicates[0]
        key = duplicate.path[-1]
        raise fail(
            f"Search space file `{name}` defines `{key}` twice ({name}:{duplicate.again.line}:{duplicate.again.col}, "
            f"first at line {duplicate.first.line}); YAML would silently keep the last one.",
            "Keep one of them.",
        )
    return document.data


def _read_json(path: Path, name: str, where: JsonPath) -> Any:
    """A JSON space file: at most :data:`~metaconf.config.loader.MAX_FILE_BYTES`, no duplicate keys."""
    from metaconf.config.loader import MAX_FILE_BYTES, LoadError, read_text

    def fail(message: str, hint: str) -> SpaceError:
        return SpaceError(message, hint, kind=SpaceProblem.user_space_invalid, path=where)

    try:
        text = read_text(path)
    except LoadError as exc:
        raise fail(
            f"Cannot read search space file `{name}`: {exc.message}.",
            f"Check the file's permissions, that it is UTF-8 text and at most {MAX_FILE_BYTES // 2**20} MiB.",
        ) from None

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"`{twice[0]}` is defined twice in one object")
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise fail(
            f"Search space file `{name}` is not valid JSON ({name}:{exc.lineno}:{exc.colno}): {exc.msg}",
            "Write it with `ConfigurationSpace.to_json(path)`.",
        ) from None
    except ValueError as exc:
        raise fail(f"Search space file `{name}` is not valid JSON: {exc}.", "Keep one of them.") from None
    except RecursionError:
        raise fail(f"Search space file `{name}` is nested too deeply.", "Write a flat space.") from None


def load_user_space(config: Config, base_dir: Path = Path("."), *, seed: int = 0) -> ConfigurationSpace:
    """The user's space, checked (well-formed, defaults in range, conditions on existing parents), seeded."""
    if not config.search_space.estimator:
        raise SpaceError(
            "A user search space (`search_space.file` / `inline`) needs `search_space.estimator`.",
            "Add e.g. `estimator: sklearn.ensemble:RandomForestClassifier`; the space's names are its arguments.",
            kind=SpaceProblem.bad_estimator,
            path=("search_space",),
        )
    data, where, label = read_space_source(config, base_dir)
    inline = where == ("search_space", "inline")
    space = space_from_data(data, label=label, where=where, inline=inline)
    space.seed(seed)
    return space


def space_from_data(data: Any, *, label: str, where: JsonPath, inline: bool = True) -> ConfigurationSpace:
    """A ConfigurationSpace from serialized or shorthand data; :class:`SpaceError` when it is not one.

    ``where`` is the config path of the source; for an inline space (``inline=True``) error paths go inside it.
    """

    def fail(message: str, hint: str, kind: SpaceProblem, inner: JsonPath = ()) -> SpaceError:
        location = f" at `{_pointer(inner)}`" if inner else ""
        return SpaceError(
            f"{label}{location}: {message}", hint, kind=kind, path=(*where, *inner) if inline else where
        )

    if not isinstance(data, Mapping):
        raise fail(
            f"expected a mapping (a ConfigSpace space), got {type(data).__name__}.",
            "Write the space with `ConfigurationSpace.to_yaml(path)`, or as `name: {lower: .., upper: ..}` entries.",
            SpaceProblem.user_space_invalid,
        )
    space = _from_serialized(data, fail) if "hyperparameters" in data else _from_shorthand(data, fail)
    if len(space) == 0:
        raise fail(
            "the space has no hyperparameters.",
            "Add at least one hyperparameter; there is nothing to search.",
            SpaceProblem.user_space_invalid,
        )
    return space


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_as_range_hint(name: str, values: list[Any]) -> str:
    lo, hi = values
    return (
        f"A list is a set of choices in ConfigSpace. For a range write `{name}: {{lower: {lo}, upper: {hi}}}`; "
        f"for exactly these two values write `{name}: {{choices: [{lo}, {hi}]}}`."
    )


def _from_shorthand(data: Mapping[str, Any], fail: Any) -> ConfigurationSpace:
    from ConfigSpace import Categorical, ConfigurationSpace, Constant, Float, Integer

    hyperparameters: list[Hyperparameter] = []
    for name, spec in data.items():
        inner: JsonPath = (str(name),)
        if isinstance(spec, list):
            if len(spec) == 2 and all(_is_number(v) for v in spec):
                raise fail(
                    f"`{name}: {spec}` is a list, which ConfigSpace reads as two choices, not a range.",
                    _list_as_range_hint(str(name), spec),
                    SpaceProblem.list_as_range,
                    inner,
                )
            spec = {"choices": spec}
        if isinstance(spec, Mapping):
            unknown = set(spec) - _SHORTHAND_KEYS
            if unknown:
                raise fail(
                    f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(f'`{k}`' for k in sorted(unknown))}.",
                    f"Use {', '.join(sorted(_SHORTHAND_KEYS))}.",
                    SpaceProblem.user_space_invalid,
                    (*inner, sorted(unknown)[0]),
                )
            if "choices" in spec:
                choices = spec["choices"]
                if not isinstance(choices, list) or not choices:
                    raise fail(
                        "`choices` must be a non-empty list.",
                        "List the values.",
                        SpaceProblem.user_space_invalid,
                        (*inner, "choices"),
                    )
                default = spec.get("default", choices[0])
                if default not in choices:
                    raise fail(
                        f"default {default!r} is not one of {choices}.",
                        "Pick the default from `choices`.",
                        SpaceProblem.default_out_of_range,
                        (*inner, "default"),
                    )
                hyperparameters.append(Categorical(str(name), choices, default=default))
                continue
            if "lower" not in spec or "upper" not in spec:
                raise fail(
                    "a range needs both `lower` and `upper`.",
                    f"Write `{name}: {{lower: .., upper: ..}}`.",
                    SpaceProblem.user_space_invalid,
                    inner,
                )
            lower, upper = spec["lower"], spec["upper"]
            for key, bound in (("lower", lower), ("upper", upper)):
                if not _is_number(bound):
                    raise fail(
                        f"`{key}` must be a number, got {bound!r}.",
                        "Give a number.",
                        SpaceProblem.user_space_invalid,
                        (*inner, key),
                    )
            kind = spec.get("type") or (
                "int" if isinstance(lower, int) and isinstance(upper, int) else "float"
            )
            if kind not in ("int", "float"):
                raise fail(
                    f"`type: {kind}` is not `int` or `float`.",
                    "Use `int` or `float`.",
                    SpaceProblem.user_space_invalid,
                    (*inner, "type"),
                )
            if lower >= upper:
                raise fail(
                    f"lower {lower} >= upper {upper}.",
                    "Make `lower` smaller than `upper`.",
                    SpaceProblem.user_space_invalid,
                    (*inner, "lower"),
                )
            log = bool(spec.get("log", False))
            if log and lower <= 0:
                raise fail(
                    f"a log-scale range needs lower > 0, got {lower}.",
                    "Raise `lower` or drop `log`.",
                    SpaceProblem.user_space_invalid,
                    (*inner, "lower"),
                )
            default = spec.get("default")
            if default is not None and (not _is_number(default) or not lower <= default <= upper):
                raise fail(
                    f"default {default!r} is outside [{lower}, {upper}].",
                    f"Pick a default between {lower} and {upper}.",
                    SpaceProblem.default_out_of_range,
                    (*inner, "default"),
                )
            if kind == "int":
                hyperparameters.append(
                    Integer(
                        str(name),
                        (int(lower), int(upper)),
                        default=None if default is None else int(default),
                        log=log,
                    )
                )
            else:
                hyperparameters.append(
                    Float(
                        str(name),
                        (float(lower), float(upper)),
                        default=None if default is None else float(default),
                        log=log,
                    )
                )
            continue
        if isinstance(spec, str | int | float | bool):
            hyperparameters.append(Constant(str(name), spec))
            continue
        raise fail(
            f"`{name}` is {type(spec).__name__}, not a range, choices or constant.",
            "Write `{lower, upper}`, `{choices: [...]}` or a single value.",
            SpaceProblem.user_space_invalid,
            inner,
        )
    space = ConfigurationSpace()
    space.add(*hyperparameters)
    return space


def _check_serialized(data: Mapping[str, Any], fail: Any) -> None:
    """What ConfigSpace reports badly (bare KeyError, whole-space dumps) or not at all, with paths."""
    hyperparameters = data.get("hyperparameters")
    if not isinstance(hyperparameters, list):
        raise fail(
            "`hyperparameters` must be a list.",
            "Write the space with `ConfigurationSpace.to_yaml`.",
            SpaceProblem.user_space_invalid,
            ("hyperparameters",),
        )
    names: set[str] = set()
    for index, hp in enumerate(hyperparameters):
        inner: JsonPath = ("hyperparameters", index)
        if not isinstance(hp, Mapping) or "name" not in hp or "type" not in hp:
            raise fail(
                "each hyperparameter needs `name` and `type`.",
                "See `ConfigurationSpace.to_yaml` output.",
                SpaceProblem.user_space_invalid,
                inner,
            )
        name, kind = str(hp["name"]), hp["type"]
        names.add(name)
        if kind in _NUMERIC_TYPES and kind.startswith("uniform"):
            lower, upper = hp.get("lower"), hp.get("upper")
            for key, bound in (("lower", lower), ("upper", upper)):
                if isinstance(bound, list) and len(bound) == 2:
                    raise fail(
                        f"`{name}.{key}` is a list; a bound is one number.",
                        "Give `lower` and `upper` as single numbers.",
                        SpaceProblem.list_as_range,
                        (*inner, key),
                    )
                if not _is_number(bound):
                    raise fail(
                        f"`{name}` needs a numeric `{key}`, got {bound!r}.",
                        "Give a number.",
                        SpaceProblem.user_space_invalid,
                        (*inner, key),
                    )
            assert lower is not None and upper is not None
            if lower >= upper:
                raise fail(
                    f"`{name}` has lower {lower} >= upper {upper}.",
                    "Make `lower` smaller than `upper`.",
                    SpaceProblem.user_space_invalid,
                    (*inner, "lower"),
                )
            default = hp.get("default_value")
            if default is not None and (not _is_number(default) or not lower <= default <= upper):
                raise fail(
                    f"default {default!r} of `{name}` is outside [{lower}, {upper}].",
                    f"Pick a `default_value` between {lower} and {upper}.",
                    SpaceProblem.default_out_of_range,
                    (*inner, "default_value"),
                )
        if kind in ("categorical", "ordinal"):
            key = "choices" if kind == "categorical" else "sequence"
            options = hp.get(key)
            if not isinstance(options, list) or not options:
                raise fail(
                    f"`{name}` needs a non-empty `{key}` list.",
                    "List the values.",
                    SpaceProblem.user_space_invalid,
                    (*inner, key),
                )
            default = hp.get("default_value")
            if default is not None and default not in options:
                raise fail(
                    f"default {default!r} of `{name}` is not one of {options}.",
                    f"Pick a `default_value` from `{key}`.",
                    SpaceProblem.default_out_of_range,
                    (*inner, "default_value"),
                )
    for section in ("conditions", "forbiddens"):
        for index, item in enumerate(data.get(section) or []):
            for inner_path, referenced in _referenced_names(item, (section, index)):
                if referenced not in names:
                    raise fail(
                        f"{'condition' if section == 'conditions' else 'forbidden clause'} names `{referenced}`, "
                        "which is not a hyperparameter of the space.",
                        f"Declare `{referenced}` under `hyperparameters`, or fix the name.",
                        SpaceProblem.missing_parent,
                        inner_path,
                    )


def _referenced_names(item: Any, path: JsonPath) -> list[tuple[JsonPath, str]]:
    """Hyperparameter names a serialized condition / forbidden (possibly a conjunction) refers to."""
    out: list[tuple[JsonPath, str]] = []
    if not isinstance(item, Mapping):
        return out
    for key in ("child", "parent", "name", "left", "right"):
        if isinstance(item.get(key), str):
            out.append(((*path, key), item[key]))
    for key in ("conditions", "clauses"):
        for index, sub in enumerate(item.get(key) or []):
            out.extend(_referenced_names(sub, (*path, key, index)))
    return out


def _from_serialized(data: Mapping[str, Any], fail: Any) -> ConfigurationSpace:
    from ConfigSpace import ConfigurationSpace

    _check_serialized(data, fail)
    payload = dict(data)
    payload.setdefault("conditions", [])
    payload.setdefault("forbiddens", [])
    try:
        return ConfigurationSpace.from_serialized_dict(payload)
    except Exception as exc:  # ConfigSpace raises KeyError/ValueError/TypeError/its own types for bad input
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise fail(
            f"not a valid ConfigSpace space: {type(exc).__name__}: {message}",
            "Write the space with `ConfigurationSpace.to_yaml(path)` and edit from there.",
            SpaceProblem.user_space_invalid,
        ) from None
