"""The pieces every HTML report is made of: one self-contained page (inline CSS and SVG, no
scripts, nothing fetched), tables, figures with text alternatives, and print styles that
fit A4 and Letter alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from between.engine.contracts.charts import Chart
from between.language import current
from between.language import gettext as _
from between.reports.draw import caption, draw, label_svg, plain_number

CSS = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --rule: #c8c8c8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color: var(--ink); background: #fff; max-width: 62rem; margin: 2rem auto;
  padding: 0 1.25rem; }
h1 { font-size: 1.55rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem;
  margin: 2rem 0 .6rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
p { margin: .3rem 0 .6rem; }
.meta, .empty { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .22rem .5rem; border-bottom: 1px solid #e2e2e2;
  vertical-align: top; }
th { border-bottom: 1.5px solid #888; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
time { white-space: nowrap; }
.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; }
figure { margin: .8rem 0 1.4rem; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .2rem; }
figcaption strong { color: var(--ink); }
details > summary { cursor: pointer; color: var(--muted); font-size: .85rem; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr));
  gap: .5rem; margin: 1rem 0; }
.kpi { border: 1px solid var(--rule); border-radius: 4px; padding: .35rem .6rem; }
.kpi b { display: block; font-size: 1.25rem; }
.kpi span { color: var(--muted); font-size: .8rem; }
.status { border: 1px solid #777; border-radius: 3px; padding: 0 .3rem; font-size: .8rem;
  white-space: nowrap; }
.status-declined, .status-cancelled { border-style: dashed; }
.status-agreed { font-weight: 600; }
.note { border-left: 3px solid #c55a11; background: #fff6ef; padding: .3rem .6rem;
  margin: .3rem 0; }
ul.chains { padding-left: 1.2rem; }
@media print {
  @page { margin: 14mm 12mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; margin-top: 1.2rem; }
  h3 { break-after: avoid; }
  figure, tr, .kpis, .note { break-inside: avoid; }
  figure svg { max-width: 100%; }
  details { display: none; }
  .kpi, .note { background: none; }
}
"""


def page(title: str, header: str, sections: Iterable[str]) -> str:
    """A whole HTML document, in the current language (``between.language.use``)."""
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{current().language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header>\n{header}\n</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def section(ident: str, heading: str, *parts: str) -> str:
    inner = "\n".join(p for p in parts if p)
    return f'<section id="{ident}">\n<h2>{escape(heading)}</h2>\n{inner}\n</section>'


def para(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[int] = (),
    caption: str | None = None,
) -> str:
    """A table; cells are escaped unless wrapped in ``Raw``; ``numeric`` columns align right;
    ``caption`` (escaped) names it."""
    head = "".join(
        f'<th scope="col"{_num(i, numeric)}>{escape(h)}</th>' for i, h in enumerate(headers)
    )
    body = "\n".join(
        "<tr>" + "".join(f"<td{_num(i, numeric)}>{cell(v)}</td>" for i, v in enumerate(r)) + "</tr>"
        for r in rows
    )
    named = f"<caption>{escape(caption)}</caption>\n" if caption else ""
    return f"<table>\n{named}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


class Raw(str):
    """Markup that is already safe (built here from escaped parts)."""


def cell(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, float) or value is None:
        return plain_number(value)
    return escape(str(value))


def _num(i: int, numeric: Sequence[int]) -> str:
    return ' class="num"' if i in numeric else ""


def ident(value: str) -> Raw:
    """An id shown short (its first 8 characters), in full on hover."""
    return Raw(f'<span class="id" title="{escape(value)}">{escape(value[:8])}</span>')


def status(value: str) -> Raw:
    return Raw(f'<span class="status status-{escape(value)}">{escape(value)}</span>')


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def kpis(items: Iterable[tuple[str, Any]]) -> str:
    boxes = "".join(
        f'<div class="kpi"><b>{cell(value)}</b><span>{escape(label)}</span></div>'
        for label, value in items
    )
    return f'<div class="kpis">{boxes}</div>'


def chart_figure(chart: Chart, number: int, heading: str | None = None) -> str:
    """A chart as a figure: the SVG, a caption naming and describing it, and its data."""
    caption_id = f"chart-{number}-caption"
    svg = label_svg(draw(chart, salt=f"between-chart-{number}"), caption_id)
    data = escape(_("Data table"))
    return (
        f'<figure>\n{svg}\n<figcaption id="{caption_id}"><strong>'
        f"{escape(heading or chart.title)}.</strong> {escape(caption(chart))}</figcaption>\n"
        f"<details><summary>{data}</summary>\n{data_table(chart)}\n"
        "</details>\n</figure>"
    )


def svg_figure(svg: str, number: int, heading: str, text: str) -> str:
    """An SVG drawn elsewhere (the timeline), with its caption."""
    caption_id = f"chart-{number}-caption"
    return (
        f'<figure>\n{label_svg(svg, caption_id)}\n<figcaption id="{caption_id}"><strong>'
        f"{escape(heading)}.</strong> {escape(text)}</figcaption>\n</figure>"
    )


def data_table(chart: Chart) -> str:
    """The chart's values as a table: one row per x, one column per series."""
    xs: dict[Any, None] = {}
    for s in chart.series:
        for x, _y in s.points:
            xs.setdefault(x, None)
    values = [dict(s.points) for s in chart.series]
    headers = [chart.x_label or "x", *(s.label for s in chart.series)]
    rows = [[x, *(v.get(x) for v in values)] for x in xs]
    return table(headers, rows, numeric=range(1, len(headers)))


def when(moment: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (UTC), or a dash."""
    return moment[:16].replace("T", " ") if moment else "–"


def day(moment: str | None) -> str:
    return moment[:10] if moment else "–"


def stamp(moment: str | None, precise: bool = False) -> Raw | str:
    """A table cell for a time: its date (and minute if ``precise``), never wrapped."""
    if not moment:
        return "–"
    shown = when(moment) if precise else day(moment)
    return Raw(f'<time datetime="{escape(moment)}">{escape(shown)}</time>')
