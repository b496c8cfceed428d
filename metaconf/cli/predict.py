"""`metaconf predict RUN_DIR DATA`: predict new rows with the model a run saved (`metaconf run --save-model`).

DATA is read the way `metaconf run` reads its data (CSV, TSV, Parquet, ARFF). Its columns are checked against
the training columns recorded in ``RUN_DIR/model.json``: a missing column stops with exit 2 and names it; an
extra column (the target, an id, anything the model did not learn from) is ignored and named on stderr, as
scikit-learn's ``ColumnTransformer`` does. The output is CSV, one row per input row in input order: the
prediction in a column named after the target; with ``--proba`` one ``proba_<class>`` column per class and,
for a binary task, ``threshold_<positive class>``, the probability from which that class is predicted.

Exit codes: 0 predictions written, 2 bad input (no run directory, no saved model, an unloadable model file,
columns that do not match, an existing output file without --force), with one message on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from metaconf.cli.common import ForceOption, cli_errors
from metaconf.errors import UsageError

BINARY_SUFFIXES = (".parquet", ".pq", ".arff", ".xlsx", ".json")


@cli_errors
def predict(
    run_dir: Annotated[
        Path,
        typer.Argument(help="A run directory written by `metaconf run --save-model`.", show_default=False),
    ],
    data: Annotated[
        Path,
        typer.Argument(
            help="The rows to predict: CSV, TSV, Parquet or ARFF with the training columns.",
            show_default=False,
        ),
    ],
    *,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the predictions to this CSV file (default: stdout)."),
    ] = None,
    proba: Annotated[
        bool,
        typer.Option(
            "--proba",
            help="Add one probability column per class (and the decision threshold of a binary task).",
        ),
    ] = False,
    force: ForceOption = False,
) -> None:
    """Predict new rows with the model a run saved: one output row per input row, in input order."""
    from rich.console import Console
    from rich.markup import escape

    from metaconf.data.load import DataError, _read_table
    from metaconf.io import atomic_write_text
    from metaconf.targets.predict import predict as predict_rows
    from metaconf.targets.saved_model import load_saved_model

    if output is not None:
        if output.suffix.lower() in BINARY_SUFFIXES:
            raise UsageError(f"`{output}`: predict writes CSV", "give a file name ending in .csv")
        if output.exists() and not force:
            raise UsageError(
                f"`{output}` already exists", "pass --force to overwrite it, or choose another path"
            )
    saved = load_saved_model(run_dir)  # a missing run or model is reported before the data is read
    if not data.exists():
        raise DataError(f"the data file `{data}` does not exist", "pass the CSV / Parquet file to predict")
    if data.is_dir():
        raise DataError(f"the data path `{data}` is a directory", "pass a CSV or Parquet file")
    frame = _read_table(data)
    result = predict_rows(saved, frame, proba=proba, source=str(data))
    text = result.frame.to_csv(index=False, lineterminator="\n")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for note in result.notes:
        err.print(f"[dim]note:[/] {escape(note)}")
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write_text(output, text, force=force)
    err.print(f"wrote {len(result.frame)} predictions to {escape(str(output))}")
