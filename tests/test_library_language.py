"""The starter templates' instructions and rationale, and the plugins' chart words, in the
reader's language: found by the extractor as the plugins write them, and translated by their
English text where they are shown (docs/translating.md)."""

from __future__ import annotations

import io
from dataclasses import fields
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS

from between.engine.contracts.charts import Chart, Series
from between.language import translator, use
from between.language.extract import CHARTS, extract_python
from between.plugins.starter_library import STARTER
from between.reports.charts import worded

ROOT = Path(__file__).resolve().parent.parent


def found_in(source: str) -> list[str]:
    """The messages the project's extractor finds in ``source``."""
    found = extract_python(io.BytesIO(source.encode("utf-8")), DEFAULT_KEYWORDS, [], {})
    return [message for _line, _func, message, _comments in found]


def test_every_starter_templates_full_texts_are_extracted():
    found = []
    for name in ("starter_library.py", "starter_ladders.py"):
        found += found_in((ROOT / "plugins" / name).read_text(encoding="utf-8"))
    missing = [
        f"{t.name}: {kind}"
        for t in STARTER
        for kind, text in (("instructions", t.instructions), ("rationale", t.rationale))
        if text not in found
    ]
    assert not missing, missing


def test_chart_words_are_found_by_position_or_keyword():
    source = (
        "from between import Chart, Series\n"
        "SCALE = 'mood (0–10)'\n"
        "chart = Chart('Mood per day', [Series('mean mood', []), Series(label='low', points=[])],"
        " 'line', 'time', 'day', SCALE, description='How you felt.')\n"
        "other = Chart(title='Sleep', series=[Series(who, [])], x_label=f'{unit}')\n"
    )
    assert sorted(found_in(source)) == sorted(
        ["Mood per day", "day", "mood (0–10)", "How you felt.", "mean mood", "low", "Sleep"]
    )


def test_the_extractors_chart_parameters_are_the_charts_own():
    for cls in (Chart, Series):
        assert CHARTS[cls.__name__].split() == [f.name for f in fields(cls)], cls.__name__


def test_a_plugin_charts_words_are_worded_and_its_data_kept():
    chart = Chart(
        "Entries per day",
        [Series("mean intensity", [("2026-03-02", 40)]), Series("Sam", [("2026-03-02", 2)])],
        y_label="intensity (0–100)",
    )
    with use("es"):
        shown = worded(chart)
    assert shown.title == "Anotaciones por día"
    assert shown.y_label == "intensidad (0–100)"
    assert [s.label for s in shown.series] == ["intensidad media", "Sam"]  # a name as given
    assert shown.series[0].points == (("2026-03-02", 40),) and shown.description == ""
    assert shown.x_label == ""  # not the catalog's header, which is what gettext("") gives


def test_every_starter_templates_instructions_and_rationale_have_spanish():
    es = translator("es")
    untranslated = [
        f"{t.name}: {text[:60]}"
        for t in STARTER
        for text in (t.instructions, t.rationale)
        if es.gettext(text) == text
    ]
    assert not untranslated, "no Spanish for:\n" + "\n".join(untranslated)
