"""A compiled plan as a SMAC3 script that runs as is (``metaconf compile -f python``): constants to edit at the
top (seed, trials, walltime and per-trial limits, output directory), the search space as ConfigSpace JSON,
metaconf's trial target in the runner ``metaconf run`` uses, SMAC's components with the plan's arguments, and
the incumbent printed. tests/test_compile_python.py runs it and compares SMAC's run history with the run's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import UsageError
from metaconf.targets.smac.compile import SMAC_RUN_NAME, SmacPlan

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from metaconf.config.model import Config


# ------------------------------------------------------------------------------------- the python script
SCRIPT_OUTPUT_ROOT = "smac3_output"
"""Where the exported script's SMAC writes, relative to the directory it is run in (``<root>/<run name>``)."""

_TARGET_SECTIONS = ("task", "data", "budget", "search_space", "fidelity", "resampling")
"""The config sections the target function reads (with ``execution.seed``); the script leaves out the others,
whose values it writes as SMAC arguments instead."""


class _Code(str):
    """Python source written into the script as is (a constant's name, an expression)."""


def target_config_data(config: Config, base_dir: str | Path, *, seed: Any = None) -> dict[str, Any]:
    """What the target function reads of ``config``, as plain data for the script's ``METACONF_CONFIG``.

    Only the fields that are set are kept (whether ``task.type`` was set changes how the data is read), plus
    the seed (``seed``: a value or the script's ``SEED``). ``data.path`` and a user space's ``search_space.file``
    are made absolute; ``budget`` keeps ``memory`` only (the data loader's size check). ``optimizer``,
    ``initial_design``, ``stopping`` and the rest of ``execution`` are left out: the script passes them to SMAC
    itself, and the target never reads them.
    """
    from metaconf.space.builtin import is_user_space

    base = Path(base_dir)
    dumped = config.model_dump(mode="json", exclude_unset=True)
    data: dict[str, Any] = {}
    for section in _TARGET_SECTIONS:
        values = dict(dumped.get(section) or {})
        if section == "budget":
            values = {k: v for k, v in values.items() if k == "memory"}
        if section == "search_space":
            if not is_user_space(config):
                continue  # a built-in space: the script's SEARCH_SPACE; the target reads only `model` values
            if values.get("file") is not None:
                values["file"] = str((base / Path(values["file"]).expanduser()).resolve())
        if section == "data" and values.get("path") is not None:
            values["path"] = str((base / Path(values["path"]).expanduser()).resolve())
        if values:
            data[section] = values
    data["execution"] = {"seed": config.execution.seed if seed is None else seed}
    return data


def render_python(
    plan: SmacPlan,
    space: ConfigurationSpace,
    config: Config,
    *,
    base_dir: str | Path,
    name: str,
    source: str | Path | None = None,
) -> str:
    """A SMAC3 script that runs as is and makes the calls ``metaconf run`` makes (``metaconf compile -f python``).

    It defines the search space (ConfigSpace JSON, read with ConfigSpace's own reader), metaconf's target
    function (:class:`~metaconf.targets.smac.runner.TrialTarget` on ``config``'s data, task and metric, with
    the per-trial limits applied by :class:`~metaconf.targets.smac.limits.LimitingTargetRunner` as in a run),
    the Scenario, intensifier, initial design, random design and surrogate of ``plan``, and metaconf's stopping
    callbacks (plateau, full-budget cost threshold) when the plan has them. Seed, trials, limits, data path and
    output directory are constants at the top. SMAC writes to ``smac3_output/<name>`` under the directory the
    script runs in, never to ``metaconf run``'s run directory. ``config`` is the resolved config (seed set),
    ``base_dir`` the directory its relative paths start from. Raises :class:`UsageError` when the space cannot
    be written as ConfigSpace JSON.
    """
    from importlib import metadata

    from metaconf import __version__
    from metaconf.space.builtin import is_user_space

    scenario = plan.scenario
    seed = int(scenario["seed"])
    multi_fidelity = "budget" in plan.target["arguments"]
    target_cls = "BudgetTrialTarget" if multi_fidelity else "TrialTarget"
    stoppers = [c for c in plan.callbacks if c["name"] in ("plateau", "cost_threshold")]
    config_data = target_config_data(config, base_dir, seed=_Code("SEED"))
    data_path = config_data.get("data", {}).get("path")
    if data_path is not None:
        config_data["data"]["path"] = _Code("DATA_PATH")
    warm = list(plan.initial_design.kwargs.get("additional_configs", []))
    user_estimator = is_user_space(config) and config.search_space.estimator is not None
    if not is_user_space(config):
        space_origin = "metaconf's built-in space for search_space"
    elif config.search_space.file is not None:
        space_origin = "read from search_space.file"
    else:
        space_origin = "read from search_space.inline"
    try:
        smac_version = metadata.version("smac")
    except metadata.PackageNotFoundError:  # pragma: no cover - SMAC is a dependency
        smac_version = "?"
    shown_source = f"`{Path(source).name}`" if source is not None else "a metaconf config"

    # --------------------------------------------------------------------------------------- docstring
    lines = [
        f'"""SMAC3 search for {shown_source}, exported by `metaconf compile --format python` '
        f"(metaconf {__version__}, SMAC3 {smac_version}).",
        "",
        "Runs as is: `python <this file>`, from any directory. It makes the SMAC3 calls `metaconf run` makes for this",
        "config (search space, seed, Scenario, intensifier, initial design, random design, surrogate) with",
        "metaconf's own target function (the same data split, preprocessing, metric and per-trial limits), so it",
        "proposes and scores the same first trials. SMAC writes to OUTPUT_DIRECTORY, a directory of its own (never",
        "metaconf's run directory); running the script again continues the search there (delete it to start over).",
        "",
        "Change the constants at the top and SEARCH_SPACE as you like. Not here: what `metaconf run` does around the",
        "search (results.json, trajectory.csv, the progress bar, the test-set score, --save-model, a clean stop on",
        "SIGINT).",
        f"Plan sha256: {plan.meta}",
        '"""',
        "",
        "import io",
        "import math",
        "import os",
        "import sys",
        "import warnings",
        "from pathlib import Path",
        "",
        "# ---- What you may want to change " + "-" * 76,
        f"SEED = {seed!r}  # execution.seed: SMAC's seed, the data split and the estimators' random_state",
        f"N_TRIALS = {int(scenario['n_trials'])!r}  # stopping.n_trials",
        f"WALLTIME_LIMIT = {_py(scenario['walltime_limit'])}  # seconds for the whole search (stopping.walltime)",
        f"TRIAL_WALLTIME_LIMIT = {_py(scenario['trial_walltime_limit'])}  # seconds per trial "
        "(stopping.trial_walltime); None: no limit",
        f"TRIAL_MEMORY_LIMIT = {_py(_memory_limit(scenario['trial_memory_limit']))}  # per trial "
        "(stopping.trial_memory); keep the unit: a bare number is bytes",
    ]
    if data_path is not None:
        lines.append(f"DATA_PATH = {_py(data_path)}  # data.path, resolved when the script was exported")
    lines += [
        f"OUTPUT_DIRECTORY = Path({_py(SCRIPT_OUTPUT_ROOT)}) / {_py(name)}  # relative to the working directory; "
        f"SMAC adds {SMAC_RUN_NAME}/<SEED>",
    ]
    if warm:
        lines.append("# initial_design.warm_start: configurations SMAC adds to its initial design")
        lines.append(f"WARM_START = {_py_block(warm, 0)}")
    lines += [
        "",
        "# What a trial reads of metaconf's config: data, task, metric, resampling and fidelity, as `metaconf run`",
        "# resolved them. The search space and SMAC's settings are below"
        + (" (of search_space, a trial reads only `estimator`)." if is_user_space(config) else "."),
        f"METACONF_CONFIG = {_py_block(config_data, 0)}",
        f"CONFIG_DIR = {_py(str(Path(base_dir).resolve()))}  # the config's directory: relative paths start here",
        "",
        f"# The search space, as ConfigSpace JSON ({space_origin}).",
        f"SEARCH_SPACE = {_space_literal(space)}",
    ]
    notes = list(plan.notes)
    execution = plan.execution
    if execution.get("dask_scheduler") or int(execution.get("workers") or 1) > 1:
        where = (
            f"on the Dask cluster at {execution['dask_scheduler']}"
            if execution.get("dask_scheduler")
            else f"on {execution['workers']} local Dask workers"
        )
        notes.append(
            f"`metaconf run` runs this config's trials {where}; this script runs them one after another "
            "(parallel trials are proposed in an order that depends on timing, so only a sequential run is "
            "reproducible)"
        )
    if notes:
        lines += ["", "# What metaconf derived when it compiled the config:"]
        for note in notes:
            lines += _comment_lines(note)

    # ------------------------------------------------------------------------------------------- main
    components = [("intensifier", plan.intensifier), ("initial_design", plan.initial_design)]
    if plan.random_design is not None:
        components.append(("random_design", plan.random_design))
    if plan.model is not None:
        components.append(("model", plan.model))
    smac_imports = [f"from smac import {plan.facade}, Scenario"]
    smac_imports += sorted(
        {f"from {c.cls.rpartition('.')[0]} import {c.cls.rpartition('.')[2]}" for _, c in components}
    )
    metaconf_imports = [
        "from metaconf.config.model import Config",
        "from metaconf.data.load import load_dataset",
    ]
    plateau = any(c["name"] == "plateau" for c in stoppers)
    if stoppers:
        names = ["SearchState"]
        names += ["PlateauStop", "RecordTrials"] if plateau else []
        names += ["FullBudgetCostThreshold"] if any(c["name"] == "cost_threshold" for c in stoppers) else []
        metaconf_imports.append(f"from metaconf.targets.smac.callbacks import {', '.join(sorted(names))}")
    if user_estimator:
        metaconf_imports.append("from metaconf.space.user_code import add_config_directory")
    metaconf_imports += [
        "from metaconf.targets.evaluate import Evaluator",
        "from metaconf.targets.smac.limits import LimitingTargetRunner",
        f"from metaconf.targets.smac.runner import {target_cls}, kept_configuration",
    ]
    metaconf_imports.sort()
    lines += [
        "",
        "",
        "def main() -> None:",
        "    from ConfigSpace import Configuration, ConfigurationSpace",
        *(f"    {line}" for line in smac_imports),
        "",
        *(f"    {line}" for line in metaconf_imports),
        "",
        "    configspace = ConfigurationSpace.from_json(io.StringIO(SEARCH_SPACE))",
    ]
    scenario_kwargs: dict[str, Any] = {}
    constants = {
        "output_directory": "OUTPUT_DIRECTORY",
        "walltime_limit": "WALLTIME_LIMIT",
        "trial_walltime_limit": "TRIAL_WALLTIME_LIMIT",
        "trial_memory_limit": "TRIAL_MEMORY_LIMIT",
        "n_trials": "N_TRIALS",
        "seed": "SEED",
    }
    for key, value in scenario.items():
        scenario_kwargs[key] = _Code(constants[key]) if key in constants else value
    lines.append(_call("    scenario = Scenario", [_Code("configspace")], scenario_kwargs))
    lines += [
        "",
        "    # metaconf's target function, as `metaconf run` builds it: it fits one configuration on the search rows",
        "    # and returns its validation cost. The data is loaded once, here.",
    ]
    if user_estimator:
        lines.append(
            "    add_config_directory(CONFIG_DIR)  # search_space.estimator is imported from the config's directory"
        )
    lines += [
        "    config = Config.model_validate(METACONF_CONFIG)",
        "    evaluator = Evaluator(config, load_dataset(config, CONFIG_DIR), seed=SEED)",
        "    metric = evaluator.metric",
        f"    target = {target_cls}(config.model_dump_json(), CONFIG_DIR, SEED)",
        "    target.remember(evaluator)",
        "    # SMAC's runner for it: the Scenario's per-trial limits are applied by the target, in a forked process kept",
        "    # from trial to trial (SMAC's own pynisher subprocess per trial would reload everything every time).",
        _call(
            "    runner = LimitingTargetRunner",
            [],
            {
                "scenario": _Code("scenario"),
                "target_function": _Code("target"),
                "required_arguments": [a for a in plan.target["arguments"] if a != "config"],
            },
        ),
        "",
    ]
    for variable, component in components:
        cls_name = component.cls.rpartition(".")[2]
        kwargs = dict(component.kwargs)
        if variable == "initial_design":
            kwargs["additional_configs"] = _Code(
                "[Configuration(configspace, values=values) for values in WARM_START]" if warm else "[]"
            )
            lines.append(_call(f"    {variable} = {cls_name}", [_Code("scenario")], kwargs))
        elif variable == "random_design":
            lines.append(
                _call(f"    {variable} = {cls_name}", [], {**kwargs, "seed": _Code("scenario.seed")})
            )
        elif variable == "model":
            lines.append(
                _call(
                    f"    {variable} = {cls_name}",
                    [],
                    {"configspace": _Code("scenario.configspace"), "seed": _Code("scenario.seed"), **kwargs},
                )
            )
        else:
            lines.append(_call(f"    {variable} = {cls_name}", [_Code("scenario")], kwargs))
    facade_kwargs: dict[str, Any] = {v: _Code(v) for v, _ in components}
    if stoppers:
        lines += [
            "",
            "    # metaconf's stopping rules, as `metaconf run` adds them (SMAC has no such callbacks of its own)",
            "    state = SearchState(greater_is_better=metric.greater_is_better, score_of=metric.score)",
        ]
        callbacks: list[str] = []
        if plateau:
            lines += [
                "    # trial origins: the plateau rule does not count the initial design's trials",
                f"    recorder = RecordTrials(state, {'WARM_START' if warm else '[]'})",
            ]
            callbacks.append("recorder")
        for spec in stoppers:
            if spec["name"] == "plateau":
                lines += [
                    "    # stopping.plateau_patience / plateau_min_delta",
                    f"    plateau = PlateauStop(state, recorder, patience={spec['patience']!r}, "
                    f"min_delta={_py(spec['min_delta'])})",
                ]
                callbacks.append("plateau")
            else:
                lines += [
                    "    # stopping.cost_threshold, checked on full-budget trials only",
                    f"    threshold = FullBudgetCostThreshold(state, threshold={_py(spec['threshold'])}, "
                    f"max_budget={_py(spec['max_budget'])})",
                ]
                callbacks.append("threshold")
        facade_kwargs["callbacks"] = _Code(f"[{', '.join(callbacks)}]")
    facade_kwargs.update(plan.facade_kwargs)
    facade_kwargs["overwrite"] = False
    lines += [
        "",
        _call(f"    smac = {plan.facade}", [_Code("scenario"), _Code("runner")], facade_kwargs),
        "    with warnings.catch_warnings():",
        "        # badly configured models warn (convergence, empty slices): the trial's cost already says it",
        "        for category in (RuntimeWarning, UserWarning, FutureWarning):",
        '            warnings.simplefilter("ignore", category)',
        "        incumbent = smac.optimize()",
        "",
        "    if incumbent is None:",
        '        print("no trial finished")',
        "        return",
        "    # the configuration `metaconf run` keeps: SMAC's incumbent unless an earlier one is within",
        "    # resampling.selection_margin standard errors of it (metaconf's docs/run.md)",
        "    kept, selection = kept_configuration(smac.runhistory, incumbent, evaluator, config.resampling.selection_margin)",
        "    if selection is not None:",
        '        print(selection["why"])',
        "        incumbent = kept",
        "    cost = smac.runhistory.get_cost(incumbent)",
        '    print(f"incumbent (cost {cost:.6g}, {metric.name} {metric.score(cost):.6g}):")',
        "    for name, value in dict(incumbent).items():",
        '        print(f"  {name}: {value}")',
        '    print(f"SMAC\'s files: {smac.scenario.output_directory}")',
        "",
        "",
        'if __name__ == "__main__":',
        '    if os.environ.get("PYTHONHASHSEED") != "0":',
        "        # SMAC's results depend on the hash seed: `metaconf run` searches with PYTHONHASHSEED=0, and so does this",
        '        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, "PYTHONHASHSEED": "0"})',
        "    main()",
    ]
    return "\n".join(lines) + "\n"


def _memory_limit(value: Any) -> Any:
    return tuple(value) if value is not None else None


def _comment_lines(text: str, width: int = 110) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent="# - ", subsequent_indent="#   ") or ["# -"]


def _space_literal(space: ConfigurationSpace) -> str:
    """``space`` as a Python string literal of ConfigSpace JSON, one hyperparameter / condition / forbidden a
    line; checked to read back (with ConfigSpace's reader) as the same space."""
    import ast
    import io

    from ConfigSpace import ConfigurationSpace

    buffer = io.StringIO()
    space.to_json(buffer)
    data = json.loads(buffer.getvalue())
    out = ["{"]
    items = list(data.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if isinstance(value, list) and value:
            out.append(f"  {json.dumps(key)}: [")
            out += [
                f"    {json.dumps(item, ensure_ascii=False)}{',' if i < len(value) - 1 else ''}"
                for i, item in enumerate(value)
            ]
            out.append(f"  ]{comma}")
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    out.append("}")
    text = "\n".join(out)
    literal = f'r"""\n{text}\n"""' if '"""' not in text else repr(text)
    problem = None
    try:
        if ast.literal_eval(literal).strip() != text:
            literal = repr(text)
        if ConfigurationSpace.from_json(io.StringIO(text)) != space:
            problem = "it reads back as a different space"
    except Exception as exc:  # ConfigSpace raises its own types for what it cannot read
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        raise UsageError(
            f"the search space cannot be written into a Python script as ConfigSpace JSON ({problem})",
            "use `metaconf compile -f yaml` to see the plan, or `metaconf run` to run it",
        )
    return literal


def _call(head: str, args: list[Any], kwargs: dict[str, Any], width: int = 110) -> str:
    """``head(args..., key=value...)`` on one line when it fits, else one argument a line."""
    parts = [_py(a) for a in args] + [f"{k}={_py(v)}" for k, v in kwargs.items()]
    one_line = f"{head}({', '.join(parts)})"
    if len(one_line) <= width:
        return one_line
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    return f"{head}(\n" + "".join(f"{indent}{part},\n" for part in parts) + f"{indent[:-4]})"


def _py_block(value: Any, indent: int, width: int = 110) -> str:
    """``value`` as Python source: on one line when it fits, else dicts and lists one item a line."""
    inline = _py(value)
    if len(inline) + indent <= width - 20 or not isinstance(value, dict | list) or not value:
        return inline
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{pad}{_py(k)}: {_py_block(v, indent + 4, width)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_py_block(v, indent + 4, width)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _py(value: Any) -> str:
    if isinstance(value, _Code):
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "math.inf" if value > 0 else "-math.inf"
    if isinstance(value, float) and math.isnan(value):
        return "math.nan"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)  # a JSON string is a Python literal of the same value
        return text if text.isprintable() and "\\" not in text else repr(value)
    return repr(value)
