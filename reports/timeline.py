"""The stage timeline: each homework as a bar from proposal to its end (or the period's end),
grouped by stage, styled by status, with entries, reviews and step-up links marked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from between.engine.reading.views import OPEN_STATUSES, STAGES
from between.language import gettext as _
from between.reports.draw import WIDTH, date_axis, figure, moment, to_svg

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.typing import LineStyleType

#: Status → (fill, hatch, edge line style): distinct in greyscale, not by colour alone.
STATUS_STYLE: dict[str, tuple[str, str, LineStyleType]] = {
    "proposed": ("white", "", "--"),
    "agreed": ("#1f4e79", "", "-"),
    "closed": ("#9dc3e6", "", "-"),
    "declined": ("white", "xxx", "-"),
    "cancelled": ("white", "///", "-"),
}


def timeline_svg(
    figures: dict[str, Any], entry_times: dict[str, list[str]], salt: str
) -> str | None:
    """The timeline of the report's homework as SVG (None when there is none);
    ``entry_times`` holds when each homework's entries in the period happened."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    homework = [h for stage in STAGES for h in figures["homework"] if h["stage"] == stage]
    if not homework:
        return None
    start = moment(figures["period"]["from"])
    end = _right_edge(figures, homework, start)
    shortest = (end - start) * 0.006  # a homework ended as soon as proposed stays visible
    rows = {h["id"]: n for n, h in enumerate(homework)}
    reviews: dict[str, list[str]] = {}
    for r in figures["reviews"]:
        reviews.setdefault(r["assignment"], []).append(r["at"])
    with figure(salt, height=0.9 + 0.32 * len(homework)) as (fig, ax):
        for h in homework:
            y = rows[h["id"]]
            left = max(moment(h["proposed_at"]), start)
            ended = _end(h)
            right = max(min(moment(ended), end) if ended else end, left + shortest)
            fill, hatch, line = STATUS_STYLE.get(h["status"], ("white", "", "-"))
            ax.barh(
                y,
                right - left,
                left=left,
                height=0.56,
                color=fill,
                hatch=hatch,
                edgecolor="black",
                linestyle=line,
                linewidth=0.8,
            )
            ticks = [moment(t) for t in entry_times.get(h["id"], [])]
            ax.plot(ticks, [y] * len(ticks), "|", color="black", markersize=7)
            marks = [moment(t) for t in reviews.get(h["id"], [])]
            ax.plot(marks, [y - 0.42] * len(marks), "v", color="black", markersize=5)
            if h["status"] in OPEN_STATUSES:
                ax.plot([right], [y], ">", color="black", markersize=6, clip_on=False)
        for h in homework:
            before = h["steps_up_from"]
            if before in rows:
                parent = next(p for p in homework if p["id"] == before)
                ax.annotate(
                    "",
                    xy=(max(moment(h["proposed_at"]), start), rows[h["id"]]),
                    xytext=(
                        min(moment(_end(parent) or figures["period"]["to"]), end),
                        rows[before],
                    ),
                    arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 0.9},
                )
        _stage_bands(ax, homework)
        ax.set_yticks(range(len(homework)), [_label(h) for h in homework])
        ax.set_ylim(len(homework) - 0.4, -0.8)
        ax.set_xlim(start, end)
        ax.grid(axis="y", visible=False)
        date_axis(ax)
        handles: list[Artist] = [
            Patch(facecolor=f, hatch=h, edgecolor="black", linestyle=ls, label=status)
            for status, (f, h, ls) in STATUS_STYLE.items()
        ]
        handles += [
            Line2D([], [], marker="|", linestyle="", color="black", markersize=7, label=_("entry")),
            Line2D(
                [], [], marker="v", linestyle="", color="black", markersize=5, label=_("review")
            ),
            Line2D([], [], marker=">", linestyle="", color="black", markersize=6, label=_("open")),
            Line2D([], [], marker=">", linestyle="-", color="black", label=_("step-up")),
        ]
        below = 0.55 / (fig.get_figheight() * ax.get_position().height)  # inches under the axis
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -below), ncol=4)
        fig.set_figwidth(WIDTH)
        return to_svg(fig)


def _right_edge(
    figures: dict[str, Any], homework: list[dict[str, Any]], start: datetime
) -> datetime:
    """The period's end if one was asked for (or nothing happened within it); else a little
    after the last change or open homework's latest due date, so an old record is not
    squeezed against today."""
    end = moment(figures["period"]["to"])
    if figures["period"]["until"] is None:
        marks = [moment(h["updated_at"]) for h in homework]
        marks += [moment(h["due"]) + timedelta(days=1) for h in homework if not _end(h)]
        last = max(marks)
        if last > start:
            end = min(end, last + max(last - start, timedelta(days=1)) * 0.04)
    return max(end, start + timedelta(hours=1))


def _label(h: dict[str, Any]) -> str:
    """A row's label: the homework, and its step of a protocol (e.g. 'step 2 of 6 of …')."""
    label = f"{h['id'][:8]} {h['task_type']}"
    return f"{label}\n{step_of(h)}" if h.get("protocol") else label


def step_of(h: dict[str, Any]) -> str:
    """A homework's step of its protocol, in the current language: 'step 2 of 6 of worry'
    (without the number of steps when the protocol is not in the library)."""
    if h.get("protocol_steps"):
        return _(
            "step %(step)s of %(steps)s of %(protocol)s",
            step=h["protocol_step"],
            steps=h["protocol_steps"],
            protocol=h["protocol"],
        )
    return _("step %(step)s of %(protocol)s", step=h["protocol_step"], protocol=h["protocol"])


def _end(h: dict[str, Any]) -> str | None:
    return h["declined_at"] if h["status"] == "declined" else h["ended_at"]


def _stage_bands(ax: Any, homework: list[dict[str, Any]]) -> None:
    """A light band and a label for each stage's rows."""
    first = 0
    for n, stage in enumerate(STAGES):
        count = sum(h["stage"] == stage for h in homework)
        if not count:
            continue
        if n % 2 == 0:
            ax.axhspan(first - 0.5, first + count - 0.5, color="#f2f2f2", zorder=0)
        ax.text(
            1.025,
            first + (count - 1) / 2,
            stage,
            transform=ax.get_yaxis_transform(),
            fontsize=8,
            fontweight="bold",
            va="center",
        )
        first += count
