"""The portal's parts on their own: forms from schemas, the rate limit, signatures, the config."""

from __future__ import annotations

import os
import re
import subprocess
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from between import Field, InvalidInput, Schema, Settings
from between.plugins.graded_exposure import GRADED_EXPOSURE
from between.portal.config import check_portal_table, portal_config
from between.portal.field_messages import about, field_errors
from between.portal.forms import (
    entry_lines,
    in_zone,
    local_time,
    read_fields,
    when_problem,
    widgets,
)
from between.portal.security import RateLimiter, SignatureError, sign, verify

SCHEMA = Schema(
    (
        Field("note", max_length=80, help="a few words"),
        Field("story", min_length=20),
        Field("count", "integer", minimum=0, maximum=10),
        Field("weight", "number", required=False),
        Field("done", "boolean"),
        Field("maybe", "boolean", required=False),
        Field("mood", "choice", choices=("low", "high")),
        Field("day", "choice", choices=tuple("abcdefg"), required=False),
        Field("when", "datetime", required=False),
        Field("things", "list", required=False),
        Field("feelings", "ratings", minimum=0, maximum=10, required=False),
    )
)


def test_each_field_type_gets_its_own_input():
    made = {w.name.removeprefix("field."): w for w in widgets(SCHEMA, "f")}
    assert (made["note"].kind, made["note"].attributes) == ("input", {"maxlength": "80"})
    assert made["story"].kind == "textarea" and made["story"].hint == "at least 20 characters"
    count = made["count"]
    assert (count.input_type, count.hint) == ("number", "a whole number from 0 to 10")
    assert count.attributes == {"step": "1", "inputmode": "numeric", "min": "0", "max": "10"}
    assert made["weight"].attributes["step"] == "any" and not made["weight"].required
    assert [o.value for o in made["done"].options] == ["yes", "no"]
    assert [o.value for o in made["maybe"].options] == ["yes", "no", ""]
    assert (made["mood"].kind, made["day"].kind) == ("radios", "select")
    assert made["when"].input_type == "datetime-local"
    assert made["things"].kind == made["feelings"].kind == "textarea"
    assert made["feelings"].hint.endswith("; each rating a number from 0 to 10")
    assert made["weight"].hint == "a number"
    assert len({w.id for w in made.values()}) == len(made)


def test_typed_values_and_errors_are_shown_again():
    typed = {"field.count": "11", "field.mood": "high", "field.note": "<b>hi</b>"}
    made = {w.name: w for w in widgets(SCHEMA, "f", typed, {"count": "Count must be at most 10"})}
    assert made["field.count"].value == "11" and made["field.count"].error
    assert made["field.count"].described_by == "f-3-hint f-3-error"
    assert [o.chosen for o in made["field.mood"].options] == [False, True]
    assert made["field.note"].value == "<b>hi</b>"  # escaped by the template, kept as typed


def test_a_submitted_form_becomes_fields_for_the_engine():
    form = {
        "field.note": "  ",
        "field.story": "the first line\r\nand the second",
        "field.count": "7",
        "field.done": "no",
        "field.things": "walk\nread, call mum\n\n",
        "field.feelings": "calm: 7\nangry:2",
        "csrf_token": "x",
    }
    fields, problems = read_fields(SCHEMA, form)
    assert problems == {}
    assert fields == {
        "story": "the first line\nand the second",
        "count": "7",
        "done": False,
        "things": ["walk", "read", "call mum"],
        "feelings": {"calm": "7", "angry": "2"},
    }
    clean = SCHEMA.validate({**fields, "note": "n", "mood": "low"}, "entry")
    assert clean["count"] == 7 and clean["feelings"] == {"calm": 7.0, "angry": 2.0}
    assert read_fields(SCHEMA, {"field.feelings": "calm 7"})[1] == {
        "feelings": "must look like label:number,label:number"  # the engine's words
    }
    assert field_errors(SCHEMA, {"feelings": "must look like label:number,label:number"})[0] == {
        "feelings": "Please write one rating per line: a word, a colon, then its number."
    }


def test_messages_go_beside_their_fields_or_on_top():
    beside, top = field_errors(
        GRADED_EXPOSURE.entries,
        {"suds_peak": "must be at most 100", "minutes": "minutes is required", "x_y": "unknown"},
    )
    assert beside == {
        "suds_peak": "Please give a number from 0 to 100.",
        "minutes": "Please answer this question.",
    }
    assert top == ["Please check your answers. (unknown)"]  # English: the engine's words too


def test_each_kind_of_refusal_reads_in_plain_words():
    refusals = {
        "count": ("must be a whole number", "Please give a whole number."),
        "weight": ("must be a number", "Please give a number."),
        "mood": ("must be one of low, high", "Please choose one of the options."),
        "done": ("must be yes or no", "Please choose one of the options."),
        "note": ("is 81 characters; the limit is 80", "Please write at most 80 characters."),
        "story": ("needs at least 20 characters", "Please write at least 20 characters."),
        "feelings": ("rating for 'calm' must be at most 10", "Please give a number from 0 to 10."),
        "things": ("does something new", "Please check this answer. (does something new)"),
    }
    beside, top = field_errors(SCHEMA, {name: said for name, (said, _) in refusals.items()})
    assert beside == {name: plain for name, (_, plain) in refusals.items()} and top == []
    assert about("Count", "Please give a whole number.") == "Count: Please give a whole number."
    assert about("How strong?", "Please answer.") == "How strong? Please answer."


def test_a_spanish_reader_never_reads_the_engine_s_words():
    from between.language import use

    with use("es"):
        beside, top = field_errors(
            SCHEMA, {"count": "must be at most 10", "things": "does something new", "": "odd"}
        )
    assert beside["count"] == "Por favor, indica un número del 0 al 10."
    assert "something" not in beside["things"] and beside["things"]
    assert top and "odd" not in top[0]


def test_a_typed_time_is_read_in_the_client_s_zone():
    assert in_zone("2026-12-07T04:00", "Pacific/Honolulu") == "2026-12-07T14:00:00+00:00"
    assert in_zone("2026-12-07T13:00", "Pacific/Kiritimati") == "2026-12-06T23:00:00+00:00"
    assert in_zone("2026-12-07T04:00+01:00", "Pacific/Honolulu") == "2026-12-07T04:00+01:00"
    assert in_zone("yesterday", "Pacific/Honolulu") == "yesterday"
    assert in_zone("2026-12-07T04:00", None) == "2026-12-07T04:00"  # the server's, as before
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 00:00 on the 8th in Kiritimati
    assert when_problem("2026-12-07T23:00", now, "Pacific/Kiritimati") == ""
    assert when_problem("2026-12-07T23:00", now, "Pacific/Honolulu") != ""  # in the future
    fields, _problems = read_fields(SCHEMA, {"field.when": "2026-12-07T04:00"}, "Pacific/Honolulu")
    assert fields == {"when": "2026-12-07T14:00:00+00:00"}


def test_when_it_happened_is_judged_by_the_engine_s_rule_in_plain_words():
    now = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert when_problem(None, now) == when_problem("", now) == ""
    for typed in ("2026-12-01T09:15", now.astimezone().isoformat()):
        assert when_problem(typed, now) == ""
    later = (now + timedelta(hours=1)).astimezone().isoformat()
    assert when_problem(later, now) == (
        "This can't be in the future. Enter when it happened, or leave it empty."
    )
    for typed in ("yesterday", "2026-13-01T10:00", "0999-01-01T10:00"):
        message = when_problem(typed, now)
        assert message.startswith("Please enter when this happened, like 2026-12-0"), typed
        assert "occurred" not in message and typed not in message


def test_times_read_back_in_the_clinic_s_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert local_time("2026-03-02T09:00:00+00:00") == "2026-03-02 10:00 CET"
        assert local_time("not a time") == "not a time"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_past_entries_read_back_in_the_schemas_order():
    lines = entry_lines(
        SCHEMA,
        {"things": ["a", "b"], "done": True, "count": 3.0, "when": "2026-03-02T09:00:00+00:00"},
    )
    assert lines == [
        ("Count", "3"),
        ("Done", "yes"),
        ("When", local_time("2026-03-02T09:00:00+00:00")),
        ("Things", "a, b"),
    ]
    asked = Schema((Field("mood", "choice", choices=("low", "high"), question="How was it?"),))
    assert entry_lines(asked, {"mood": "low", "extra_note": "x"}) == [
        ("How was it?", "low"),
        ("Extra note", "x"),
    ]
    assert entry_lines(SCHEMA, {"when": "2026-03-02T09:00:00+00:00"}, "Pacific/Honolulu") == [
        ("When", "2026-03-01 23:00 HST")
    ]


def test_the_rate_limit_is_a_bucket_per_key_refilled_over_a_minute():
    now = [1000.0]
    limit = RateLimiter(3, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")
    now[0] += 20  # a third of a minute: one request back
    assert [limit.allow("a"), limit.allow("a")] == [True, False]


def signed(body: bytes, stamp: int, secret: str = "k" * 32, name: str = "forms") -> dict:
    return {
        "X-Between-Integration": name,
        "X-Between-Timestamp": str(stamp),
        "X-Between-Signature": sign(secret, str(stamp), body),
    }


def test_a_signature_binds_the_integration_the_time_and_the_body():
    secrets, body, now = {"forms": "k" * 32}, b'{"a": 1}', time.time()
    assert verify(signed(body, int(now)), body, secrets, now).integration == "forms"
    replayed = {**signed(body, int(now) - 400), "X-Between-Timestamp": str(int(now))}
    cases = {
        "unknown integration": signed(body, int(now), name="other"),
        "more than 300 seconds": signed(body, int(now) - 301),
        "does not match": replayed,
        "whole Unix seconds": {**signed(body, int(now)), "X-Between-Timestamp": "soon"},
    }
    for reason, headers in cases.items():
        with pytest.raises(SignatureError, match=reason):
            verify(headers, body, secrets, now)
    with pytest.raises(SignatureError, match="does not match"):
        verify(signed(body, int(now), secret="j" * 32), body, secrets, now)
    with pytest.raises(SignatureError, match="does not match"):
        verify(signed(body, int(now)), body + b" ", secrets, now)


def test_the_portal_table_is_checked_in_one_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[portal]\nport = 9000\nclinic_name = "Riverside"\nrate_per_minute = 5\n'
        f'[portal.integrations.forms]\nsecret = "{"s" * 32}"\n'
    )
    settings = Settings(config_file=config)
    chosen = portal_config(settings, None, 9100, "https://homework.example/")
    assert (chosen.host, chosen.port, chosen.rate_per_minute) == ("127.0.0.1", 9100, 5)
    assert chosen.secure and chosen.public_url == "https://homework.example"
    assert chosen.integrations == {"forms": "s" * 32}
    bad = {
        "prot = 1": "[portal] prot is not a setting",
        "port = 0": "[portal] port = 0 must be a whole number from 1 to 65535",
        'url = "ftp://x"': "[portal] url = 'ftp://x' must be an http(s):// URL",
        'session_secret = "short"': "[portal] session_secret = … must be text of at least 32",
    }
    for line, message in bad.items():
        with pytest.raises(InvalidInput, match=re.escape(message)):
            check_portal_table(tomllib.loads(line), config)
    with pytest.raises(InvalidInput, match=r"\[portal.integrations.forms\] needs secret"):
        check_portal_table({"integrations": {"forms": {}}}, config)
    with pytest.raises(InvalidInput, match="--url 'homework.example'"):
        portal_config(settings, None, None, "homework.example")


@pytest.mark.parametrize(
    "url",
    ["https://exa%20mple.com", "https://exa_mple.com", "https://-x.example", "https://a..b",
     "https://999.1.1.1", "http://12345:8080", "https://" + "x" * 64 + ".example"],
)  # fmt: skip
def test_serve_refuses_a_url_whose_host_is_not_a_host_name(tmp_path: Path, url: str):
    """Run as the installed command: ``serve`` stops before listening, in one line, exit 2."""
    from helpers import BETWEEN

    env = {k: v for k, v in os.environ.items() if not k.startswith("BETWEEN_")}
    args = [BETWEEN, "--store", str(tmp_path / "s.db"), "serve", "--port", "1", "--url", url]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr == f"error: --url {url!r} has no valid host: give a DNS name, an IPv4 "
        "address or a [bracketed IPv6] one\n"
    )


@pytest.mark.parametrize(
    "url", ["https://homework.clinic.example.", "http://10.0.0.7:8080", "http://[::1]:8080/"]
)
def test_a_url_may_name_a_dns_name_an_ipv4_or_a_bracketed_ipv6_host(tmp_path: Path, url: str):
    chosen = portal_config(Settings(), None, None, url)
    assert chosen.public_url == url.rstrip("/")


def _item(aid: str, due: str, status: str = "agreed", **more) -> dict:
    return {
        "id": aid,
        "title": f"Homework {aid}",
        "due": due,
        "status": status,
        "accepts_entries": status == "agreed",
        "entries_done": 1,
        "expected_entries": 5,
        "entries": [],
        **more,
    }


def test_the_home_puts_what_comes_next_first_and_the_rest_in_their_own_sections():
    from datetime import date

    from between.portal.home import sections

    today = date(2026, 12, 10)  # a Thursday
    items = [
        _item("later", "2026-12-20"),
        _item("overdue", "2026-12-08"),
        _item("done", "2026-12-01", "closed"),
        _item("no", "2026-12-30", "declined"),
        _item("new", "2026-12-24", "proposed", proposed=True),
        _item("soon", "2026-12-10"),
    ]
    shown = sections(items, True, today)
    assert [c["id"] for c in shown["open"]] == ["overdue", "soon", "later"]
    assert [c["id"] for c in shown["proposed"]] == ["new"]
    assert [c["id"] for c in shown["closed"]] == ["done", "no"]
    overdue, soon, later = shown["open"]
    assert overdue["due"] == "This was due on Tuesday, 8 December 2026. You can still add entries."
    assert (soon["due"], later["due"]) == ("Due today", "Due Sunday, 20 December 2026")
    assert overdue["progress"] == "1 of 5 entries"
    assert (overdue["action"], overdue["href"]) == ("Add today's entry", "/homework/overdue#record")
    assert (shown["closed"][0]["status"], shown["closed"][0]["action"]) == (
        "finished",
        "Look at this homework",
    )
    assert shown["proposed"][0]["href"] == "/homework/new"


def test_a_template_s_title_and_summary_head_the_homework():
    from between.portal.homework_page import heading

    plain = _item("a", "2026-12-20")
    assert heading(plain) == ("Homework a", "")
    named = {**plain, "template_title": "Worry time", "template_summary": "Park worries."}
    assert heading(named) == ("Worry time", "Park worries.")


def test_this_week_counts_the_last_7_days_against_the_entries_a_week_asks_for():
    from datetime import date

    from between.portal.progress import per_week, this_week

    week = _item("a", "2026-12-14", agreed_at="2026-12-08T10:00:00+00:00", expected_entries=5)
    assert per_week(week, date(2026, 12, 10)) == 5  # a week or less: all of them
    month = {**week, "due": "2027-01-04", "expected_entries": 10}  # 28 days
    assert per_week(month, date(2026, 12, 10)) == 3  # ceil(10 × 7 / 28)
    assert per_week({**week, "agreed_at": None}, date(2026, 12, 10)) == 5
    now = datetime(2026, 12, 10, 12, tzinfo=UTC)
    entries = [
        {"occurred_at": "2026-12-03T11:00:00+00:00"},  # 7 days and an hour ago: not this week
        {"occurred_at": "2026-12-03T13:00:00+00:00"},
        {"occurred_at": "2026-12-10T09:00:00+00:00"},
    ]
    assert this_week(entries, now) == 2


def test_a_field_s_question_is_its_label_and_its_help_the_line_beneath():
    schema = Schema(
        (
            Field(
                "suds",
                "integer",
                minimum=0,
                maximum=100,
                question="How anxious?",
                help="0 is calm.",
            ),
            Field("plain"),
        )
    )
    asked, named = widgets(schema, "f")
    assert (asked.label, asked.help, named.label) == ("How anxious?", "0 is calm.", "Plain")
    assert schema.describe()["fields"][0]["question"] == "How anxious?"
    assert "question" not in schema.describe()["fields"][1]


def test_a_worksheet_field_may_ask_its_question(tmp_path: Path):
    from between.plugins.worksheets import WorksheetError, read_worksheet

    sheet = tmp_path / "w.toml"
    sheet.write_text(
        'name = "w"\ntitle = "W"\n[[fields]]\nname = "mood"\n'
        'question = "How was your mood?"\nhelp = "One word is enough."\n'
    )
    (mood,) = read_worksheet(sheet).entries.fields
    assert (mood.question, mood.help) == ("How was your mood?", "One word is enough.")
    sheet.write_text('name = "w"\ntitle = "W"\n[[fields]]\nname = "mood"\nquestion = 3\n')
    with pytest.raises(WorksheetError, match="'question' must be text"):
        read_worksheet(sheet)


def test_each_card_has_a_line_telling_it_from_homework_of_the_same_type():
    from datetime import date

    from between.portal.home import sections, telling_line

    long = (
        "Write down each urge to check the door, where you were and what you did next, then rate it"
    )
    items = [
        _item("a", "2026-12-20", instructions=f"\n  {long}\nSecond line"),
        _item("b", "2026-12-21", instructions="Note each time you skip lunch.\nAnd why."),
        _item("c", "2026-12-22", instructions="Ignored", template_summary="A week of noticing."),
        _item("d", "2026-12-23", instructions=""),
    ]
    lines = {c["id"]: c["line"] for c in sections(items, True, date(2026, 12, 10))["open"]}
    assert lines["a"].endswith("…") and len(lines["a"]) <= 80 and long.startswith(lines["a"][:-1])
    assert (
        lines["a"]
        == "Write down each urge to check the door, where you were and what you did next…"
    )
    assert lines["b"] == "Note each time you skip lunch."
    assert lines["c"] == "A week of noticing."  # the template's own summary first
    assert lines["d"] == "" and telling_line({"instructions": "x" * 90}, "") == "x" * 79 + "…"
