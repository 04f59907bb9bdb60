"""The therapist's reports in the clinic's operator language (``[clinic] operator_language``,
issue 24): the installed ``between report`` writes a Spanish page when the clinic asks for it,
keeps the JSON's keys English, and refuses a language Between does not speak."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import Clock, run_installed
from report_month import month

from between.engine.app import Homework
from between.engine.storage.store import Store


@pytest.fixture
def spanish_clinic(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The scripted month on a SQLite store, and a configuration naming Spanish for operators."""
    url = str(tmp_path / "month.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    try:
        month(app, app.clock)
    finally:
        app.close()
    config = tmp_path / "clinic.toml"
    config.write_text('[clinic]\noperator_language = "es"\n', encoding="utf-8")
    return {"BETWEEN_STORE": url, "BETWEEN_ACTOR": "dr.lee"}, config


def test_a_clinic_reading_spanish_gets_spanish_reports(spanish_clinic, tmp_path):
    env, config = spanish_clinic
    page = tmp_path / "x.html"
    run_installed(env, "--config", str(config), "report", "C-104", "-o", str(page), check=True)
    html = page.read_text(encoding="utf-8")
    assert '<html lang="es">' in html
    assert "<h1>Informe de tareas: C-104</h1>" in html
    for words in ("Periodo cubierto", "Etapas y tareas", "Anotaciones hechas y previstas"):
        assert f"<h2>{words}</h2>" in html
    assert "<summary>Tabla de datos</summary>" in html
    assert "Homework report" not in html and "Period covered" not in html

    clinic = run_installed(
        env, "--config", str(config), "report", "--clinic", "-o", "-", check=True
    ).stdout
    assert '<html lang="es">' in clinic and "<h1>Informe de tareas de la clínica</h1>" in clinic
    assert "<h2>Tareas vencidas</h2>" in clinic

    english = run_installed(env, "report", "C-104", "-o", "-", check=True).stdout
    assert '<html lang="en">' in english and "<h1>Homework report: C-104</h1>" in english

    figures = run_installed(env, "--config", str(config), "report", "C-104", "--json", check=True)
    keys = json.loads(figures.stdout)
    assert {"client", "period", "homework", "adherence"} <= set(keys)  # the keys stay English
    assert keys["charts"][0]["title"] in ("Review ratings", "Entries done and expected")


def test_an_operator_language_between_does_not_speak_is_refused(spanish_clinic, tmp_path):
    env, config = spanish_clinic
    config.write_text('[clinic]\noperator_language = "fr"\n', encoding="utf-8")
    refused = run_installed(env, "--config", str(config), "report", "C-104", "-o", "-")
    assert refused.returncode == 2 and refused.stdout == ""
    [line] = refused.stderr.strip().splitlines()
    assert str(config) in line and "[clinic] operator_language = 'fr'" in line
    assert '"en", "es"' in line and "Traceback" not in refused.stderr


def test_a_spanish_report_shows_the_plugins_chart_words_in_spanish(spanish_clinic, tmp_path):
    """A task-type plugin's chart words are translated by their English text; the data —
    dates, numbers, a collaborator's name — are shown as recorded."""
    env, config = spanish_clinic
    page = tmp_path / "x.html"
    run_installed(env, "--config", str(config), "report", "C-104", "-o", str(page), check=True)
    html = page.read_text(encoding="utf-8")
    charts = html.split('id="task-types"', 1)[1]
    captions = re.findall(r"<figcaption[^>]*><strong>([^<]+)</strong>", charts)
    for title in ("Anotaciones por día.", "Intensidad por día.",
                  "Tensión antes y después de cada práctica.", "SUDS en cada sesión de exposición."):  # fmt: skip
        assert title in captions, (title, captions)
    for english in ("Entries per day", "Intensity per day", "mean intensity", "Tension before"):
        assert english not in charts, english
    assert "<th>Sam</th>" in charts or ">Sam<" in charts  # a collaborator's name, as recorded

    figures = run_installed(env, "--config", str(config), "report", "C-104", "--json", check=True)
    titles = [c["title"] for c in json.loads(figures.stdout)["charts"]]
    assert "Entries per day" in titles  # the JSON stays English
