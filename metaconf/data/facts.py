"""The few data facts lint rules and the compiler need (the full profile lives in ``metaconf.profile``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from metaconf.data.load import Dataset


@dataclass(frozen=True)
class DataFacts:
    n_rows: int
    n_features: int
    columns: tuple[str, ...]
    target: str
    task_type: str
    class_counts: dict[str, int] = field(default_factory=dict)
    n_numeric: int = 0
    n_categorical: int = 0
    missing_ratio: float = 0.0
    task_type_reason: str = ""
    """What in the target decided ``task_type`` (:mod:`metaconf.data.task_type`)."""

    @property
    def n_classes(self) -> int:
        return len(self.class_counts)

    @property
    def min_class_count(self) -> int:
        return min(self.class_counts.values()) if self.class_counts else 0

    @classmethod
    def of(cls, dataset: Dataset) -> DataFacts:
        import pandas as pd

        X, y = dataset.X, dataset.y
        numeric = sum(pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c]) for c in X.columns)
        counts = (
            {str(k): int(v) for k, v in y.value_counts().items()} if dataset.task_type == "classification" else {}
        )
        cells = X.shape[0] * X.shape[1]
        return cls(
            n_rows=int(X.shape[0]),
            n_features=int(X.shape[1]),
            columns=tuple(str(c) for c in X.columns),
            target=str(y.name),
            task_type=dataset.task_type,
            class_counts=counts,
            n_numeric=int(numeric),
            n_categorical=int(X.shape[1] - numeric),
            missing_ratio=float(X.isna().sum().sum() / cells) if cells else 0.0,
            task_type_reason=dataset.task_type_reason,
        )
