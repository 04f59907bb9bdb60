"""Putting a report together: read, compute the figures, ask the plugins for charts, and
render (HTML needs matplotlib, imported only then; JSON needs nothing more). The HTML is
worded in the clinic's operator language (``[clinic] operator_language``); JSON keys stay
English."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from between.reports.charts import Sourced, plugin_charts, report_charts
from between.reports.client import client_figures, in_period, period_of
from between.reports.source import ReportSource, client_history


@dataclass
class ClientReport:
    """A client's figures, their charts, and when each homework's entries happened."""

    figures: dict[str, Any]
    charts: list[Sourced] = field(default_factory=list)
    entry_times: dict[str, list[str]] = field(default_factory=dict)

    def html(self, language: str | None = None) -> str:
        """The page, worded in ``language`` (the clinic's operator language; English)."""
        from between.language import use
        from between.reports.client_page import client_page

        with use(language):
            return client_page(self.figures, self.charts, self.entry_times)


def client_report(
    app: ReportSource,
    plugins: Any,
    ref: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> ClientReport:
    """One client's report (``ref`` is their code, or their id once erased)."""
    now = now or app.now()
    history = client_history(app, ref, until)
    period = period_of(history, since, until, now)
    homework = in_period(history, period)
    titles = {name: t.title for name, t in plugins.task_types.items()}
    figures = client_figures(history, homework, period, now, titles)
    charts = report_charts(figures)
    if not history.erased:
        theirs, notes = plugin_charts(plugins.manager, homework)
        charts += theirs
        figures["notes"] = notes
    figures["charts"] = [c.as_json() for c in charts]
    times = {d["id"]: [e["occurred_at"] for e in d["entry_list"]] for d in homework}
    return ClientReport(figures, charts, times)


def clinic_report(app: ReportSource, now: datetime | None = None) -> dict[str, Any]:
    """The clinic's figures."""
    from between.reports.clinic import read_clinic

    return read_clinic(app, now or app.now())


def clinic_html(figures: dict[str, Any], language: str | None = None) -> str:
    """The clinic's page, worded in ``language`` (the clinic's operator language; English)."""
    from between.language import use
    from between.reports.clinic_page import clinic_page

    with use(language):
        return clinic_page(figures)
