import math

import pytest

from metaconf.config.units import UnitError, format_duration, format_memory, parse_duration, parse_memory


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("1.5 hours", 5400), (45, 45), ("30", 30), ("500ms", 0.5)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["20 minuets", "m", "", "1h-5m", "fast", "1e3"])
def test_parse_duration_rejects_with_accepted_forms(text):
    with pytest.raises(UnitError, match="15m"):
        parse_duration(text)


@pytest.mark.parametrize("value", [-1, math.nan, math.inf, 10**12])
def test_parse_duration_rejects_numbers(value):
    with pytest.raises(UnitError):
        parse_duration(value)


@pytest.mark.parametrize(("text", "mb"), [("4GB", 4096), ("512MB", 512), ("1.5GiB", 1536), (2048, 2048), ("1024kb", 1)])
def test_parse_memory(text, mb):
    assert parse_memory(text) == mb


@pytest.mark.parametrize("text", ["4 gigs", "GB", "1GB 2GB", True])
def test_parse_memory_rejects(text):
    with pytest.raises(UnitError):
        parse_memory(text)


@pytest.mark.parametrize("seconds", [0.5, 59, 90, 900, 5400, 86400 + 61])
def test_format_duration_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("mb", [1, 512, 1536, 4096])
def test_format_memory_round_trips(mb):
    assert parse_memory(format_memory(mb)) == mb
