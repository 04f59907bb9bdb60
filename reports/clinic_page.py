"""The clinic's report as one HTML page: rates by task type, stage and therapist, completion
and ratings by template, declines and their reasons, overdue homework and how long agreement
takes."""

from __future__ import annotations

from html import escape
from typing import Any

from between.engine.contracts.charts import Chart, Series
from between.language import gettext as _
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


def groups() -> tuple[tuple[str, str, str, str, str], ...]:
    """Each grouping: its figures, section id, heading, chart title and column, in the current
    language."""
    return (
        (
            "by_task_type",
            "by-task-type",
            _("By task type"),
            _("Rates by task type"),
            _("task type"),
        ),
        ("by_stage", "by-stage", _("By stage"), _("Rates by stage"), _("stage")),
        (
            "by_therapist",
            "by-therapist",
            _("By therapist"),
            _("Rates by therapist"),
            _("therapist"),
        ),
    )


def clinic_page(figures: dict[str, Any]) -> str:
    t = figures["totals"]
    title = _("Clinic homework report")
    header = f"<h1>{escape(title)}</h1>\n" + para(
        _(
            "As of %(day)s · generated %(at)s UTC · clients appear by their codes only",
            day=figures["as_of"],
            at=when(figures["generated_at"]),
        ),
        "meta",
    )
    hours = t["median_hours_to_agree"]
    summary = section(
        "summary",
        _("Summary"),
        kpis(
            [
                (_("clients"), figures["clients"]["active"] + figures["clients"]["discharged"]),
                (_("homework"), t["homework"]),
                (_("agreement rate"), percent(t["agreement_rate"])),
                (_("entries done"), percent(t["entry_rate"])),
                (_("completed"), percent(t["completion_rate"])),
                (_("overdue"), t["overdue"]),
                (_("median time to agree"), "–" if hours is None else _duration(hours)),
            ]
        ),
        para(
            _clients(figures["clients"])
            + " "
            + _(
                "Agreement rate: agreed ÷ (agreed + declined). Entries done: entries recorded "
                "(up to the number agreed) ÷ entries agreed. Completed: agreed homework with all "
                "its entries. Ratings are the reviews' 0–4 means."
            )
        ),
    )
    numbers = iter(range(1, 1000))
    grouped = [
        _group(figures[key], ident_, heading, (chart, what), next(numbers))
        for key, ident_, heading, chart, what in groups()
    ]
    return page(
        title,
        header,
        [
            summary,
            *grouped,
            _templates(figures["by_template"]),
            _declines(figures["declines"]),
            _overdue(figures["overdue"]),
        ],
    )


def _group(
    rows: list[dict[str, Any]], ident_: str, title: str, named: tuple[str, str], number: int
) -> str:
    """A grouping's section: its chart (``named``: the chart's title and the column) and table."""
    chart_title, what = named
    if not any(r["homework"] for r in rows):
        return section(ident_, title, para(_("No homework yet."), "empty"))
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
        chart_title,
        (
            series(_("Agreed"), "agreement_rate"),
            series(_("Entries done"), "entry_rate"),
            series(_("Completed"), "completion_rate"),
        ),
        kind="bar",
        x="category",
        x_label=what,
        y_label="%",
        y_min=0,
        y_max=100,
        description=_(
            "Agreement, entry and completion rates for each %(what)s, in percent.", what=what
        ),
    )
    rows_ = [
        [
            r["key"],
            r["homework"],
            _of(r["agreement_rate"], r["agreed"], r["agreed"] + r["declined"]),
            _of(r["entry_rate"], r["entries_done"], r["entries_expected"]),
            _of(r["completion_rate"], r["complete"], r["agreed"]),
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
        _("homework"),
        _("agreed"),
        _("entries done"),
        _("completed"),
        _("reviews"),
        _("quantity"),
        _("quality"),
        _("difficulty"),
        _("overdue"),
        _("median to agree"),
    ]
    return section(
        ident_, title, chart_figure(chart, number), table(headers, rows_, numeric=range(1, 11))
    )


def _templates(rows: list[dict[str, Any]]) -> str:
    """Completion and ratings by the template homework was assigned from."""
    title = _("By template")
    if not rows:
        return section("by-template", title, para(_("No homework yet."), "empty"))
    shown = [
        [
            r["key"],
            ", ".join(r["versions"]) or "–",
            r["homework"],
            r["agreed"],
            r["declined"],
            _of(r["completion_rate"], r["complete"], r["agreed"]),
            r["reviews"],
            r["mean_quantity"],
            r["mean_quality"],
            r["mean_difficulty"],
        ]
        for r in rows
    ]
    headers = [
        _("template"),
        _("versions"),
        _("homework"),
        _("agreed"),
        _("declined"),
        _("completed"),
        _("reviews"),
        _("quantity"),
        _("quality"),
        _("difficulty"),
    ]
    caption = _(
        "Homework by the template it was assigned from, with each version seen; completed: "
        "agreed homework with all its entries; ratings: the reviews' 0–4 means."
    )
    return section(
        "by-template", title, table(headers, shown, numeric=range(2, 10), caption=caption)
    )


def _declines(declines: list[dict[str, Any]]) -> str:
    if not declines:
        return section(
            "declines",
            _("Declines and their reasons"),
            para(_("No homework was declined."), "empty"),
        )
    parts = []
    for d in declines:
        if d["erased"]:
            said = _(
                "%(task)s: %(count)s declined (%(erased)s with the reason erased)",
                task=d["task_type"],
                count=d["declined"],
                erased=d["erased"],
            )
        else:
            said = _("%(task)s: %(count)s declined", task=d["task_type"], count=d["declined"])
        parts.append(f"<h3>{escape(said)}</h3>")
        if d["reasons"]:
            parts.append(
                table(
                    [_("reason"), _("times")],
                    [[r["reason"], r["count"]] for r in d["reasons"]],
                    numeric=(1,),
                )
            )
    return section("declines", _("Declines and their reasons"), *parts)


def _overdue(overdue: list[dict[str, Any]]) -> str:
    if not overdue:
        return section("overdue", _("Overdue homework"), para(_("Nothing is overdue."), "empty"))
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
    headers = [
        _("homework"),
        _("client"),
        _("therapist"),
        _("task"),
        _("stage"),
        _("due"),
        _("days late"),
        _("entries"),
    ]
    return section("overdue", _("Overdue homework"), table(headers, rows, numeric=(6, 7)))


def _of(rate: float | None, part: int, whole: int) -> str:
    """A rate with what it counts: "50% (1 of 2)"."""
    return _("%(rate)s (%(part)s of %(whole)s)", rate=percent(rate), part=part, whole=whole)


def _duration(hours: float) -> str:
    if hours < 48:
        return _("%(hours)s h", hours=format(hours, ".1f"))
    return _("%(days)s days", days=format(hours / 24, ".1f"))


def _clients(clients: dict[str, int]) -> str:
    """The clients by status, in a sentence (the erased are among the discharged)."""
    if clients["erased"]:
        return _(
            "Clients: %(active)s active, %(discharged)s discharged (%(erased)s of them erased).",
            **clients,
        )
    return _("Clients: %(active)s active, %(discharged)s discharged.", **clients)
