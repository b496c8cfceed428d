"""Human units for budgets: durations (``90s``, ``15m``, ``1h30m``) and memory sizes (``512MB``, ``4GB``).

Durations are stored as seconds (float), memory sizes as megabytes (int): SMAC3's pynisher reads a bare
number as *bytes* despite its docs saying MB (docs/tools.md), so metaconf never passes a bare number on and
always knows the unit it holds.
"""

from __future__ import annotations

import math
import re

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_MEMORY_UNITS = {
    "b": 1.0 / (1024 * 1024),
    "kb": 1.0 / 1024,
    "kib": 1.0 / 1024,
    "k": 1.0 / 1024,
    "mb": 1.0,
    "mib": 1.0,
    "m": 1.0,
    "gb": 1024.0,
    "gib": 1024.0,
    "g": 1024.0,
    "tb": 1024.0 * 1024,
    "tib": 1024.0 * 1024,
    "t": 1024.0 * 1024,
}

_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*")

DURATION_FORMS = "a number of seconds, or a number with a unit: `90s`, `15m`, `2h`, `1h30m`, `1.5 hours`"
MEMORY_FORMS = "a number of megabytes, or a number with a unit: `512MB`, `4GB`, `1.5GiB`"

# Anything longer than a year of walltime or a petabyte of memory is a typo, not a budget.
MAX_SECONDS = 366 * 86400.0
MAX_MEGABYTES = 1024.0**3


class UnitError(ValueError):
    """A budget string that is not in one of the accepted forms."""


def _split(text: str) -> list[tuple[float, str]]:
    parts: list[tuple[float, str]] = []
    pos = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match or match.end() == pos:
            raise UnitError(text)
        parts.append((float(match.group(1)), match.group(2).lower()))
        pos = match.end()
    if not parts:
        raise UnitError(text)
    return parts


def _check_number(value: float, what: str, limit: float, unit: str) -> float:
    if isinstance(value, bool):
        raise UnitError(f"{what} must be a number, got a boolean")
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"{what} must be a finite number, got {value}")
    if value < 0:
        raise UnitError(f"{what} must not be negative, got {value:g}")
    if value > limit:
        raise UnitError(f"{what} of {value:g} {unit} is larger than any real budget (at most {limit:g} {unit})")
    return float(value)


def parse_duration(value: str | float | int) -> float:
    """Return seconds for ``value``; a bare number is seconds.

    >>> parse_duration("1h30m")
    5400.0
    >>> parse_duration(90)
    90.0
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _check_number(float(value), "a duration", MAX_SECONDS, "s")
    if not isinstance(value, str):
        raise UnitError(f"expected {DURATION_FORMS}; got {type(value).__name__}")
    text = value.strip()
    try:
        parts = _split(text)
    except UnitError:
        raise UnitError(f"cannot read {value!r} as a duration; use {DURATION_FORMS}") from None
    total = 0.0
    for number, unit in parts:
        if unit == "" and len(parts) == 1:
            factor = 1.0
        elif unit in _DURATION_UNITS:
            factor = _DURATION_UNITS[unit]
        else:
            hint = f" (unknown unit `{unit}`)" if unit else ""
            raise UnitError(f"cannot read {value!r} as a duration{hint}; use {DURATION_FORMS}")
        total += number * factor
    return _check_number(total, "a duration", MAX_SECONDS, "s")


def parse_memory(value: str | float | int) -> float:
    """Return megabytes for ``value``; a bare number is megabytes.

    >>> parse_memory("4GB")
    4096.0
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _check_number(float(value), "a memory size", MAX_MEGABYTES, "MB")
    if not isinstance(value, str):
        raise UnitError(f"expected {MEMORY_FORMS}; got {type(value).__name__}")
    text = value.strip()
    try:
        parts = _split(text)
    except UnitError:
        raise UnitError(f"cannot read {value!r} as a memory size; use {MEMORY_FORMS}") from None
    if len(parts) != 1:
        raise UnitError(f"cannot read {value!r} as a memory size; use {MEMORY_FORMS}")
    number, unit = parts[0]
    if unit and unit not in _MEMORY_UNITS:
        raise UnitError(f"cannot read {value!r} as a memory size (unknown unit `{unit}`); use {MEMORY_FORMS}")
    return _check_number(number * _MEMORY_UNITS.get(unit, 1.0), "a memory size", MAX_MEGABYTES, "MB")


def format_duration(seconds: float) -> str:
    """The shortest exact human form: 5400 -> ``1h30m``, 90 -> ``90s``, 0.5 -> ``0.5s``."""
    if seconds != int(seconds) or seconds < 60:
        return f"{seconds:g}s"
    whole = int(seconds)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            out += f"{whole // size}{unit}"
            whole %= size
    return out


def format_memory(megabytes: float) -> str:
    """``4096`` -> ``4GB``, ``1536`` -> ``1536MB``."""
    if megabytes >= 1024 and megabytes % 1024 == 0:
        return f"{int(megabytes // 1024)}GB"
    if megabytes == int(megabytes):
        return f"{int(megabytes)}MB"
    return f"{megabytes:g}MB"
