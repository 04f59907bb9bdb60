"""A client's report as one HTML page, for the therapist to read before a session."""

from __future__ import annotations

from html import escape
from typing import Any

from between.engine.views import STAGES
from between.reports.charts import REPORT, Sourced
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
    status,
    svg_figure,
    table,
    when,
)
from between.reports.timeline import timeline_svg

SECTIONS = (
    "period",
    "timeline",
    "adherence",
    "entries",
    "declined",
    "obstacles",
    "task-types",
    "contributors",
)


def client_page(
    figures: dict[str, Any], charts: list[Sourced], entry_times: dict[str, list[str]]
) -> str:
    """The whole page; ``charts`` are the report's and the plugins' charts, in order."""
    client = figures["client"]
    name = client["code"] or f"erased client {client['id'][:8]}"
    own = {c.chart.title: c for c in charts if c.source == REPORT}
    numbers = iter(range(1, 1000))
    header = f"<h1>Homework report: {escape(name)}</h1>\n" + para(
        f"Therapist {client['therapist']} · {day(figures['period']['from'])} to "
        f"{day(figures['period']['to'])} · generated {when(figures['generated_at'])} UTC",
        "meta",
    )
    sections = [
        _period(figures),
        _timeline(figures, entry_times, next(numbers)),
        _adherence(figures, own.get("Review ratings"), numbers),
        _entries(figures, own.get("Entries done and expected"), numbers),
        _declined(figures),
        _obstacles(figures),
        _task_types(figures, [c for c in charts if c.source != REPORT], numbers),
        _contributors(figures),
    ]
    return page(f"Homework report: {name}", header, sections)


def _period(f: dict[str, Any]) -> str:
    p, c, a = f["period"], f["client"], f["adherence"]
    scope = "the whole record" if not (p["since"] or p["until"]) else "the period asked for"
    lines = [
        para(
            f"From {when(p['from'])} to {when(p['to'])} UTC ({scope}). Statuses and entry "
            "counts are as they stood at the end; reviews, declines, cancellations, "
            "obstacles and contributions are those recorded within it."
        ),
        kpis(
            [
                ("homework", len(f["homework"])),
                ("agreed", a["agreed"]),
                ("declined", a["declined"]),
                ("entries in period", a["entries_in_period"]),
                ("entries done / expected", f"{a['entries_done']} / {a['entries_expected']}"),
                ("reviews", a["reviews"]),
                ("overdue", a["overdue"]),
            ]
        ),
    ]
    if c["erased"]:
        lines.append(
            para(
                "This client's personal data was erased: codes, names, reasons, obstacles "
                "and entry contents are gone; only dates, statuses, counts and ratings remain.",
                "note",
            )
        )
    elif c["status"] != "active":
        lines.append(para(f"Client status: {c['status']}.", "note"))
    return section("period", "Period covered", *lines)


def _timeline(f: dict[str, Any], entry_times: dict[str, list[str]], number: int) -> str:
    homework = f["homework"]
    if not homework:
        return section(
            "timeline", "Stages and homework", para("No homework in this period.", "empty")
        )
    svg = timeline_svg(f, entry_times, salt=f"between-chart-{number}")
    stages = [s for s in f["stages"] if s["homework"]]
    text = (
        f"{len(homework)} homework across "
        + ", ".join(f"{s['stage']} ({len(s['homework'])})" for s in stages)
        + f"; {len(f['chains'])} step-up chain{'s' if len(f['chains']) != 1 else ''}. "
        "Bars run from proposal to the end (or to the end of the period); the table below "
        "lists the same homework."
    )
    order = {s: n for n, s in enumerate(STAGES)}
    rows = [
        [
            ident(h["id"]),
            h["title"],
            h["stage"],
            h["difficulty"],
            status(h["status"]) if not h["overdue"] else Raw(f"{status(h['status'])} overdue"),
            day(h["proposed_at"]),
            day(h["agreed_at"]),
            day(h["declined_at"] or h["ended_at"]),
            h["due"],
            f"{h['entries']} / {h['expected_entries']}",
            ident(h["steps_up_from"]) if h["steps_up_from"] else "–",
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
        "id",
        "task",
        "stage",
        "difficulty",
        "status",
        "proposed",
        "agreed",
        "ended",
        "due",
        "entries",
        "steps up from",
    ]
    return section(
        "timeline",
        "Stages and homework",
        svg_figure(svg, number, "Stage timeline", text) if svg else "",
        table(headers, rows, numeric=(3, 9)),
        f'<h3>Step-up chains</h3>\n<ul class="chains">{chains}</ul>' if chains else "",
    )


def _adherence(f: dict[str, Any], chart: Sourced | None, numbers: Any) -> str:
    a = f["adherence"]
    summary = kpis(
        [
            ("agreement rate", percent(a["agreement_rate"])),
            ("entries done", percent(a["entry_rate"])),
            ("completed", percent(a["completion_rate"])),
            ("mean quantity (0–4)", a["mean_quantity"]),
            ("mean quality (0–4)", a["mean_quality"]),
            ("mean difficulty (0–4)", a["mean_difficulty"]),
        ]
    )
    if not f["reviews"]:
        return section(
            "adherence", "Adherence over time", summary, para("No reviews in this period.", "empty")
        )
    rows = [
        [
            day(r["at"]),
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
        "Adherence over time",
        summary,
        chart_figure(chart.chart, next(numbers)) if chart else "",
        table(
            ["reviewed", "homework", "task", "quantity", "quality", "difficulty", "next step"],
            rows,
            numeric=(3, 4, 5),
        ),
    )


def _entries(f: dict[str, Any], chart: Sourced | None, numbers: Any) -> str:
    agreed = [h for h in f["homework"] if h["agreed_at"]]
    if not agreed:
        return section(
            "entries",
            "Entries done and expected",
            para("No agreed homework in this period.", "empty"),
        )
    rows = [
        [
            ident(h["id"]),
            h["title"],
            h["entries"],
            h["expected_entries"],
            h["entries_in_period"],
            "yes" if h["complete"] else "no",
            h["due"],
        ]
        for h in agreed
    ]
    return section(
        "entries",
        "Entries done and expected",
        chart_figure(chart.chart, next(numbers)) if chart else "",
        table(
            ["homework", "task", "done", "expected", "in period", "complete", "due"],
            rows,
            numeric=(2, 3, 4),
        ),
    )


def _declined(f: dict[str, Any]) -> str:
    parts = []
    for key, heading in (("declined", "Declined"), ("cancelled", "Cancelled")):
        items = f[key]
        parts.append(f"<h3>{heading}</h3>")
        if not items:
            parts.append(para(f"None {key} in this period.", "empty"))
            continue
        rows = [
            [
                day(i["at"]),
                ident(i["assignment"]),
                i["task_type"],
                i["stage"],
                i["reason"] if i["reason"] is not None else "(erased)",
            ]
            for i in items
        ]
        parts.append(table([key, "homework", "task", "stage", "client's reason"], rows))
    return section("declined", "Declined and cancelled homework", *parts)


def _obstacles(f: dict[str, Any]) -> str:
    items = f["obstacles"]
    if not items:
        text = (
            "Not available: erased." if f["client"]["erased"] else "None recorded in this period."
        )
        return section("obstacles", "What got in the way", para(text, "empty"))
    source = {"agreement": "expected, at agreement", "review": "reported, at review"}
    rows = [
        [day(o["at"]), ident(o["assignment"]), o["task_type"], source[o["source"]], o["text"]]
        for o in items
    ]
    return section(
        "obstacles",
        "What got in the way",
        table(["when", "homework", "task", "", "obstacle"], rows),
    )


def _task_types(f: dict[str, Any], charts: list[Sourced], numbers: Any) -> str:
    parts = [para(note, "note") for note in f["notes"]]
    if f["client"]["erased"]:
        parts.append(para("Entry contents were erased, so there are no task-type charts.", "empty"))
    elif not charts:
        parts.append(para("No task-type charts for this period.", "empty"))
    titles = {h["task_type"]: h["title"] for h in f["homework"]}
    for c in charts:
        heading = f"{titles.get(c.task_type or '', c.task_type)}: {c.chart.title}"
        parts.append(chart_figure(c.chart, next(numbers), heading))
    return section("task-types", "Task-type charts", *parts)


def _contributors(f: dict[str, Any]) -> str:
    people = f["contributors"]
    if not people:
        total = f["adherence"]["entries_in_period"]
        return section(
            "contributors",
            "Who contributed",
            para(f"{total} entries; who made them was erased.", "empty"),
        )
    rows = [[p["who"], p["role"], p["relationship"] or "–", p["entries"]] for p in people]
    return section(
        "contributors",
        "Who contributed",
        table(["who", "role", "relationship", "entries"], rows, numeric=(3,)),
    )
