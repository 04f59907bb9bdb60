"""The charts of a client's report: the report's own (review ratings, entries against what
was expected) and each task-type plugin's, asked through ``between_report_charts``.

Every call into a plugin is a boundary: an implementation that raises, or answers with
something other than a list of ``Chart``, becomes a one-line note naming the plugin, and
the rest of the report is still produced. The hook is called through pluggy
(``hook_calls.call_hook``), so wrappers run and may change the answers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from between.engine.contracts.charts import Chart, Series
from between.engine.hooks.calls import call_hook

HOOK = "between_report_charts"
REPORT = "between.reports"  # the source named for the report's own charts


def N_(text: str) -> str:
    """Marks the words of the report's own charts for ``make messages``: they stay English in
    the figures (JSON) and are translated when the page is drawn (``worded``)."""
    return text


def worded(chart: Chart) -> Chart:
    """A chart with its words — title, axis labels, description, series labels — in the
    current language, for drawing: the report's own (``N_``) and a plugin's (found by
    ``between.language.extract``) alike. A word with no translation, and every data value,
    stays as it is."""
    from between.language import gettext

    def word(text: str) -> str:
        return gettext(text) if text else text  # gettext("") is the catalog's header

    return replace(
        chart,
        title=word(chart.title),
        x_label=word(chart.x_label),
        y_label=word(chart.y_label),
        description=word(chart.description),
        series=tuple(replace(s, label=word(s.label)) for s in chart.series),
    )


@dataclass(frozen=True)
class Sourced:
    """A chart and where it came from: a plugin (or the report itself) and a task type."""

    source: str
    task_type: str | None
    chart: Chart

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "task_type": self.task_type, **self.chart.as_json()}


def report_charts(figures: dict[str, Any]) -> list[Sourced]:
    """Review ratings over time, and entries done against expected for agreed homework."""
    out = []
    reviews = figures["reviews"]
    if reviews:
        series = tuple(
            Series(label, tuple((r["at"], r[name]) for r in reviews))
            for name, label in (
                ("quantity", N_("Quantity")),
                ("quality", N_("Quality")),
                ("difficulty", N_("Difficulty")),
            )
        )
        chart = Chart(
            N_("Review ratings"),
            series,
            y_label=N_("rating (0–4)"),
            y_min=0,
            y_max=4,
            description=N_(
                "Quantity done, quality, and difficulty experienced, as rated at each review (0–4)."
            ),
        )
        out.append(Sourced(REPORT, None, chart))
    agreed = [h for h in figures["homework"] if h["agreed_at"]]
    if agreed:
        labels = [f"{h['id'][:8]} {h['task_type']}" for h in agreed]
        chart = Chart(
            N_("Entries done and expected"),
            (
                Series(N_("Done"), tuple(zip(labels, (h["entries"] for h in agreed), strict=True))),
                Series(
                    N_("Expected"),
                    tuple(zip(labels, (h["expected_entries"] for h in agreed), strict=True)),
                ),
            ),
            kind="bar",
            x="category",
            y_label=N_("entries"),
            y_min=0,
            description=N_(
                "For each agreed homework, the entries recorded so far and the number agreed."
            ),
        )
        out.append(Sourced(REPORT, None, chart))
    return out


def plugin_charts(manager: Any, homework: list[dict[str, Any]]) -> tuple[list[Sourced], list[str]]:
    """Ask every plugin for charts of each task type in ``homework``; charts and notes."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for d in copy.deepcopy(homework):  # the plugins may do as they like with their copy
        by_type.setdefault(d["task_type"], []).append(d)
    charts: list[Sourced] = []
    notes: list[str] = []
    for task_type, items in by_type.items():

        def wrong(answer: Any, task_type: str = task_type) -> str | None:
            if isinstance(answer, list | tuple) and all(isinstance(c, Chart) for c in answer):
                return None
            return (
                f"returned {_kind(answer)} for {task_type}, not a list of Chart; "
                "its charts are left out"
            )

        outcome = call_hook(
            manager, HOOK, contain=True, check=wrong, task_type=task_type, assignments=items
        )
        for fault in outcome.faults:
            if fault.error is not None:
                notes.append(
                    f"plugin {fault.plugin}: {HOOK} failed for {task_type}: {_error(fault.error)}"
                )
            else:
                notes.append(f"plugin {fault.plugin}: {HOOK} {fault.problem}")
        answers = outcome.result if isinstance(outcome.result, list) else [outcome.result]
        for answer in answers:  # in pluggy's calling order; a wrapper may have changed them
            name = outcome.source(answer) or "?"
            problem = wrong(answer)
            if problem:
                notes.append(f"plugin {name}: {HOOK} {problem}")
                continue
            charts.extend(Sourced(name, task_type, c) for c in answer if not c.empty)
    return charts, notes


def _error(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        wrong = next(v for v in value if not isinstance(v, Chart))
        return f"a {type(value).__name__} holding {type(wrong).__name__}"
    return f"a {type(value).__name__}"
