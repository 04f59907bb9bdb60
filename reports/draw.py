"""Drawing ``Chart`` data as inline SVG with matplotlib (imported here, only when drawing).

Charts must read in greyscale: each series has its own line style and marker (bars their own
hatching), not just its own colour. Ids inside each SVG are salted per chart, so many charts
can share one HTML page, and the output is the same for the same data.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from between.engine.contracts.charts import Chart
from between.language import gettext, ngettext

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_REFERENCE = re.compile(r"(?:url\(#|href=\"#)([^)\"]+)")
_ID = re.compile(r' id="([^"]+)"')
WIDTH = 7.2  # inches: fits A4 and Letter within print margins
HEIGHT = 2.8
COLOURS = ("#1f4e79", "#c55a11", "#2e7d32", "#6a1b9a", "#5d4037", "#ad1457")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
#: Bars: (fill, hatch) with distinct lightness and line hatching (dot hatches bloat SVG).
BARS = (
    ("#1f4e79", ""),
    ("white", "///"),
    ("#a9c4e0", "\\\\\\"),
    ("white", "xxx"),
    ("#e3a977", "---"),
    ("white", "|||"),
    ("#c8c8c8", "+++"),
)
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, and uses the page's font
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "hatch.linewidth": 0.6,
}


@contextmanager
def figure(salt: str, height: float = HEIGHT) -> Iterator[tuple[Any, Any]]:
    """A fresh matplotlib figure and axes (no pyplot state), styled for reports."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context({**STYLE, "svg.hashsalt": salt}):
        fig = Figure(figsize=(WIDTH, height))
        yield fig, fig.add_subplot()


def to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, no date)."""
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    text = _METADATA.sub("", text[text.index("<svg") :].strip())
    used = set(_REFERENCE.findall(text))
    return _ID.sub(lambda m: m.group(0) if m.group(1) in used else "", text)


def label_svg(svg: str, caption_id: str) -> str:
    """Point the SVG at its caption for assistive technology."""
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{caption_id}" ', 1)


def draw(chart: Chart, salt: str) -> str:
    """One chart as an SVG element."""
    with figure(salt) as (fig, ax):
        xs = _categories(chart) if chart.kind == "bar" or chart.x == "category" else None
        for n, series in enumerate(chart.series):
            if chart.kind == "bar":
                _bars(ax, series, n, len(chart.series), xs or [])
            else:
                _line(ax, chart, series, n, xs)
        if xs is not None:
            every = math.ceil(len(xs) / 16)  # at most 16 labels; the data table has them all
            shown = range(0, len(xs), every)
            ax.set_xticks(list(shown), [_short(chart, xs[i]) for i in shown])
            if len(xs) > 6 or max((len(_short(chart, x)) for x in xs), default=0) > 12:
                ax.tick_params(axis="x", labelrotation=30)
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("right")
        elif chart.x == "time":
            _around_one_moment(ax, chart)
            date_axis(ax)
        _axes(ax, chart)
        return to_svg(fig)


def _line(ax: Any, chart: Chart, series: Any, n: int, xs: list[Any] | None) -> None:
    x: list[Any]
    if xs is not None:
        x = [xs.index(p[0]) for p in series.points]
    elif chart.x == "time":
        x = [moment(p[0]) for p in series.points]
    else:
        x = [p[0] for p in series.points]
    y = [math.nan if p[1] is None else p[1] for p in series.points]
    ax.plot(
        x,
        y,
        label=series.label,
        color=COLOURS[n % len(COLOURS)],
        linestyle=LINES[n % len(LINES)],
        marker=MARKERS[n % len(MARKERS)],
        markersize=5,
        linewidth=1.4,
        markerfacecolor="white" if n % 2 else COLOURS[n % len(COLOURS)],
    )


#: How far either side of the only moment a time chart shows (matplotlib's own default for a
#: single point is two years either side).
ONE_MOMENT = timedelta(days=3)


def _around_one_moment(ax: Any, chart: Chart) -> None:
    """A few days around the moment when every point of a time chart is at the same one."""
    moments = {moment(p[0]) for series in chart.series for p in series.points}
    if len(moments) == 1:
        (only,) = moments
        ax.set_xlim(only - ONE_MOMENT, only + ONE_MOMENT)


def _bars(ax: Any, series: Any, n: int, count: int, xs: list[Any]) -> None:
    width = 0.8 / count
    values = dict(series.points)
    fill, hatch = BARS[n % len(BARS)]
    ax.bar(
        [i - 0.4 + width * (n + 0.5) for i in range(len(xs))],
        [values.get(x) or 0 for x in xs],
        width,
        label=series.label,
        color=fill,
        edgecolor="black",
        hatch=hatch,
        linewidth=0.7,
    )


def _axes(ax: Any, chart: Chart) -> None:
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    low, high = ax.get_ylim()
    if chart.kind == "bar":
        low = 0
    ax.set_ylim(
        chart.y_min if chart.y_min is not None else low,
        chart.y_max if chart.y_max is not None else high,
    )
    if chart.y_max is not None and chart.y_min is not None:
        pad = (chart.y_max - chart.y_min) * 0.04  # keep markers at the limits visible
        ax.set_ylim(chart.y_min - pad, chart.y_max + pad)
    if len(chart.series) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


def date_axis(ax: Any) -> None:
    """Concise date labels on the x axis."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _categories(chart: Chart) -> list[Any]:
    seen: dict[Any, None] = {}
    for series in chart.series:
        for x, _ in series.points:
            seen.setdefault(x, None)
    if chart.x == "time":
        return sorted(seen, key=moment)
    return list(seen)


def _short(chart: Chart, x: Any) -> str:
    if chart.x == "time":
        return moment(x).strftime("%d %b")
    text = str(x)
    return text if len(text) <= 28 else text[:27] + "…"


def moment(text: Any) -> datetime:
    """An ISO 8601 date or time as an aware datetime (a naive one is taken as UTC)."""
    value = datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def plain_number(value: Any) -> str:
    """A value for a data table: integers without a decimal point, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else str(int(value))
    return str(value)


_SPACE = re.compile(r"\s+")


def caption(chart: Chart) -> str:
    """A text alternative: the chart's own description, then each series in brief."""
    parts = [chart.description.strip()] if chart.description.strip() else []
    unit = f" {chart.y_label}" if chart.y_label else ""
    for s in chart.series:
        ys = [y for _x, y in s.points if y is not None]
        if not ys:
            parts.append(gettext("%(label)s: no values.", label=s.label))
            continue
        if chart.x == "category":
            ranked = sorted(((at, y) for at, y in s.points if y is not None), key=lambda p: p[1])
            parts.append(
                gettext(
                    "%(label)s: highest %(high)s%(unit)s (%(high_at)s), lowest %(low)s "
                    "(%(low_at)s).",
                    label=s.label,
                    high=plain_number(ranked[-1][1]),
                    unit=unit,
                    high_at=ranked[-1][0],
                    low=plain_number(ranked[0][1]),
                    low_at=ranked[0][0],
                )
            )
            continue
        parts.append(
            ngettext(
                "%(label)s: %(n)s value, first %(first)s, last %(last)s, lowest %(low)s, "
                "highest %(high)s%(unit)s.",
                "%(label)s: %(n)s values, first %(first)s, last %(last)s, lowest %(low)s, "
                "highest %(high)s%(unit)s.",
                len(ys),
                label=s.label,
                first=plain_number(ys[0]),
                last=plain_number(ys[-1]),
                low=plain_number(min(ys)),
                high=plain_number(max(ys)),
                unit=unit,
            )
        )
    return _SPACE.sub(" ", " ".join(parts))
