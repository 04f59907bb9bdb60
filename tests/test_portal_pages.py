"""The portal's pages over plain HTTP, against ``between serve`` running as a real process: a
home of short cards, one page per homework, the client's own words and their progress."""

from __future__ import annotations

import html
import re

import pytest
from portal_server import COLLABORATOR, Visitor, prepare, serving


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


def fill(visitor: Visitor, aid: str, **fields: str) -> dict[str, str]:
    page = visitor.get(f"/homework/{aid}")
    assert page.status == 200
    return {**page.form(aid), **{f"field.{k}": v for k, v in fields.items()}}


def test_the_home_is_short_cards_with_one_link_each_and_no_form(server, clinic):
    v = Visitor(server)
    home = html.unescape(v.open_link(clinic.link()).body)
    assert "<form" not in home
    cards = re.findall(r'<li class="card" id="hw-([^"]+)">(.*?)</li>', home, re.S)
    shown = [aid for aid, _ in cards]
    open_ones = [clinic.homework[k] for k in ("monitoring", "exposure", "worksheet")]
    assert sorted(shown) == sorted(open_ones)
    for aid, card in cards:
        links = re.findall(r'<a class="action" href="([^"]+)">([^<]+)<', card)
        assert links == [(f"/homework/{aid}#record", links[0][1])]
        assert links[0][1] in ("Add today's entry", "Add another entry")
        assert re.search(r'class="progress">\d+ of \d+ entries<', card)
    closed = home.split("Finished and closed homework", 1)[1]
    assert f'href="/homework/{clinic.homework["declined"]}"' in closed
    assert "<details" in home.split("Finished and closed homework", 1)[0].rsplit("</ul>", 1)[1]


def test_each_homework_has_its_own_page_only_for_those_who_may_see_it(server, clinic):
    client, sam = Visitor(server), Visitor(server)
    client.open_link(clinic.link())
    sam.open_link(clinic.link(COLLABORATOR))
    aid = clinic.homework["exposure"]
    page = html.unescape(client.get(f"/homework/{aid}").body)
    assert "<title>Your homework — Riverside Clinic</title>" in page
    for part in ("What to do", "Why", "Your progress", "Record an entry", "Past entries"):
        assert f">{part}</h2>" in page
    assert '<a href="/">All your homework</a>' in page
    assert sam.get(f"/homework/{aid}").status == 404  # not one Sam observes
    assert client.get("/homework/00000000-0000-4000-8000-000000000000").status == 404
    assert client.get("/homework/not-a-uuid").status == 404


def test_the_form_asks_in_the_client_s_words_and_explains_its_terms(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    exposure = html.unescape(v.get(f"/homework/{clinic.homework['exposure']}").body)
    assert ">How anxious were you just before you started?</label>" in exposure
    assert "0 is calm, 100 the most anxious you can imagine." in exposure
    worksheet = html.unescape(v.get(f"/homework/{clinic.homework['worksheet']}").body)
    assert ">What was the best moment of your week?</label>" in worksheet
    assert "Small things count too." in worksheet


def test_an_entry_recorded_returns_to_its_page_with_a_notice_and_the_week_s_progress(
    server, clinic
):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid = clinic.homework["exposure"]
    before = re.search(r"(\d+) of (\d+) this week", v.get(f"/homework/{aid}").body)
    assert before
    numbers = {"suds_before": "50", "suds_peak": "80", "suds_after": "30", "minutes": "20"}
    done = v.post(f"/homework/{aid}", fill(v, aid, **numbers))
    assert (done.status, done.headers["Location"]) == (303, f"/homework/{aid}")
    page = v.get(f"/homework/{aid}").body
    assert '<p class="notice" role="status">Your entry was recorded.</p>' in page
    assert f"{int(before.group(1)) + 1} of {before.group(2)} this week" in page
    # the task type's chart, drawn as the report draws it: an SVG named by its caption,
    # with the data as a table
    figure = page.split('<section class="your-progress"', 1)[1].split("</section>", 1)[0]
    svg = re.search(r'<svg [^>]*role="img" aria-labelledby="(chart-\d+-caption)"', figure)
    assert svg and f'<figcaption id="{svg.group(1)}">' in figure
    assert "<table>" in figure and "Data table" in figure
    assert "style=" not in figure and "<style" not in figure  # the CSP allows no inline style
    assert 'stroke-linejoin="round"' in figure and ' fill="#' in figure  # but attributes
    assert "Your entry was recorded." not in v.get(f"/homework/{aid}").body  # shown once


def test_a_refused_entry_is_this_homework_s_page_again_with_what_was_typed(server, clinic):
    v = Visitor(server)
    v.open_link(clinic.link())
    aid = clinic.homework["exposure"]
    form = fill(v, aid, suds_before="40", suds_peak="140", minutes="15")
    refused = v.post(f"/homework/{aid}", {**form, "occurred_at": "tomorrow"})
    assert refused.status == 422
    body = html.unescape(refused.body)
    assert f'<article class="homework" id="hw-{aid}"' in body
    assert (
        body.split('<main id="main" tabindex="-1">', 1)[1]
        .lstrip()
        .startswith(
            '<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus'
        )
    )
    assert "How anxious were you at the hardest moment? Please give a number from 0 to 100." in body
    assert 'value="140"' in body
    when = body.split(f'id="f-{aid}-when-field"', 1)[1].split("</div>", 1)[0]
    assert '<p class="error"' in when and 'value="tomorrow"' in when
    assert '<a href="/">All your homework</a>' in body


def test_proposed_homework_is_new_homework_to_talk_about(server, clinic):
    app = clinic.open()
    try:
        aid = app.propose(
            clinic.code,
            "relaxation",
            instructions="Breathe slowly for ten minutes",
            rationale="To calm the body",
            stage="practice",
            difficulty=2,
            due="+14",
            expected_entries=7,
            parameters={"technique": "other"},
            actor="dr.lee",
        ).result
    finally:
        app.close()
    client, sam = Visitor(server), Visitor(server)
    home = html.unescape(client.open_link(clinic.link()).body)
    new = home.split('<h2 class="section">New homework to talk about</h2>', 1)[1]
    new = new.split("</ul>", 1)[0]
    assert f'<li class="card card-proposed" id="hw-{aid}">' in new
    assert f'href="/homework/{aid}">Look at this homework' in new
    assert f'id="hw-{aid}"' not in home.split("New homework to talk about", 1)[0]
    page = html.unescape(client.get(f"/homework/{aid}").body)
    assert "Nothing is due until you agree" in page
    assert 'action="/homework/' + aid + '"' not in page  # no entry form
    # What is proposed, why, then the answers first; a note to the therapist after them.
    order = [
        "Breathe slowly",
        "To calm the body",
        f"/homework/{aid}/agree",
        f"/homework/{aid}/note",
    ]
    assert sorted(order, key=page.index) == order
    keys = re.findall(r'name="form_key" value="([^"]+)"', page)
    assert len(keys) == 4 and len(set(keys)) == 4  # agree, change, decline, note: each its own
    sam.open_link(clinic.link(COLLABORATOR))
    assert sam.get(f"/homework/{aid}").status == 404  # proposals are the client's alone
