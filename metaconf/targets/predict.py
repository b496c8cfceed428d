"""Predicting new rows with the model a run saved, for either tool: a SMAC run's scikit-learn pipeline in this
process (:mod:`metaconf.targets.saved_model`), an auto-sklearn ensemble in auto-sklearn's own environment
(:mod:`metaconf.targets.autosklearn.predict`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from metaconf.errors import UsageError
from metaconf.targets.autosklearn.predict import predict_in_env
from metaconf.targets.saved_model import (
    Predictions,
    SavedModel,
    assemble_predictions,
    check_columns,
    load_saved_model,
    predict_sklearn,
)

if TYPE_CHECKING:
    import pandas as pd


def predict(
    run: SavedModel | str | Path, frame: pd.DataFrame, *, proba: bool = False, source: str = "the data"
) -> Predictions:
    """Predict ``frame`` (the columns of the training file) with the model a run saved (``run``: its
    directory, or the model :func:`load_saved_model` loaded).

    Raises :class:`UsageError` when the run has no loadable model, the columns do not match the training
    schema, or ``proba`` is asked of a regression model or one without probabilities.
    """
    saved = run if isinstance(run, SavedModel) else load_saved_model(run)
    schema = saved.schema
    if proba and schema.task_type != "classification":
        raise UsageError("--proba needs a classification model; this run is a regression", "drop --proba")
    if len(frame) == 0:
        raise UsageError(f"`{source}` has no rows", "pass a file with at least one row to predict")
    X, notes = check_columns(frame, schema, source)
    if schema.tool == "auto-sklearn":
        labels, probabilities, classes, threshold = predict_in_env(saved, X, proba=proba)
    else:
        labels, probabilities, classes, threshold = predict_sklearn(saved, X, proba=proba)
    return assemble_predictions(schema, labels, probabilities, classes, threshold, saved.notes + notes)
