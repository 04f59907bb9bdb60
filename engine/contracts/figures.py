"""Helpers for task types' review figures (used by the built-ins, public to every plugin)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from math import fsum
from typing import Any


def days_spanned(entries: Sequence[Mapping[str, Any]]) -> int:
    """Calendar days from the first to the last entry's occurrence, counting both ends."""
    if not entries:
        return 0
    days = sorted(datetime.fromisoformat(e["occurred_at"]).date() for e in entries)
    return (days[-1] - days[0]).days + 1


def trend(values: Sequence[float]) -> str | None:
    """'falling', 'rising' or 'flat', comparing the last value with the first."""
    if len(values) < 2:
        return None
    change = values[-1] - values[0]
    return "falling" if change < 0 else "rising" if change > 0 else "flat"


def by_person(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["by"]] = counts.get(e["by"], 0) + 1
    return counts


def values_of(entries: Sequence[Mapping[str, Any]], name: str) -> list[float]:
    """The numeric values of one field across entries, in entry order."""
    out = []
    for entry in entries:
        value = entry["fields"].get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append(value)
    return out


def mean(values: Iterable[float]) -> float:
    """The arithmetic mean of some numbers (at least one): ``statistics.fmean``'s own
    arithmetic, without importing ``statistics`` (and ``fractions``) at start-up."""
    values = list(values)
    if not values:
        raise ValueError("mean of no values")
    return fsum(values) / len(values)


def mean_of(entries: Sequence[Mapping[str, Any]], name: str) -> float | None:
    values = values_of(entries, name)
    return round(mean(values), 2) if values else None
