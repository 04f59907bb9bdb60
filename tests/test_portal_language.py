"""The portal in the reader's language, and a template's own words on a homework's page.

``between serve`` runs as a real process. A client added with ``--language es`` reads their
pages in Spanish: ``<html lang="es">`` and days formatted by Babel for Spanish (which needs no
catalog); the words arrive with the Spanish catalog. Pages before a link is known use the
clinic's ``[clinic] language``."""

from __future__ import annotations

import html
import json
import re
from datetime import date

import pytest
from portal_server import Visitor, prepare, serving

LIBRARY_TEMPLATE = """
name = "walk-and-notice"
task_type = "self-monitoring"
title = "A walk to notice your mood"
summary = "Each day, a short walk and a few words about how you felt."
instructions = "Walk for ten minutes and write down how you felt."
rationale = "Seeing what lifts your mood"
stage = "baseline"
difficulty = 1
entries = 5
version = "{version}"

[parameters]
target = "low mood"
"""


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("language")
    found = prepare(folder)
    found.library = folder / "library"
    found.library.mkdir()
    (found.library / "walk-and-notice.toml").write_text(LIBRARY_TEMPLATE.format(version="1"))
    return found


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


def assigned(clinic, code: str, *how: str) -> str:
    """Agreed homework for ``code``; its id."""
    said = clinic.cli("assign", code, *how, "--due", "2026-12-14", "--allow-past-due")
    short = re.search(r"proposed ([0-9a-f]{8})", said)
    assert short, said
    clinic.cli("agree", short.group(1))
    return json.loads(clinic.cli("show", short.group(1), "--json"))["id"]


def test_a_spanish_client_reads_pages_in_spanish(server, clinic):
    from babel.dates import format_date

    clinic.cli("client", "add", "C-300", "--name", "Lucía", "--therapist", "dr.lee",
               "--language", "es", "--timezone", "Europe/Madrid")  # fmt: skip
    aid = assigned(clinic, "C-300", "--template", "self-monitoring-baseline")
    token = json.loads(clinic.cli("client", "link", "C-300", "--json"))["token"]
    visitor = Visitor(server)
    home = html.unescape(visitor.open_link(token).body)
    assert '<html lang="es">' in home
    spanish_day = format_date(date(2026, 12, 14), "full", locale="es_ES")  # lunes, 14 de …
    assert spanish_day in home
    page = html.unescape(visitor.get(f"/homework/{aid}").body)
    assert '<html lang="es">' in page and spanish_day in page
    english = Visitor(server)
    assert '<html lang="en">' in english.open_link(clinic.tokens["client"]).body


def test_a_spanish_client_reads_refusals_and_past_entries_in_spanish(server, clinic):
    clinic.cli("client", "add", "C-301", "--name", "Marta", "--therapist", "dr.lee",
               "--language", "es", "--timezone", "Europe/Madrid")  # fmt: skip
    aid = assigned(clinic, "C-301", "--template", "self-monitoring-baseline")
    token = json.loads(clinic.cli("client", "link", "C-301", "--json"))["token"]
    visitor = Visitor(server)
    visitor.open_link(token)
    form = visitor.get(f"/homework/{aid}").form(aid)
    refused = visitor.post(f"/homework/{aid}", {**form, "field.intensity": "500"})
    assert refused.status == 422
    body = html.unescape(refused.body)
    summary = body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    links = re.findall(r'<a href="#[^"]+">([^<]+)</a>', summary)
    assert links == [
        "¿Dónde estabas y qué estaba pasando? Por favor, responde a esta pregunta.",
        "¿Qué tan fuerte fue esa emoción? Por favor, indica un número del 0 al 100.",
    ]
    assert (
        '<p class="error" id="f-' in body
        and ">Por favor, indica un número del 0 al 100.</p>" in body
    )
    for english in ("is required", "must be", "Situation", "Intensity", "Please"):
        assert english not in body, english
    form = visitor.get(f"/homework/{aid}").form(aid)
    done = visitor.post(
        f"/homework/{aid}", {**form, "field.situation": "en casa", "field.intensity": "40"}
    )
    assert done.status == 303
    past = html.unescape(visitor.get(f"/homework/{aid}").body).split('<ol class="entries"', 1)[1]
    assert "<dt>¿Dónde estabas y qué estaba pasando?</dt><dd>en casa</dd>" in past
    assert "<dt>¿Qué tan fuerte fue esa emoción?</dt><dd>40</dd>" in past


def test_pages_without_a_link_use_the_clinics_language(server, tmp_path):
    gone = Visitor(server).get("/l/" + "x" * 43)
    assert gone.status == 404 and '<html lang="en">' in gone.body  # no [clinic] language
    spanish = prepare(tmp_path / "es")
    spanish.config.write_text(spanish.config.read_text() + '\n[clinic]\nlanguage = "es"\n')
    with serving(spanish) as server:
        visitor = Visitor(server)
        gone = visitor.get("/l/" + "x" * 43)
        assert gone.status == 404 and '<html lang="es">' in gone.body
        assert '<html lang="es">' in visitor.get("/").body  # no link yet
        home = visitor.open_link(spanish.tokens["client"]).body  # the client chose none
        assert '<html lang="es">' in home


def test_a_templates_own_words_show_while_its_version_is_the_librarys(server, clinic):
    starter = assigned(clinic, clinic.code, "--template", "self-monitoring-baseline")
    mine = assigned(clinic, clinic.code, "--template", "walk-and-notice")
    visitor = Visitor(server)
    visitor.open_link(clinic.tokens["client"])
    page = html.unescape(visitor.get(f"/homework/{starter}").body)
    assert '<h1 id="f-' + starter + '-title">Noticing how you feel</h1>' in page
    assert "For one week, jot down a few words" in page
    page = html.unescape(visitor.get(f"/homework/{mine}").body)
    assert ">A walk to notice your mood</h1>" in page
    assert "Each day, a short walk" in page


def test_an_edited_template_no_longer_names_homework_given_under_the_old(tmp_path):
    clinic = prepare(tmp_path / "edited")
    clinic.library = tmp_path / "library"
    clinic.library.mkdir()
    template = clinic.library / "walk-and-notice.toml"
    template.write_text(LIBRARY_TEMPLATE.format(version="1"))
    aid = assigned(clinic, clinic.code, "--template", "walk-and-notice")
    template.write_text(LIBRARY_TEMPLATE.format(version="2").replace("A walk", "A long walk"))
    with serving(clinic) as server:
        visitor = Visitor(server)
        visitor.open_link(clinic.tokens["client"])
        page = html.unescape(visitor.get(f"/homework/{aid}").body)
    assert "walk to notice" not in page and "Each day" not in page
    assert f'<h1 id="f-{aid}-title">Self-monitoring log</h1>' in page  # the task type's


def spanish_client(clinic, code: str) -> str:
    """A new client reading Spanish; their link's token."""
    clinic.cli("client", "add", code, "--name", "Inés", "--therapist", "dr.lee",
               "--language", "es", "--timezone", "Europe/Madrid")  # fmt: skip
    return json.loads(clinic.cli("client", "link", code, "--json"))["token"]


def test_a_spanish_client_reads_a_starter_templates_instructions_in_spanish(server, clinic):
    """A starter template's recorded English is looked up in the catalog where it is shown;
    the therapist's own words are shown as written."""
    token = spanish_client(clinic, "C-302")
    starter = assigned(clinic, "C-302", "--template", "self-monitoring-baseline")
    own = assigned(clinic, "C-302", "self-monitoring", "--instructions",
                   "Camina diez minutos y apunta cómo te sentiste.", "--rationale",
                   "Each walk tells us something.", "--stage", "baseline", "--difficulty", "1",
                   "--field", "target=low mood")  # fmt: skip
    visitor = Visitor(server)
    home = html.unescape(visitor.open_link(token).body)
    assert "Camina diez minutos y apunta cómo te sentiste." in home  # the card's line
    page = html.unescape(visitor.get(f"/homework/{starter}").body)
    texts = re.findall(r'<p class="text">(.*?)</p>', page, re.S)
    assert texts == [
        "Cada vez que notes que sientes ansiedad o el ánimo bajo, escribe unas pocas palabras: "
        "dónde estabas, qué se te pasó por la cabeza, qué sentiste, qué tan fuerte fue del 0 al "
        "100 y qué hiciste. No hay respuestas correctas ni incorrectas, y todavía no tienes que "
        "cambiar nada. Darte cuenta ya es toda la tarea.",
        "Ver cuándo y dónde aparecen las emociones difíciles nos da a los dos un punto de "
        "partida, para que más adelante podamos saber qué te está ayudando.",
    ]
    page = html.unescape(visitor.get(f"/homework/{own}").body)
    assert re.findall(r'<p class="text">(.*?)</p>', page, re.S) == [
        "Camina diez minutos y apunta cómo te sentiste.",
        "Each walk tells us something.",
    ]
    recorded = json.loads(clinic.cli("show", starter[:8], "--json"))
    assert recorded["instructions"].startswith("Each time you notice yourself")  # as recorded


def test_a_spanish_client_reads_the_charts_of_their_entries_in_spanish(server, clinic):
    token = spanish_client(clinic, "C-303")
    aid = assigned(clinic, "C-303", "--template", "self-monitoring-baseline")
    visitor = Visitor(server)
    visitor.open_link(token)
    form = visitor.get(f"/homework/{aid}").form(aid)
    done = visitor.post(
        f"/homework/{aid}", {**form, "field.situation": "en el trabajo", "field.intensity": "60"}
    )
    assert done.status == 303
    page = html.unescape(visitor.get(f"/homework/{aid}").body)
    progress = page.split('class="your-progress"', 1)[1].split("</section>", 1)[0]
    captions = re.findall(r"<figcaption[^>]*><strong>([^<]+)</strong>", progress)
    assert captions == ["Anotaciones por día.", "Intensidad por día."]
    assert "La intensidad media de la emoción en cada día con anotaciones puntuadas." in progress
    assert "intensidad media" in progress and "intensidad (0–100)" in progress
    for english in ("Entries per day", "Intensity per day", "mean intensity", "intensity (0–100)"):
        assert english not in progress, english
