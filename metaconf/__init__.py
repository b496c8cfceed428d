"""metaconf: a config compiler for AutoML tools (SMAC3, auto-sklearn).

The Python API (:mod:`metaconf.api`, documented in ``docs/api.md``)::

    import metaconf

    suggestion = metaconf.suggest(demo="iris", budget="1m", output="iris.yaml")
    findings = metaconf.lint_config("iris.yaml")
    plan = metaconf.compile("iris.yaml")
    results = metaconf.run("iris.yaml", save_model=True)      # into runs/iris
    same = metaconf.read_run("runs/iris")
    predictions = metaconf.predict("runs/iris", "new_rows.csv")

The functions load on first use, so ``import metaconf`` (and the command's start-up) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "Config",
    "LLMOptions",
    "LanguageModel",
    "Objective",
    "TrialCosts",
    "__version__",
    "backend",
    "compile",
    "demos",
    "lint_config",
    "load_config",
    "load_data",
    "model_file",
    "objective",
    "open_llm",
    "parse_duration",
    "predict",
    "probe",
    "read_description",
    "read_run",
    "read_trials",
    "run",
    "score",
    "suggest",
]

if TYPE_CHECKING:
    from metaconf.api import (
        Backend,
        Config,
        LanguageModel,
        LLMOptions,
        Objective,
        TrialCosts,
        backend,
        compile,
        demos,
        lint_config,
        load_config,
        load_data,
        model_file,
        objective,
        open_llm,
        parse_duration,
        predict,
        probe,
        read_description,
        read_run,
        read_trials,
        run,
        score,
        suggest,
    )


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        from metaconf import api

        return getattr(api, name)
    raise AttributeError(f"module 'metaconf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
