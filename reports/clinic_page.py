"""The clinic's report as one HTML page: rates by task type, stage and therapist, completion
and ratings by template, declines and their reasons, overdue homework and how long agreement
takes."""

from __future__ import annotations

from html import escape
from typing import Any

from between.engine.contracts.charts import Chart, Series
from between.reports.html import (
    chart_figure,
    ident,
    kpis,
    page,
    para,
    percent,
    section,
    table,
    when,
)

SECTIONS = (
    "summary",
    "by-task-type",
    "by-stage",
    "by-therapist",
    "by-template",
    "declines",
    "overdue",
)
GROUPS = (
    ("by_task_type", "by-task-type", "By task type", "task type"),
    ("by_stage", "by-stage", "By stage", "stage"),
    ("by_therapist", "by-therapist", "By therapist", "therapist"),
)


def clinic_page(figures: dict[str, Any]) -> str:
    t = figures["totals"]
    header = "<h1>Clinic homework report</h1>\n" + para(
        f"As of {figures['as_of']} · generated {when(figures['generated_at'])} UTC · clients "
        "appear by their codes only",
        "meta",
    )
    hours = t["median_hours_to_agree"]
    summary = section(
        "summary",
        "Summary",
        kpis(
            [
                ("clients", figures["clients"]["active"] + figures["clients"]["discharged"]),
                ("homework", t["homework"]),
                ("agreement rate", percent(t["agreement_rate"])),
                ("entries done", percent(t["entry_rate"])),
                ("completed", percent(t["completion_rate"])),
                ("overdue", t["overdue"]),
                ("median time to agree", "–" if hours is None else _duration(hours)),
            ]
        ),
        para(
            _clients(figures["clients"])
            + " Agreement rate: agreed ÷ (agreed + declined). Entries done: entries recorded "
            "(up to the number agreed) ÷ entries agreed. Completed: agreed homework with all "
            "its entries. Ratings are the reviews' 0–4 means."
        ),
    )
    numbers = iter(range(1, 1000))
    groups = [
        _group(figures[key], ident_, title, what, next(numbers))
        for key, ident_, title, what in GROUPS
    ]
    return page(
        "Clinic homework report",
        header,
        [
            summary,
            *groups,
            _templates(figures["by_template"]),
            _declines(figures["declines"]),
            _overdue(figures["overdue"]),
        ],
    )


def _group(rows: list[dict[str, Any]], ident_: str, title: str, what: str, number: int) -> str:
    if not any(r["homework"] for r in rows):
        return section(ident_, title, para("No homework yet.", "empty"))
    shown = [r for r in rows if r["homework"]]
    labels = [r["key"] for r in shown]

    def series(label: str, key: str) -> Series:
        return Series(
            label,
            tuple(
                (k, None if r[key] is None else round(r[key] * 100, 1))
                for k, r in zip(labels, shown, strict=True)
            ),
        )

    chart = Chart(
        f"Rates {title.lower()}",
        (
            series("Agreed", "agreement_rate"),
            series("Entries done", "entry_rate"),
            series("Completed", "completion_rate"),
        ),
        kind="bar",
        x="category",
        x_label=what,
        y_label="%",
        y_min=0,
        y_max=100,
        description=f"Agreement, entry and completion rates for each {what}, in percent.",
    )
    rows_ = [
        [
            r["key"],
            r["homework"],
            f"{percent(r['agreement_rate'])} ({r['agreed']} of {r['agreed'] + r['declined']})",
            f"{percent(r['entry_rate'])} ({r['entries_done']} of {r['entries_expected']})",
            f"{percent(r['completion_rate'])} ({r['complete']} of {r['agreed']})",
            r["reviews"],
            r["mean_quantity"],
            r["mean_quality"],
            r["mean_difficulty"],
            r["overdue"],
            "–" if r["median_hours_to_agree"] is None else _duration(r["median_hours_to_agree"]),
        ]
        for r in shown
    ]
    headers = [
        what,
        "homework",
        "agreed",
        "entries done",
        "completed",
        "reviews",
        "quantity",
        "quality",
        "difficulty",
        "overdue",
        "median to agree",
    ]
    return section(
        ident_, title, chart_figure(chart, number), table(headers, rows_, numeric=range(1, 11))
    )


def _templates(rows: list[dict[str, Any]]) -> str:
    """Completion and ratings by the template homework was assigned from."""
    title = "By template"
    if not rows:
        return section("by-template", title, para("No homework yet.", "empty"))
    shown = [
        [
            r["key"],
            ", ".join(r["versions"]) or "–",
            r["homework"],
            r["agreed"],
            r["declined"],
            f"{percent(r['completion_rate'])} ({r['complete']} of {r['agreed']})",
            r["reviews"],
            r["mean_quantity"],
            r["mean_quality"],
            r["mean_difficulty"],
        ]
        for r in rows
    ]
    headers = [
        "template",
        "versions",
        "homework",
        "agreed",
        "declined",
        "completed",
        "reviews",
        "quantity",
        "quality",
        "difficulty",
    ]
    caption = (
        "Homework by the template it was assigned from, with each version seen; completed: "
        "agreed homework with all its entries; ratings: the reviews' 0–4 means."
    )
    return section(
        "by-template", title, table(headers, shown, numeric=range(2, 10), caption=caption)
    )


def _declines(declines: list[dict[str, Any]]) -> str:
    if not declines:
        return section(
            "declines", "Declines and their reasons", para("No homework was declined.", "empty")
        )
    parts = []
    for d in declines:
        erased = f" ({d['erased']} with the reason erased)" if d["erased"] else ""
        parts.append(f"<h3>{escape(d['task_type'])}: {d['declined']} declined{erased}</h3>")
        if d["reasons"]:
            parts.append(
                table(
                    ["reason", "times"],
                    [[r["reason"], r["count"]] for r in d["reasons"]],
                    numeric=(1,),
                )
            )
    return section("declines", "Declines and their reasons", *parts)


def _overdue(overdue: list[dict[str, Any]]) -> str:
    if not overdue:
        return section("overdue", "Overdue homework", para("Nothing is overdue.", "empty"))
    rows = [
        [
            ident(o["assignment"]),
            o["client"],
            o["therapist"],
            o["task_type"],
            o["stage"],
            o["due"],
            o["days_late"],
            f"{o['entries']} / {o['expected_entries']}",
        ]
        for o in overdue
    ]
    headers = ["homework", "client", "therapist", "task", "stage", "due", "days late", "entries"]
    return section("overdue", "Overdue homework", table(headers, rows, numeric=(6, 7)))


def _duration(hours: float) -> str:
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _clients(clients: dict[str, int]) -> str:
    """The clients by status, in a sentence (the erased are among the discharged)."""
    erased = f" ({clients['erased']} of them erased)" if clients["erased"] else ""
    return f"Clients: {clients['active']} active, {clients['discharged']} discharged{erased}."
