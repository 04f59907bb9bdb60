"""Charts for reports, as data: a plugin describes them, the ``report`` command draws them.

A task-type plugin returns ``Chart`` objects from ``between_report_charts``; each holds one or
more ``Series`` of ``(x, y)`` points. Nothing here draws or imports a plotting library, so
plugins stay light and their charts can be checked in tests and exported as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KINDS = ("line", "bar")
X_KINDS = ("time", "category", "number")
MAX_SERIES = 12
MAX_POINTS = 5000

#: One point: x (ISO date/time text, a category label or a number) and y (None is a gap).
Point = tuple[str | float, float | None]


@dataclass(frozen=True)
class Series:
    """One labelled line (or set of bars) of ``(x, y)`` points."""

    label: str
    points: Sequence[Point]  # stored as a tuple

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(f"a series needs a label, not {self.label!r}")
        if not isinstance(self.points, Iterable) or isinstance(self.points, str | bytes):
            raise TypeError(f"series {self.label!r}: points must be a sequence of (x, y) pairs")
        points = tuple(_point(self.label, p) for p in self.points)
        if len(points) > MAX_POINTS:
            raise ValueError(
                f"series {self.label!r} has {len(points)} points; at most {MAX_POINTS}"
            )
        object.__setattr__(self, "points", points)


@dataclass(frozen=True)
class Chart:
    """A chart for a report: its series, how to draw them, and how to read them.

    ``kind`` is ``line`` (points joined, each with a marker) or ``bar`` (grouped bars).
    ``x`` says what the x values are: ``time`` (ISO 8601 dates or date-times, e.g. an entry's
    ``occurred_at``), ``category`` (labels, in order of first appearance) or ``number``.
    ``description`` is read out in place of the picture (the report adds the data as a table).
    """

    title: str
    series: Sequence[Series]  # stored as a tuple
    kind: str = "line"
    x: str = "time"
    x_label: str = ""
    y_label: str = ""
    y_min: float | None = None
    y_max: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"a chart needs a title, not {self.title!r}")
        if self.kind not in KINDS:
            raise ValueError(f"chart {self.title!r}: kind must be one of {', '.join(KINDS)}")
        if self.x not in X_KINDS:
            raise ValueError(f"chart {self.title!r}: x must be one of {', '.join(X_KINDS)}")
        series = tuple(self.series) if isinstance(self.series, list | tuple) else None
        if not series or not all(isinstance(s, Series) for s in series):
            raise TypeError(f"chart {self.title!r}: series must be a non-empty list of Series")
        if len(series) > MAX_SERIES:
            raise ValueError(f"chart {self.title!r} has {len(series)} series; at most {MAX_SERIES}")
        for s in series:
            for x, _ in s.points:
                _check_x(self, s, x)
        for name in ("x_label", "y_label", "description"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"chart {self.title!r}: {name} must be text")
        for name in ("y_min", "y_max"):
            if not _number_or_none(getattr(self, name)):
                raise TypeError(f"chart {self.title!r}: {name} must be a number or None")
        object.__setattr__(self, "series", series)

    @property
    def empty(self) -> bool:
        """Whether no series has a single value to show."""
        return not any(y is not None for s in self.series for _, y in s.points)

    def as_json(self) -> dict[str, Any]:
        """The chart as JSON-ready data (the report's ``--json`` shape)."""
        return {
            "title": self.title,
            "kind": self.kind,
            "x": self.x,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "y_min": self.y_min,
            "y_max": self.y_max,
            "description": self.description,
            "series": [
                {"label": s.label, "points": [[x, y] for x, y in s.points]} for s in self.series
            ],
        }


def entries_of(assignments: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every entry of these homework (``show`` shape), oldest first by when it happened."""
    entries = [e for a in assignments for e in a["entry_list"]]
    return sorted(entries, key=lambda e: e["occurred_at"])


def points_of(entries: Sequence[Mapping[str, Any]], name: str) -> list[Point]:
    """``(occurred_at, value)`` for each entry with a number in field ``name``, in entry order."""
    out: list[Point] = []
    for entry in entries:
        value = entry["fields"].get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append((entry["occurred_at"], value))
    return out


def _point(label: str, point: Any) -> Point:
    if not isinstance(point, list | tuple) or len(point) != 2:
        raise TypeError(f"series {label!r}: each point is an (x, y) pair, not {point!r}")
    x, y = point
    if not _number_or_none(y):
        raise TypeError(f"series {label!r}: y must be a number or None, not {y!r}")
    if isinstance(x, bool) or not isinstance(x, str | int | float):
        raise TypeError(f"series {label!r}: x must be text or a number, not {x!r}")
    return (x, y)


def _check_x(chart: Chart, series: Series, x: str | float) -> None:
    where = f"chart {chart.title!r}, series {series.label!r}"
    if chart.x == "number" and not isinstance(x, int | float):
        raise TypeError(f"{where}: x must be a number, not {x!r}")
    if chart.x == "category" and not isinstance(x, str):
        raise TypeError(f"{where}: x must be a category label, not {x!r}")
    if chart.x == "time":
        try:
            datetime.fromisoformat(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{where}: x must be an ISO 8601 date or time, not {x!r}") from None


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
