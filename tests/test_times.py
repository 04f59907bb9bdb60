"""One parser for every time a user types: local when naive, UTC inside, years 1900–9999."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime

import pytest
from helpers import assign_args, invoke, relaxation

from between import Field, Schema
from between.audit.auditor import filtered_log, moment
from between.engine.errors import InvalidInput
from between.engine.validate import instant, utc_time

ACTOR = {"actor": "dr.lee"}
YEARS = "must be in the years 1900–9999 (e.g. 2026-11-25T18:30)"


@pytest.fixture
def kolkata():
    """Local time is UTC+05:30 for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-03-05T18:00", datetime(2026, 3, 5, 12, 30, tzinfo=UTC)),  # naive = local
        (" 2026-03-05 ", datetime(2026, 3, 4, 18, 30, tzinfo=UTC)),  # a date = 00:00 local
        ("2026-03-05T18:00Z", datetime(2026, 3, 5, 18, 0, tzinfo=UTC)),
        ("2026-03-05T18:00+01:00", datetime(2026, 3, 5, 17, 0, tzinfo=UTC)),
        (datetime(2026, 3, 5, 18, 0), datetime(2026, 3, 5, 12, 30, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_local_unless_they_say_otherwise(kolkata, given, expected):
    assert utc_time(given) == expected
    assert utc_time(given).tzinfo is UTC


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("0001-01-01", f"{YEARS}, not '0001-01-01'"),
        ("1899-12-31T23:59", f"{YEARS}, not '1899-12-31T23:59'"),
        ("9999-12-31T23:00-05:00", f"{YEARS}, not '9999-12-31T23:00-05:00'"),
        (
            "tomorrow",
            "must be a date and time such as 2026-11-25T18:30 (or a date), not 'tomorrow'",
        ),
        (
            "10000-01-01",
            "must be a date and time such as 2026-11-25T18:30 (or a date), not '10000-01-01'",
        ),
    ],
)
def test_a_bad_time_is_one_line_naming_the_input_with_an_example(given, reason):
    with pytest.raises(InvalidInput) as refused:
        instant("--until", given)
    assert str(refused.value) == f"--until {reason}"


def test_datetime_fields_use_the_same_parser(kolkata):
    schema = Schema((Field("when", "datetime"),))
    assert schema.validate({"when": "2026-03-05T18:00"}, "entry") == {
        "when": "2026-03-05T12:30:00+00:00"
    }
    with pytest.raises(InvalidInput) as refused:
        schema.validate({"when": "0001-01-01"}, "entry")
    assert str(refused.value).startswith(f"invalid entry: when {YEARS}, not '0001-01-01'")


def test_auditors_times_use_the_same_parser(kolkata):
    assert moment("2026-03-05") == datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=f"^--at {re.escape(YEARS)}"):
        moment("0001-01-01")


def test_a_submission_or_a_log_filter_in_year_one_is_refused(app):
    app.register_client("C1", "Ana", "dr.lee", **ACTOR)
    aid = relaxation(app, "C1")
    app.agree(aid, **ACTOR)
    entry = {"minutes": 10, "tension_before": 6, "tension_after": 3}
    with pytest.raises(InvalidInput, match=f"^occurred at {re.escape(YEARS)}, not '0001-01-01'$"):
        app.submit(aid, entry, occurred_at="0001-01-01", **ACTOR)
    with pytest.raises(InvalidInput, match=f"^--until {re.escape(YEARS)}, not '0001-01-01'$"):
        list(filtered_log(app, until="0001-01-01"))
    with pytest.raises(InvalidInput, match=f"^--since {re.escape(YEARS)}, not '0001-01-01'$"):
        list(filtered_log(app, since="0001-01-01"))


def test_the_commands_refuse_year_one_in_one_line(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "t.db"), "BETWEEN_ACTOR": "dr.lee"}

    def run(*args: str) -> tuple[int, str]:
        result = invoke(env, *args)
        return result.exit_code, result.output

    run("init")
    run("client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    code, out = run("log", "--until", "0001-01-01")
    assert (code, out) == (2, f"error: --until {YEARS}, not '0001-01-01'\n")
    code, out = run("replay", "--at", "0001-01-01")
    assert (code, out) == (2, f"error: --at {YEARS}, not '0001-01-01'\n")
    aid = json.loads(run(*assign_args("C1", "relaxation", "technique=other"), "--json")[1])
    run("agree", aid["result"][:8])
    fields = ["--field", "minutes=10", "--field", "tension_before=6", "--field", "tension_after=3"]
    code, out = run("submit", aid["result"][:8], *fields, "--occurred-at", "0001-01-01")
    assert (code, out) == (2, f"error: occurred at {YEARS}, not '0001-01-01'\n")
