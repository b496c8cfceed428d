"""Adapters from the other modules' results to the rule advisor's inputs: the description parser's facts to
:class:`~metaconf.advise.envelope.DescriptionHints`, the probe's timings to a
:class:`~metaconf.advise.envelope.CostModel`, the search space's shape per family."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from metaconf.advise.envelope import SHRINK_RANGE, CostModel, DescriptionHints
from metaconf.config.model import CostMatrix, Metric, ModelFamily

# ---------------------------------------------------------------------------------------------------------------
# Adapters from the other modules' results to the advisor's inputs
# ---------------------------------------------------------------------------------------------------------------


def description_hints(facts: Any) -> DescriptionHints:
    """Reduce :class:`metaconf.advise.describe.DescriptionFacts` to what the rules use."""
    matrix: CostMatrix | None = None
    matrix_evidence: str | None = None
    if facts.cost_matrix is not None:
        cm = facts.cost_matrix
        matrix = CostMatrix(labels=list(cm.labels), costs=[list(row) for row in cm.costs])
        matrix_evidence = _quote(cm.evidence.text)
    metric: Metric | None = None
    metric_evidence: str | None = None
    for strength in ("explicit", "mention"):
        hint = next((h for h in facts.metric_hints if h.strength == strength), None)
        if hint is not None and metric is None:
            try:
                metric = Metric(hint.metric)
            except ValueError:
                continue
            metric_evidence = _quote(hint.evidence.text)
    positive = None if facts.positive_class is None else str(facts.positive_class.value)
    interpretable = bool(facts.wants_interpretability)
    return DescriptionHints(
        cost_matrix=matrix,
        cost_matrix_evidence=matrix_evidence,
        metric=metric,
        metric_evidence=metric_evidence,
        positive_label=positive,
        interpretable=interpretable,
        interpretable_evidence=_quote(facts.interpretability.evidence.text) if interpretable else None,
        time_limit_s=facts.time_limit_s,
        time_limit_evidence=next(
            (_quote(limit.evidence.text) for limit in facts.time_limits if limit.scope == "total"), None
        ),
        imbalance=bool(facts.mentions_imbalance),
    )


def _quote(text: str) -> str:
    """The most sentence-like part of an evidence block (a cost table's explanation rather than its digits)."""
    lines = [line.strip() for line in text.splitlines() if sum(c.isalpha() for c in line) >= 12]
    return clip_text(" ".join(lines) if lines else text, 100)


def space_shape(families: Sequence[ModelFamily], task_type: str) -> dict[ModelFamily, tuple[int, int]]:
    """(hyperparameters, categorical ones) per built-in family, from the space specs (no ConfigSpace import)."""
    from metaconf.space.builtin import model_spec

    out: dict[ModelFamily, tuple[int, int]] = {}
    for family in families:
        hps = model_spec(family, task_type).hyperparameters
        searched = [h for h in hps if h.kind != "constant"]
        out[family] = (len(searched), sum(h.kind == "categorical" for h in searched))
    return out


def cost_model_from_probe(
    result: Any, *, n_rows: int, measured: bool, reference: Any | None = None
) -> CostModel:
    """A :class:`CostModel` from :class:`metaconf.profile.probe.ProbeResult` (measured or modelled).

    The probe reports seconds per full evaluation per family at ``resampling_folds=1`` (one fit on all rows
    and its scoring) and, when it fitted a power law, the exponent; the advisor scales those to the rows and
    folds of each resampling strategy itself.
    """
    per_family = getattr(result, "families", None) or getattr(result, "per_family", None) or {}
    seconds: dict[str, float] = {}
    exponents: dict[str, float] = {}
    for name, item in dict(per_family).items():
        key = getattr(name, "value", name)
        value = item if isinstance(item, (int, float)) else getattr(item, "seconds", None)
        if value is None:
            value = getattr(item, "full_seconds", None)
        if value is None:
            continue
        seconds[str(key)] = max(float(value), 1e-4)
        exponent = _one_fit_slope(item, getattr(result, "rows", 0)) or getattr(item, "exponent", None)
        if isinstance(exponent, (int, float)) and 0.3 <= exponent <= 3.0:
            exponents[str(key)] = float(exponent)
    factor = 1.0
    if measured and reference is not None:
        seconds, factor = _shrink_to_reference(result, reference, seconds)
    rows = int(getattr(result, "rows", 0) or getattr(result, "n_rows", 0) or n_rows)
    probe_seconds = float(getattr(result, "cpu_s", 0.0) or getattr(result, "walltime_s", 0.0) or 0.0)
    method = str(getattr(result, "method", "") or ("probe" if measured else "cost model"))
    return CostModel(
        fit_seconds=seconds,
        rows=rows,
        exponent=exponents,
        source=method,
        probe_seconds=probe_seconds if measured else 0.0,
        machine_factor=factor,
    )


def probe_costs(
    dataset: Any, profile: Any, families: Sequence[str], *, task_type: str, limit_s: float, seed: int
) -> tuple[Any, CostModel]:
    """R2 as `metaconf suggest` applies it: the probe (:func:`metaconf.profile.probe.probe_trial_cost`, one fit
    per family on all rows, CPU time limited to ``limit_s``) and the costs the advisor takes from it (the cost
    model for ``profile`` x this machine's factor, moved towards each measurement)."""
    import warnings

    from metaconf.profile.probe import estimate_trial_cost, probe_trial_cost

    names = [getattr(f, "value", f) for f in families]
    with warnings.catch_warnings():
        # default configurations may not converge on a subsample; the run reports what matters
        warnings.simplefilter("ignore")
        result = probe_trial_cost(
            dataset, task_type=task_type, families=names, resampling_folds=1, time_limit_s=limit_s, seed=seed
        )
    reference = estimate_trial_cost(profile, names, 1)
    return result, cost_model_from_probe(result, n_rows=len(dataset.y), measured=True, reference=reference)


def _one_fit_slope(item: Any, rows: int) -> float | None:
    """The row exponent of a family the probe fitted once: the slope from that fit to its extrapolation on all
    ``rows`` (along the cost model's curve, fixed part included). The probe reports the model's pure power-law
    ``b`` there, steeper than that curve on small data (SVM on breast cancer: 2.06 where the curve through a
    284-row fit rises at 0.92): scaled down to an evaluation's 64 % of the rows with it, the family cost 1.6x less
    when the probe's limit allowed one fit than when it allowed two. None for a family fitted more than once or not
    at all (its ``exponent`` stands)."""
    from metaconf.profile.probe import EXPONENT_RANGE

    measurements = list(getattr(item, "measurements", None) or [])
    fit_seconds = float(getattr(item, "fit_seconds", 0.0) or 0.0)
    if getattr(item, "source", "") == "cost model" or len(measurements) != 1 or fit_seconds <= 0:
        return None
    [(fitted_rows, fitted_seconds)] = measurements
    if fitted_rows >= rows or fitted_seconds <= 0:
        return None
    slope = math.log(fit_seconds / fitted_seconds) / math.log(rows / fitted_rows)
    return min(max(slope, EXPONENT_RANGE[0]), EXPONENT_RANGE[1])


def _shrink_to_reference(
    result: Any, reference: Any, seconds: Mapping[str, float]
) -> tuple[dict[str, float], float]:
    """R2: combine the probe with the cost model. The machine factor is the median ratio measured / modelled
    over the families the probe really measured; each family's cost is the model's x that factor, moved
    towards its own measurement by at most ``SHRINK_RANGE`` either way. A family the probe could not measure
    (time limit, failed fit) has no measurement to move towards: its cost is the model's x the factor (its raw
    model value would be the reference machine's seconds, up to 10x off on this one).

    The seconds the probe spent encoding categorical and datetime columns (``encoding_seconds``, measured on
    this machine, the same for every family) are taken out before the ratio and added back after the factor:
    the model was calibrated on numeric data, and on German credit the encoding made the cheap families look
    5x slower than the model and the factor 7-9x where the machine ran 2x."""
    from metaconf.profile.probe import without_encoding

    encoding = float(getattr(result, "encoding_seconds", 0.0) or 0.0)
    ratios: dict[str, float] = {}
    unmeasured = {
        str(name) for name, item in result.families.items() if getattr(item, "source", "") == "cost model"
    }
    for name, item in result.families.items():
        model = reference.families.get(name)
        if model is None or str(name) in unmeasured or model.seconds <= 0:
            continue
        ratios[str(name)] = without_encoding(float(item.seconds), encoding) / float(model.seconds)
    if not ratios:
        return dict(seconds), 1.0
    ordered = sorted(ratios.values())
    middle = len(ordered) // 2
    factor = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    factor = max(0.1, factor)
    out: dict[str, float] = {}
    for name, value in seconds.items():
        model = reference.families.get(name)
        if model is None:
            out[name] = value
            continue
        expected = float(model.seconds) * factor + encoding
        if name in unmeasured:
            out[name] = expected
            continue
        out[name] = min(max(value, expected / SHRINK_RANGE), expected * SHRINK_RANGE)
    return out, factor


def clip_text(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 3]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(",;:") + "..."
