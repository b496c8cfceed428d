"""Repeatable trial costs: the probe's measurements enter the advice on a coarse grid, with hysteresis.

The probe times real fits, and timings vary from one run of `suggest` to the next. Fed straight into the
advice, that noise changed ``n_trials``, the expected trial counts and the seconds in the comments on every
rerun. So every measured quantity the advice uses (each family's seconds per fit, its row exponent, the machine
factor, the probe's own walltime) is put on a grid before the advice sees it, and every number written into
the config derives from the grid values:

- **seconds and factors** on a log grid of :data:`STEPS_PER_DECADE` steps per decade (each step ~21 %), each
  grid value rounded to 3 significant digits so that it survives being written to YAML and read back;
- **exponents** on a linear grid of :data:`EXPONENT_STEP`.

A grid alone flips a value that sits near the midpoint between two grid points. The hysteresis needs the
previous answer: when `suggest` overwrites a config it wrote earlier for the same data, the values recorded
there (``provenance.inputs.probe``) are kept while the new measurement stays within :data:`HYSTERESIS_STEPS`
grid steps of them (~47 % for seconds); a real change (a machine twice as slow or fast: 3.6 steps, other
data) moves the value to the grid point nearest the new measurement. A family the probe could not measure this
time (its time limit) has no new measurement to move it: it keeps its recorded value while the machine factor
does. The raw measurements stay in `metaconf profile --probe`.

The hysteresis holds against ordinary noise, not against a host so saturated that the CPU time of a fit itself
moves by more than two grid steps (cache and frequency effects of other tenants' jobs). So when the config being
overwritten was measured on this machine (:func:`machine_identity`: CPU model, CPUs, Python, scikit-learn and
LightGBM versions), for the same data, task and families, with the same probe limit, `suggest` does not measure
again: it reuses the recorded costs (:func:`reused_costs`), and the rerun writes the same file whatever the load.
`suggest --reprobe` measures again (the hysteresis then applies); another machine class, other data, another
task or budget (the probe's limit is a share of it) measure again by themselves.

The same holds for a rerun into another file, or after the config was deleted: every probe's grid values are
also kept in a small cache (:func:`probe_cache_dir`, ``~/.cache/metaconf/probes``; one JSON file per data,
machine, task, families and limit), consulted when the config being overwritten has none. Set
``METACONF_PROBE_CACHE=off`` to never read or write it, or to a directory to keep it elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

STEPS_PER_DECADE = 12
"""The log grid of seconds and factors: 10 ** (k / 12), ~21 % apart."""
EXPONENT_STEP = 0.25
"""The grid of row exponents."""
EXPONENT_HYSTERESIS = 0.75
"""A recorded exponent is kept while a new one is at most this far from it. An exponent is the ratio of two
timings over a 2x range of rows, so a 1.4x timing noise on one of them moves it by 0.5 (the linear model on
titanic: 1.04-1.67 over 10 runs); with the seconds anchored at :data:`ANCHOR_SHARE` of the rows, 0.75 moves an
evaluation's cost by at most 18 % (the final refit on 80 % of the rows; a holdout on 53 %: 13 %)."""
ANCHOR_SHARE = 0.64
"""The seconds per fit are put on the grid at this share of the rows: what a 5-fold CV fit sees after the 20 %
test split (a holdout or 3-fold fit sees 53 %, the final refit 80 %). Near the 50 % subsample the probe fits
first on small data, the value barely depends on whether its limit allowed the fit on all rows too."""
HYSTERESIS_STEPS = 2
"""A recorded grid value is kept while a new measurement is at most this many grid steps away from it."""
GRID = (
    f"log grid of {STEPS_PER_DECADE} steps per decade, hysteresis {HYSTERESIS_STEPS} steps; exponents "
    f"{EXPONENT_STEP:g} apart, hysteresis {EXPONENT_HYSTERESIS:g}"
)
"""Recorded next to the values: a config written with another grid is not reused."""


def grid_value(index: int) -> float:
    """The ``index``-th point of the log grid (1.0 at 0), to 3 significant digits."""
    return float(f"{10 ** (index / STEPS_PER_DECADE):.3g}")


def _position(value: float) -> float:
    """Where ``value`` sits on the log grid, in steps (fractional)."""
    return STEPS_PER_DECADE * math.log10(value)


def snap(value: float, previous: float | None = None) -> float:
    """``value`` (> 0) on the log grid: ``previous`` (a grid value) while ``value`` is within
    :data:`HYSTERESIS_STEPS` of it, else the grid point nearest ``value`` in log space. 0 stays 0."""
    if value <= 0:
        return 0.0
    position = _position(value)
    if previous is not None and previous > 0:
        kept = round(_position(previous))
        if abs(position - kept) <= HYSTERESIS_STEPS:
            return grid_value(kept)
    return grid_value(round(position))


def snap_exponent(value: float, previous: float | None = None) -> float:
    """``value`` on the linear grid of :data:`EXPONENT_STEP`: ``previous`` while ``value`` is within
    :data:`EXPONENT_HYSTERESIS` of it, else the nearest grid point."""
    if previous is not None and abs(value - previous) <= EXPONENT_HYSTERESIS:
        return previous
    return round(round(value / EXPONENT_STEP) * EXPONENT_STEP, 4)


def previous_probe(path: Path | None, fingerprint: Mapping[str, Any], rows: int) -> dict[str, Any]:
    """The repeatable costs recorded in the config at ``path`` (``provenance.inputs.probe``), when it was written
    by `suggest` for the same data (``fingerprint`` and the data's ``rows``) on the same grid; else ``{}``. A
    file that is not such a config is ignored: it is only a hint for the hysteresis."""
    if path is None or not path.is_file():
        return {}
    from metaconf.config.loader import LoadError, load_file

    try:  # the same limits as every config metaconf reads: size, aliases, tags
        document = load_file(path).data
        inputs = document["provenance"]["inputs"]
        probe = inputs["probe"]
        same_data = inputs["dataset"] == dict(fingerprint) and int(inputs["data"]["rows"]) == rows
    except (LoadError, OSError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return {}
    if not same_data or not isinstance(probe, dict) or probe.get("grid") != GRID:
        return {}
    return probe


def _number(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _numbers(record: Mapping[str, Any], key: str) -> dict[str, float]:
    values = record.get(key)
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def repeatable_costs(model: Any, measured: set[str], previous: Mapping[str, Any]) -> Any:
    """``model`` (a :class:`metaconf.advise.rules.CostModel` from the probe) with every measured quantity on the
    grid, kept at ``previous`` (:func:`previous_probe`) within the hysteresis; its seconds per fit are those at
    :data:`ANCHOR_SHARE` of the rows. ``measured``: the families the probe timed this time (the others rest on
    the cost model x the machine factor)."""
    from dataclasses import replace

    anchor = max(1, round(ANCHOR_SHARE * model.rows))
    old_factor = _number(previous, "machine_factor")
    factor = snap(model.machine_factor, old_factor)
    factor_kept = old_factor is not None and factor == old_factor
    old_seconds = _numbers(previous, "seconds_per_fit")
    old_exponents = _numbers(previous, "exponent")
    seconds: dict[str, float] = {}
    exponents: dict[str, float] = {}
    for name in model.fit_seconds:
        # no new measurement to move a recorded value while the machine factor stands
        keep = name not in measured and factor_kept
        old = old_seconds.get(name)
        seconds[name] = old if keep and old is not None else snap(model.seconds(name, anchor), old)
        old = old_exponents.get(name)
        if name in model.exponent:
            exponents[name] = old if keep and old is not None else snap_exponent(model.exponent[name], old)
    return replace(
        model,
        fit_seconds=seconds,
        rows=anchor,
        exponent=exponents,
        machine_factor=factor,
        probe_seconds=snap(model.probe_seconds, _number(previous, "probe_seconds")),
    )


def probe_record(
    model: Any, *, machine: str | None = None, limit_s: float | None = None, task_type: str | None = None
) -> dict[str, Any]:
    """What :func:`previous_probe` reads back: the grid values the advice used and the grid; with ``machine``
    (:func:`machine_identity`), ``limit_s`` (the probe's CPU-seconds limit) and ``task_type``, what
    :func:`reused_costs` checks before it reuses them."""
    record: dict[str, Any] = {"grid": GRID}
    if machine is not None:
        record["machine"] = machine
    if limit_s is not None:
        record["limit_s"] = float(f"{limit_s:.4g}")
    if task_type is not None:
        record["task_type"] = task_type
    record.update(
        {
            "machine_factor": model.machine_factor,
            "probe_seconds": model.probe_seconds,
            "seconds_per_fit": dict(sorted(model.fit_seconds.items())),
            "exponent": dict(sorted(model.exponent.items())),
        }
    )
    return record


def _cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what :func:`platform.processor` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                    return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "absent"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_identity() -> str:
    """What the probe's timings depend on besides the data: the machine class (architecture, CPU model, the CPUs
    this process may use) and the code that fits (Python, scikit-learn, LightGBM). Recorded with the costs; a
    config measured under another identity is not reused (:func:`reused_costs`)."""
    return (
        f"{platform.machine() or 'unknown'}, {_cpu_model()}, {usable_cpus()} CPUs; Python {platform.python_version()}, "
        f"scikit-learn {_version('scikit-learn')}, lightgbm {_version('lightgbm')}"
    )


def reused_costs(
    previous: Mapping[str, Any], *, rows: int, families: Sequence[str], limit_s: float, task_type: str
) -> Any | None:
    """The :class:`metaconf.advise.rules.CostModel` recorded in ``previous`` (:func:`previous_probe`: same data,
    same grid) when it was measured on this machine (:func:`machine_identity`) for ``task_type`` with the probe
    limit ``limit_s`` and holds a cost for exactly ``families`` (the probe's limit is shared among them): exactly the model the first run advised
    with, so the rerun writes the same file. None when any of that differs or the record is incomplete."""
    from metaconf.advise.envelope import CostModel

    if (
        previous.get("machine") != machine_identity()
        or previous.get("task_type") != task_type
        or _number(previous, "limit_s") != float(f"{limit_s:.4g}")
    ):
        return None
    seconds, exponents = _numbers(previous, "seconds_per_fit"), _numbers(previous, "exponent")
    factor, probe_seconds = _number(previous, "machine_factor"), _number(previous, "probe_seconds")
    method = previous.get("method")
    if (
        set(seconds) != set(families)
        or not all(math.isfinite(value) and value > 0 for value in seconds.values())
        or not all(math.isfinite(value) and 0 < value <= 10 for value in exponents.values())
        or factor is None
        or not (math.isfinite(factor) and factor > 0)
        or probe_seconds is None
        or not (math.isfinite(probe_seconds) and probe_seconds >= 0)
        or not isinstance(method, str)
    ):
        return None
    return CostModel(
        fit_seconds=seconds,
        rows=max(1, round(ANCHOR_SHARE * rows)),
        exponent=exponents,
        source=method,
        probe_seconds=probe_seconds,
        machine_factor=factor,
    )


PROBE_CACHE_ENV = "METACONF_PROBE_CACHE"
"""Where the probe cache lives (a directory), or ``off`` to never read or write it."""


def probe_cache_dir() -> Path | None:
    """The probe cache's directory: ``$METACONF_PROBE_CACHE`` (None when it is ``off``, ``0``, ``no`` or empty),
    else ``$XDG_CACHE_HOME/metaconf/probes`` (``~/.cache/metaconf/probes``)."""
    value = os.environ.get(PROBE_CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "no", "false") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "metaconf" / "probes"


def probe_cache_key(
    fingerprint: Mapping[str, Any], *, rows: int, task_type: str, families: Sequence[str], limit_s: float
) -> str | None:
    """The cache entry's name for this data (``fingerprint``: a file's sha256, or a demo's name), machine,
    task, families and probe limit; None when the data has no content hash (a file too large to hash)."""
    if fingerprint.get("source") != "demo" and not fingerprint.get("sha256"):
        return None
    payload = {
        "dataset": dict(fingerprint),
        "rows": rows,
        "task_type": task_type,
        "families": sorted(families),
        "limit_s": float(f"{limit_s:.4g}"),
        "machine": machine_identity(),
        "grid": GRID,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:24]


def cached_probe(key: str | None) -> dict[str, Any]:
    """The probe record (:func:`probe_record`) cached under ``key``, else ``{}`` (no cache, no entry, or an
    entry that is not a record on this grid: the cache is only a hint, never an error)."""
    folder = probe_cache_dir()
    if key is None or folder is None:
        return {}
    try:
        entry = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        record = entry["record"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(record, dict) or record.get("grid") != GRID:
        return {}
    return record


def remember_probe(key: str | None, record: Mapping[str, Any], *, fingerprint: Mapping[str, Any], rows: int) -> None:
    """Cache ``record`` under ``key`` (atomically; a cache that cannot be written is skipped silently)."""
    folder = probe_cache_dir()
    if key is None or folder is None:
        return
    from metaconf.io import atomic_write_text

    entry = {"dataset": dict(fingerprint), "rows": rows, "record": dict(record)}
    with contextlib.suppress(OSError):
        atomic_write_text(folder / f"{key}.json", json.dumps(entry, indent=1, sort_keys=True) + "\n", force=True)
