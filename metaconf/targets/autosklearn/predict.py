"""Predict with a model an auto-sklearn run saved: in auto-sklearn's own environment, as the run fitted it.

auto-sklearn 0.15's estimator unpickles only next to scikit-learn 0.24 and auto-sklearn itself, so metaconf
prepares the features the way the run did (:func:`~metaconf.targets.autosklearn.runner.worker_features`),
writes them to a temporary CSV, and starts the worker (``metaconf_worker.py --predict``) with the
environment's Python; the worker writes the probabilities (or values), and metaconf turns probabilities into
labels with the run's decision rule: the most probable class, or for ``expected_cost`` the class with the
lowest expected cost under the cost matrix (the rule the run's test score used).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metaconf.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from metaconf.targets.saved_model import SavedModel, Threshold


def predict_in_env(
    saved: SavedModel, X: pd.DataFrame, *, proba: bool
) -> tuple[Any, Any, list[Any] | None, Threshold | None]:
    """(labels or values, probabilities or None, classes, binary decision threshold) for the rows of ``X``."""
    import numpy as np
    import pandas as pd

    from metaconf.data.labels import label_array
    from metaconf.targets.autosklearn.environment import ready_env, worker_environment, worker_source
    from metaconf.targets.autosklearn.runner import worker_features
    from metaconf.targets.preprocess import ColumnDecision
    from metaconf.targets.saved_model import Threshold, bayes_threshold

    schema = saved.schema
    env = ready_env()
    decisions = [ColumnDecision(c.name, c.kind, "") for c in schema.columns]
    features, kinds, _ = worker_features(decisions, X)
    classification = schema.task_type == "classification"
    with tempfile.TemporaryDirectory(prefix="metaconf-predict-") as folder:
        work = Path(folder)
        features.to_csv(work / "features.csv", index=False)
        request = {
            "model": str(Path(saved.model).resolve()),
            "data": str(work / "features.csv"),
            "columns": kinds,
            "task_type": schema.task_type,
            "classes": schema.classes,
            "output": str(work / "predictions.csv"),
        }
        (work / "request.json").write_text(json.dumps(request), encoding="utf-8")
        with (work / "worker.log").open("w", encoding="utf-8") as log:
            completed = subprocess.run(
                [str(env.python), str(worker_source()), "--predict", str(work / "request.json")],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=folder,
                env=worker_environment(),
                check=False,
            )
        events = _events(completed.stdout)
        if completed.returncode != 0 or not any(e.get("event") == "result" for e in events):
            errors = [str(e.get("message")) for e in events if e.get("event") == "error"]
            reason = (
                errors[0]
                if errors
                else _tail((work / "worker.log").read_text(encoding="utf-8", errors="replace"))
            )
            raise UsageError(
                f"auto-sklearn could not predict with `{saved.model}`: {reason}",
                "`metaconf backends doctor` checks auto-sklearn's environment; a model saved by another "
                "auto-sklearn version needs `metaconf run CONFIG --save-model` again",
            )
        output = pd.read_csv(work / "predictions.csv")
    if not classification:
        return output["prediction"].to_numpy(dtype=float), None, None, None
    assert schema.classes is not None
    labels = schema.labels()
    assert labels is not None
    probabilities = np.column_stack([output[f"proba:{key}"].to_numpy(dtype=float) for key in schema.classes])
    if schema.cost_matrix is not None:
        index = np.argmin(probabilities @ np.asarray(schema.cost_matrix, dtype=float), axis=1)
    else:
        index = np.argmax(probabilities, axis=1)
    predicted = label_array(labels)[index]
    threshold: Threshold | None = None
    if len(labels) == 2:
        threshold = (
            bayes_threshold(schema.cost_matrix, labels)
            if schema.cost_matrix is not None
            else Threshold(0.5, labels[1], "the most probable class")
        )
    return predicted, probabilities if proba else None, labels, threshold


def _events(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:400] if lines else "the worker ended without a message"
