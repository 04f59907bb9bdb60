"""A person's progress on one homework: how many entries this week against what the week
asks for, and the task type's own charts of their entries — drawn as the report draws them.

The week: entries that happened in the last 7 days (up to now) against the entries expected
in a week. A homework spanning a week or less (from the day it was agreed to its due date)
expects all its entries in that week; a longer one spreads them evenly, rounded up:
``ceil(expected_entries × 7 / days)``. The charts come from the task types' plugins through
``between_report_charts`` (``reports.charts``), each an SVG with a caption and a data table
(``reports.html.chart_figure``), so they read in greyscale and by a screen reader; their
CSS becomes SVG attributes, as the portal's Content-Security-Policy allows no inline style.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from between.language import gettext as _

log = logging.getLogger(__name__)
_STYLE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;]+)")

WEEK = timedelta(days=7)


def per_week(item: dict, today: date) -> int:
    """The entries a week of this homework asks for (at least 1 when any are expected)."""
    expected = int(item.get("expected_entries") or 0)
    try:
        start = date.fromisoformat(str(item.get("agreed_at") or "")[:10])
        due = date.fromisoformat(str(item["due"])[:10])
    except ValueError:
        return expected
    days = (due - start).days + 1  # the due day counts
    if expected <= 0 or days <= 7:
        return expected
    return max(1, math.ceil(expected * 7 / days))


def this_week(entries: list[dict], now: datetime) -> int:
    """How many of ``entries`` happened in the 7 days up to ``now``."""
    count = 0
    for e in entries:
        try:
            moment = datetime.fromisoformat(e["occurred_at"])
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        count += now - WEEK < moment <= now
    return count


def week_line(item: dict, now: datetime, is_client: bool) -> str:
    """ "2 of 3 this week" (a collaborator's: "You added 2 this week")."""
    done = this_week(item["entries"], now)
    if not is_client:
        return _("You added %(done)s this week", done=done)
    return _("%(done)s of %(week)s this week", done=done, week=per_week(item, now.date()))


def charts(homework: Any, item: dict) -> list[Markup]:
    """The task type's charts of this person's entries, as figures (none without entries,
    or when the plugin has none or fails: the page is shown without them)."""
    if not item["entries"]:
        return []
    from between.reports.charts import plugin_charts, worded
    from between.reports.html import chart_figure

    shown = {
        "id": item["id"],
        "task_type": item["task_type"],
        "parameters": item.get("parameters") or {},
        "entry_list": item["entries"],
    }
    try:
        found, notes = plugin_charts(homework.plugins.manager, [shown])
    except Exception:  # a plugin's fault must not cost the person their page
        log.exception("the charts of a %s homework failed", item["task_type"])
        return []
    for note in notes:
        log.warning("%s", note)
    figures = []
    for number, sourced in enumerate(found, 1):
        try:
            figure = chart_figure(worded(sourced.chart), number)  # its words in theirs
            figures.append(Markup(without_inline_styles(figure)))
        except Exception:  # the plugin's data broke the drawing: leave this one out
            log.exception("a %s chart could not be drawn", item["task_type"])
    return figures


def without_inline_styles(figure: str) -> str:
    """The figure with its SVG's CSS as presentation attributes (``fill="…"``): the portal's
    Content-Security-Policy allows no inline style, and SVG presentation attributes are not
    style. matplotlib's sheet (``*{stroke-linejoin: round; …}``) goes on the ``<svg>``."""

    def attributes(css: str) -> str:
        pairs = _DECLARATION.findall(css)
        return "".join(f' {k}="{v.strip()}"' for k, v in pairs if '"' not in v)

    sheet = _STYLE_ELEMENT.search(figure)
    figure = _STYLE_ELEMENT.sub("", figure)
    figure = _STYLE.sub(lambda m: attributes(m.group(1)), figure)
    if sheet:
        inner = sheet.group(1).partition("{")[2].rpartition("}")[0]
        figure = figure.replace("<svg ", f"<svg{attributes(inner)} ", 1)
    return figure
