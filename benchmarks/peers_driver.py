"""Fit ONE peer system of the peer benchmark on a train CSV and write its predictions on a test CSV.

``benchmarks/peers.py`` starts this script as a subprocess, one system at a time, so that every system pays its
own start-up and imports inside the measured wall time and runs under the same single-core limits::

    python peers_driver.py SPEC.json

The spec names the system (``flaml``, ``random_forest``, ``autosklearn``), the train / test CSV files, the
target, the task (``binary``, ``multiclass``, ``regression``), the budget in seconds, the seed and the
output file. The output JSON holds the test predictions (labels as strings for classification), the class
probabilities when the system has them (columns in the order of ``classes``), the fit seconds and what the
system chose.

The ``autosklearn`` system runs with the Python of metaconf's auto-sklearn environment (Python 3.8 / 3.9,
scikit-learn 0.24, pandas 1.x), so this file uses nothing newer than Python 3.8 and imports no metaconf.
"""

from __future__ import annotations

import os

# Before numpy / scipy load: one BLAS / OpenMP thread (the harness sets them too; a direct call gets them here).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402


def _read(spec: dict[str, Any]) -> tuple[Any, Any, Any]:
    import pandas as pd

    train = pd.read_csv(spec["train"])
    test = pd.read_csv(spec["test"])
    target = spec["target"]
    y = train[target]
    if spec["task"] != "regression":
        y = y.map(_label)
    return train.drop(columns=[target]), y, test.drop(columns=[target])


def _label(value: Any) -> str:
    """A label as a string: ``1``, ``1.0`` and ``"1"`` are all ``"1"`` (the harness compares strings)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _text_columns(X: Any) -> list[str]:
    import pandas as pd

    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]


def _as_categories(X_train: Any, X_test: Any) -> tuple[Any, Any]:
    """Text columns as pandas categories with the training rows' categories (unseen test values become missing):
    auto-sklearn rejects object columns and a dtype that differs between fit and predict."""
    import pandas as pd

    X_train, X_test = X_train.copy(), X_test.copy()
    for column in _text_columns(X_train):
        dtype = pd.CategoricalDtype(sorted(X_train[column].dropna().astype(str).unique()))
        X_train[column] = X_train[column].map(lambda v: v if pd.isna(v) else str(v)).astype(dtype)
        X_test[column] = X_test[column].map(lambda v: v if pd.isna(v) else str(v)).astype(dtype)
    return X_train, X_test


def _as_strings(X: Any) -> Any:
    """Text columns as Python strings with None for missing values: what scikit-learn's OrdinalEncoder takes
    (pandas 3 reads text as its own string dtype)."""
    X = X.copy()
    for column in _text_columns(X):
        X[column] = X[column].astype(object).where(X[column].notna(), None).map(lambda v: v if v is None else str(v))
    return X


# ----------------------------------------------------------------------------------------------- systems
def fit_flaml(spec: dict[str, Any], X: Any, y: Any, X_test: Any) -> tuple[Any, dict[str, Any]]:
    from flaml import AutoML

    automl = AutoML()
    settings: dict[str, Any] = {
        "task": "regression" if spec["task"] == "regression" else "classification",
        "time_budget": spec["budget_s"],
        "n_jobs": 1,
        "seed": spec["seed"],
        "verbose": 0,
    }
    if spec.get("flaml_metric"):
        settings["metric"] = spec["flaml_metric"]
    automl.fit(X, y, **settings)
    info = {
        "best_estimator": automl.best_estimator,
        "best_config": automl.best_config,
        "metric": settings.get("metric", "auto"),
        "best_validation_loss": automl.best_loss,
    }
    return automl, info


def fit_random_forest(spec: dict[str, Any], X: Any, y: Any, X_test: Any) -> tuple[Any, dict[str, Any]]:
    """scikit-learn's random forest with its default hyperparameters; text columns ordinal-encoded (unseen
    values -1), missing numbers left to the forest (scikit-learn >= 1.4 splits on them)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    text = _text_columns(X)
    encode = ColumnTransformer(
        [
            (
                "text",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1),
                text,
            )
        ],
        remainder="passthrough",
    )
    forest_class = RandomForestRegressor if spec["task"] == "regression" else RandomForestClassifier
    forest = forest_class(n_jobs=1, random_state=spec["seed"])
    model = Pipeline([("encode", encode), ("forest", forest)])
    model.fit(X, y)
    return model, {"n_estimators": forest.n_estimators, "encoded_text_columns": len(text)}


def fit_autosklearn(spec: dict[str, Any], X: Any, y: Any, X_test: Any) -> tuple[Any, dict[str, Any]]:
    """auto-sklearn as it comes: only the budget, one job and the seed are set."""
    if spec["task"] == "regression":
        from autosklearn.regression import AutoSklearnRegressor as Estimator
    else:
        from autosklearn.classification import AutoSklearnClassifier as Estimator
    automl = Estimator(time_left_for_this_task=int(spec["budget_s"]), n_jobs=1, seed=int(spec["seed"]))
    automl.fit(X, y)
    statistics = automl.sprint_statistics()
    return automl, {"statistics": statistics, "models_in_ensemble": len(automl.get_models_with_weights())}


SYSTEMS = {"flaml": fit_flaml, "random_forest": fit_random_forest, "autosklearn": fit_autosklearn}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    system = spec["system"]
    X, y, X_test = _read(spec)
    if system == "autosklearn":
        X, X_test = _as_categories(X, X_test)
    elif system == "random_forest":
        X, X_test = _as_strings(X), _as_strings(X_test)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, info = SYSTEMS[system](spec, X, y, X_test)
        fit_s = time.perf_counter() - started
        predictions = list(model.predict(X_test))
        proba: list[list[float]] | None = None
        classes: list[str] | None = None
        if spec["task"] != "regression" and hasattr(model, "predict_proba"):
            proba = [[float(p) for p in row] for row in model.predict_proba(X_test)]
            classes = [_label(c) for c in model.classes_]
    if spec["task"] == "regression":
        out_predictions: list[Any] = [float(p) for p in predictions]
    else:
        out_predictions = [_label(p.item() if hasattr(p, "item") else p) for p in predictions]
    return {
        "system": system,
        "predictions": out_predictions,
        "proba": proba,
        "classes": classes,
        "fit_s": round(fit_s, 3),
        "info": json.loads(json.dumps(info, default=str)),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: peers_driver.py SPEC.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    result = run(spec)
    tmp = spec["output"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(tmp, spec["output"])
    return 0


if __name__ == "__main__":  # auto-sklearn's dask workers re-import this module
    sys.exit(main(sys.argv[1:]))
