"""Which of the evaluated configurations a run keeps: the search's lowest validation cost, unless it is lower than
an earlier configuration's by less than the noise of the estimate (``resampling.selection_margin``).

The lowest of hundreds of validation costs is optimistic: on a few thousand rows, differences between the best
configurations are of the order of the estimate's standard error, so the minimum is partly the configuration
that the validation rows happened to favour (Cawley & Talbot 2010, "On over-fitting in model selection", JMLR
11). The rule here walks the configurations in the order the search evaluated them and lets a configuration
replace the one kept only when its cost is lower by more than ``margin`` standard errors of the kept one's
estimate, as the one-standard-error rule keeps the simpler model unless a more complex one is clearly better
(Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 2nd ed., section 7.10). Earlier
configurations (each family's default, the initial design) were chosen with less selection pressure, so an
improvement that the noise could explain does not displace them. With ``margin`` 0 the rule keeps the lowest
cost (SMAC's incumbent when every configuration ran once).

The standard error is the metric's, for ``n`` validation rows (every search row once with CV, the holdout rows
otherwise), from the cost alone, so it needs nothing the search did not record. Where the cost alone does not
fix it, it is the smallest the cost allows, so the rule leaves the lowest cost only when even that noise
explains the gap:

- accuracy, balanced accuracy, F1, ROC AUC (costs in [0, 1]): ``sqrt(c (1 - c) / n)``, the binomial error of
  an error rate (exact for accuracy; the other three are noisier than an error rate);
- expected cost: ``sqrt(c (m - c) / n)`` with ``m`` the smallest cost of an error in the matrix (each row
  costs 0 or at least ``m``, so a row's squared cost is at least ``m`` times its cost; 0 once ``c >= m``);
- log loss: ``c / sqrt(n)`` (per-row log losses spread about as widely as their mean);
- RMSE: ``c / sqrt(2 n)``; MAE: ``0.76 c / sqrt(n)``; ``1 - R²``: ``c sqrt(2 / n)`` (normal residuals; heavier
  tails spread more).

``benchmarks/README-peers.md`` has what the rule changed on the peer benchmark, and ``docs/run.md`` (How the
final configuration is chosen) what a user sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metaconf.targets.metrics import MetricSpec

_MAE_SPREAD = math.sqrt(math.pi / 2 - 1)
"""sd(|e|) / mean(|e|) for normal residuals e."""


@dataclass(frozen=True)
class Candidate:
    """One evaluated configuration: its key (SMAC's config id), validation cost, and when it was evaluated."""

    key: Any
    cost: float
    order: float
    """Sort key of the evaluation's position (SMAC's end time of the configuration's first full trial)."""


@dataclass(frozen=True)
class Selection:
    kept: Candidate
    lowest: Candidate
    margin: float
    """How much lower, in cost units, ``lowest`` would have had to be than ``kept`` to replace it."""

    @property
    def moved(self) -> bool:
        """Did the rule keep a configuration other than the lowest-cost one?"""
        return self.kept.key != self.lowest.key


def full_budget_candidates(trials: Iterable[tuple[Any, float | None, float, float]]) -> list[Candidate]:
    """The configurations to choose from, given the successful trials as ``(config key, budget, cost, end
    time)``: those evaluated at the highest budget (``None``: full fidelity), each with its mean cost there and
    the end time of its first trial there."""
    rows = [row for row in trials if math.isfinite(row[2])]
    budgets = {row[1] for row in rows}
    highest = None if None in budgets or not budgets else max(b for b in budgets if b is not None)
    costs: dict[Any, list[float]] = {}
    first: dict[Any, float] = {}
    for key, budget, cost, ended in rows:
        if budget == highest:
            costs.setdefault(key, []).append(cost)
            first[key] = min(first.get(key, math.inf), ended)
    return [Candidate(key, math.fsum(values) / len(values), first[key]) for key, values in costs.items()]


def standard_error(metric: MetricSpec, cost: float, n_rows: int) -> float:
    """The standard error of a validation cost ``cost`` of ``metric`` measured on ``n_rows`` rows (see the
    module docstring); 0 for a non-finite cost or no rows."""
    if n_rows <= 0 or not math.isfinite(cost):
        return 0.0
    c = max(float(cost), 0.0)
    name = metric.name
    if name == "expected_cost":
        errors = [entry for row in metric.cost_matrix or () for entry in row if entry > 0]
        smallest = min(errors, default=1.0)
        return math.sqrt(max(c * (smallest - c), 0.0) / n_rows)
    if name in ("accuracy", "balanced_accuracy", "f1", "roc_auc"):
        c = min(c, 1.0)
        return math.sqrt(c * (1.0 - c) / n_rows)
    if name == "log_loss":
        return c / math.sqrt(n_rows)
    if name == "rmse":
        return c / math.sqrt(2 * n_rows)
    if name == "mae":
        return _MAE_SPREAD * c / math.sqrt(n_rows)
    if name == "r2":
        return c * math.sqrt(2 / n_rows)
    raise ValueError(f"no standard error for the metric {name!r}")


def evaluation_order(candidates: Iterable[Candidate]) -> list[Candidate]:
    """``candidates`` in the order the search evaluated them (equal times: the lower cost first)."""
    return sorted(candidates, key=lambda c: (c.order, c.cost))


def select(candidates: Sequence[Candidate], *, margin: float, metric: MetricSpec, n_rows: int) -> Selection:
    """Keep the first evaluated candidate, then each later one whose cost is lower than the kept one's by more
    than ``margin`` x :func:`standard_error` of the kept one's cost. ``candidates`` must not be empty."""
    if not candidates:
        raise ValueError("no configuration to select from")
    if margin < 0:
        raise ValueError(f"the selection margin must be >= 0; got {margin}")
    ordered = evaluation_order(candidates)
    lowest = min(ordered, key=lambda c: (c.cost, c.order))
    kept = ordered[0]
    for candidate in ordered[1:]:
        if candidate.cost < kept.cost - margin * standard_error(metric, kept.cost, n_rows):
            kept = candidate
    return Selection(kept, lowest, margin * standard_error(metric, kept.cost, n_rows))
