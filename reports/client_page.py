"""A client's report as one HTML page, for the therapist to read before a session."""

from __future__ import annotations

from html import escape
from typing import Any

from between.engine.reading.views import STAGES
from between.language import gettext as _
from between.language import ngettext
from between.reports.charts import REPORT, Sourced, worded
from between.reports.client_sections import (
    client_notes_section,
    contributors_section,
    declined_section,
    obstacles_section,
)
from between.reports.html import (
    Raw,
    chart_figure,
    day,
    ident,
    kpis,
    page,
    para,
    percent,
    section,
    stamp,
    status,
    svg_figure,
    table,
    when,
)
from between.reports.timeline import step_of, timeline_svg

SECTIONS = (
    "period",
    "timeline",
    "adherence",
    "entries",
    "declined",
    "obstacles",
    "client-notes",
    "task-types",
    "contributors",
)


def client_page(
    figures: dict[str, Any], charts: list[Sourced], entry_times: dict[str, list[str]]
) -> str:
    """The whole page; ``charts`` are the report's and the plugins' charts, in order."""
    client = figures["client"]
    name = client["code"] or _("erased client %(id)s", id=client["id"][:8])
    own = {c.chart.title: c for c in charts if c.source == REPORT}
    numbers = iter(range(1, 1000))
    title = _("Homework report: %(name)s", name=name)
    header = f"<h1>{escape(title)}</h1>\n" + para(
        _(
            "Therapist %(therapist)s · %(start)s to %(end)s · generated %(at)s UTC",
            therapist=client["therapist"],
            start=day(figures["period"]["from"]),
            end=day(figures["period"]["to"]),
            at=when(figures["generated_at"]),
        ),
        "meta",
    )
    sections = [
        _period(figures),
        _timeline(figures, entry_times, next(numbers)),
        _adherence(figures, own.get("Review ratings"), numbers),
        _entries(figures, own.get("Entries done and expected"), numbers),
        declined_section(figures),
        obstacles_section(figures),
        client_notes_section(figures),
        _task_types(figures, [c for c in charts if c.source != REPORT], numbers),
        contributors_section(figures),
    ]
    return page(title, header, sections)


def _period(f: dict[str, Any]) -> str:
    p, c, a = f["period"], f["client"], f["adherence"]
    whole = not (p["since"] or p["until"])
    scope = _("the whole record") if whole else _("the period asked for")
    lines = [
        para(
            _(
                "From %(start)s to %(end)s UTC (%(scope)s). Statuses and entry counts are as "
                "they stood at the end; reviews, declines, cancellations, obstacles and "
                "contributions are those recorded within it.",
                start=when(p["from"]),
                end=when(p["to"]),
                scope=scope,
            )
        ),
        kpis(
            [
                (_("homework"), len(f["homework"])),
                (_("agreed"), a["agreed"]),
                (_("declined"), a["declined"]),
                (_("entries in period"), a["entries_in_period"]),
                (_("entries done / expected"), f"{a['entries_done']} / {a['entries_expected']}"),
                (_("reviews"), a["reviews"]),
                (_("overdue"), a["overdue"]),
            ]
        ),
    ]
    if c["erased"]:
        lines.append(
            para(
                _(
                    "This client's personal data was erased: codes, names, reasons, obstacles "
                    "and entry contents are gone; only dates, statuses, counts and ratings remain."
                ),
                "note",
            )
        )
    elif c["status"] != "active":
        lines.append(para(_("Client status: %(status)s.", status=c["status"]), "note"))
    return section("period", _("Period covered"), *lines)


def _timeline(f: dict[str, Any], entry_times: dict[str, list[str]], number: int) -> str:
    homework = f["homework"]
    if not homework:
        return section(
            "timeline", _("Stages and homework"), para(_("No homework in this period."), "empty")
        )
    svg = timeline_svg(f, entry_times, salt=f"between-chart-{number}")
    stages = [s for s in f["stages"] if s["homework"]]
    text = (
        _(
            "%(count)s homework across %(stages)s",
            count=len(homework),
            stages=", ".join(f"{s['stage']} ({len(s['homework'])})" for s in stages),
        )
        + "; "
        + ngettext("%(n)s step-up chain.", "%(n)s step-up chains.", len(f["chains"]))
        + " "
        + _(
            "Bars run from proposal to the end; open homework runs to the right edge and ends "
            "in an arrowhead. Ticks are entries, triangles reviews, arrows step-ups; the table "
            "below lists the same homework."
        )
    )
    order = {s: n for n, s in enumerate(STAGES)}
    late = _("overdue")
    rows = [
        [
            ident(h["id"]),
            Raw(f'<span title="{escape(h["title"])}">{escape(h["task_type"])}</span>'),
            h["stage"],
            h["difficulty"],
            status(h["status"])
            if not h["overdue"]
            else Raw(f"{status(h['status'])} {escape(late)}"),
            stamp(h["proposed_at"]),
            stamp(h["agreed_at"]),
            stamp(h["declined_at"] or h["ended_at"]),
            stamp(h["due"]),
            f"{h['entries']} / {h['expected_entries']}",
            ident(h["steps_up_from"]) if h["steps_up_from"] else "–",
            _library(h),
        ]
        for h in sorted(homework, key=lambda h: (order[h["stage"]], h["proposed_at"]))
    ]
    by_id = {h["id"]: h for h in homework}
    chains = "".join(
        "<li>"
        + " → ".join(
            f"{ident(i)} {escape(by_id[i]['task_type'])} ({escape(by_id[i]['status'])})" for i in c
        )
        + "</li>"
        for c in f["chains"]
    )
    headers = [
        _("id"),
        _("task"),
        _("stage"),
        _("difficulty"),
        _("status"),
        _("proposed"),
        _("agreed"),
        _("ended"),
        _("due"),
        _("entries"),
        _("steps up from"),
        _("from the library"),
    ]
    heading = escape(_("Step-up chains"))
    chained = f'<h3>{heading}</h3>\n<ul class="chains">{chains}</ul>'
    return section(
        "timeline",
        _("Stages and homework"),
        svg_figure(svg, number, _("Stage timeline"), text) if svg else "",
        table(headers, rows, numeric=(3, 9)),
        chained if chains else "",
    )


def _library(h: dict[str, Any]) -> str:
    """Where a homework came from: its template and version, and its step of a protocol
    (e.g. 'worry-2-postpone 2026-1; step 2 of 3 of worry-ladder'), or '–'."""
    parts = []
    if h.get("template"):
        version = f" {h['template_version']}" if h.get("template_version") else ""
        parts.append(f"{h['template']}{version}")
    if h.get("protocol"):
        parts.append(step_of(h))
    return "; ".join(parts) or "–"


def _adherence(f: dict[str, Any], chart: Sourced | None, numbers: Any) -> str:
    a = f["adherence"]
    summary = kpis(
        [
            (_("agreement rate"), percent(a["agreement_rate"])),
            (_("entries done"), percent(a["entry_rate"])),
            (_("completed"), percent(a["completion_rate"])),
            (_("mean quantity (0–4)"), a["mean_quantity"]),
            (_("mean quality (0–4)"), a["mean_quality"]),
            (_("mean difficulty (0–4)"), a["mean_difficulty"]),
        ]
    )
    if not f["reviews"]:
        return section(
            "adherence",
            _("Adherence over time"),
            summary,
            para(_("No reviews in this period."), "empty"),
        )
    rows = [
        [
            stamp(r["at"]),
            ident(r["assignment"]),
            r["task_type"],
            r["quantity"],
            r["quality"],
            r["difficulty"],
            r["next_step"],
        ]
        for r in f["reviews"]
    ]
    return section(
        "adherence",
        _("Adherence over time"),
        summary,
        chart_figure(worded(chart.chart), next(numbers)) if chart else "",
        table(
            [
                _("reviewed"),
                _("homework"),
                _("task"),
                _("quantity"),
                _("quality"),
                _("difficulty"),
                _("next step"),
            ],
            rows,
            numeric=(3, 4, 5),
        ),
    )


def _entries(f: dict[str, Any], chart: Sourced | None, numbers: Any) -> str:
    agreed = [h for h in f["homework"] if h["agreed_at"]]
    if not agreed:
        return section(
            "entries",
            _("Entries done and expected"),
            para(_("No agreed homework in this period."), "empty"),
        )
    rows = [
        [
            ident(h["id"]),
            h["task_type"],
            h["entries"],
            h["expected_entries"],
            h["entries_in_period"],
            _("yes") if h["complete"] else _("no"),
            h["due"],
        ]
        for h in agreed
    ]
    return section(
        "entries",
        _("Entries done and expected"),
        chart_figure(worded(chart.chart), next(numbers)) if chart else "",
        table(
            [
                _("homework"),
                _("task"),
                _("done"),
                _("expected"),
                _("in period"),
                _("complete"),
                _("due"),
            ],
            rows,
            numeric=(2, 3, 4),
        ),
    )


def _task_types(f: dict[str, Any], charts: list[Sourced], numbers: Any) -> str:
    parts = [para(note, "note") for note in f["notes"]]
    if f["client"]["erased"]:
        parts.append(
            para(_("Entry contents were erased, so there are no task-type charts."), "empty")
        )
    elif not charts:
        parts.append(para(_("No task-type charts for this period."), "empty"))
    titles = {h["task_type"]: h["title"] for h in f["homework"]}
    kind = None
    for c in charts:
        if c.task_type != kind:
            kind = c.task_type
            heading = titles.get(kind or "") or kind or ""
            parts.append(f"<h3>{escape(_(heading) if heading else heading)}</h3>")
        try:
            parts.append(chart_figure(worded(c.chart), next(numbers)))
        except Exception as e:  # the plugin's data broke the drawing: say so, draw the rest
            parts.append(
                para(
                    f"plugin {c.source}: chart {c.chart.title!r} could not be drawn: "
                    f"{type(e).__name__}: {e}",
                    "note",
                )
            )
    return section("task-types", _("Task-type charts"), *parts)
