"""`between report CODE`: a client's month, its figures checked against the log, its page,
plugin charts (and a plugin failing at them), erasure, and the command's options."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from pathlib import Path
from statistics import fmean

import pytest
from helpers import Clock, invoke
from report_month import (
    HIERARCHY,
    PERSONAL,
    cli,
    homework_from_log,
    log_records,
    month,
)

from between.engine.app import Homework
from between.engine.contracts.charts import Chart, Series
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.reports.client_page import SECTIONS


@pytest.fixture
def sqlite_month(tmp_path: Path) -> tuple[str, dict]:
    """The scripted month on a SQLite store: its URL and the homework ids."""
    url = str(tmp_path / "month.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    try:
        ids = month(app, app.clock)
    finally:
        app.close()
    return url, ids


def report_json(store: str, *args: str, **kwargs) -> dict:
    return json.loads(cli(store, "report", "C-104", "--json", *args, **kwargs))


def test_the_client_report_figures_equal_those_from_the_log(app, clock, store_url):
    ids = month(app, clock)
    got = report_json(store_url)
    records = log_records(store_url, "--client", "C-104")
    homework = homework_from_log(records)
    as_of = date.fromisoformat(got["period"]["to"][:10])

    assert {h["id"]: h["status"] for h in got["homework"]} == {
        k: h["status"] for k, h in homework.items()
    }
    for h in got["homework"]:
        mine = homework[h["id"]]
        assert (h["task_type"], h["stage"], h["difficulty"], h["due"]) == (
            mine["task_type"],
            mine["stage"],
            mine["difficulty"],
            mine["due"],
        )
        assert (h["entries"], h["expected_entries"]) == (
            len(mine["entries"]),
            mine["expected_entries"],
        )
        late = (as_of - date.fromisoformat(mine["due"])).days
        overdue = mine["status"] == "agreed" and late > 0
        assert h["overdue"] == (overdue and len(mine["entries"]) < mine["expected_entries"])
        assert h["steps_up_from"] == mine["steps_up_from"]
    assert got["statuses"] == {
        "proposed": 0,
        "agreed": 2,
        "declined": 1,
        "cancelled": 1,
        "closed": 5,
    }

    reviews = sorted(
        ({**r, "assignment": k} for k, h in homework.items() for r in h["reviews"]),
        key=lambda r: r["at"],
    )
    keys = ("assignment", "at", "quantity", "quality", "difficulty", "next_step")
    assert [[r[k] for k in keys] for r in got["reviews"]] == [[r[k] for k in keys] for r in reviews]
    a = got["adherence"]
    for name in ("quantity", "quality", "difficulty"):
        assert a[f"mean_{name}"] == round(fmean(r[name] for r in reviews), 2)
    agreed = [h for h in homework.values() if h["agreements"]]
    declined = [h for h in homework.values() if h["status"] == "declined"]
    assert a["agreement_rate"] == round(len(agreed) / (len(agreed) + len(declined)), 4)
    done = sum(min(len(h["entries"]), h["expected_entries"]) for h in agreed)
    assert a["entries_done"] == done
    assert a["entries_expected"] == sum(h["expected_entries"] for h in agreed)
    assert a["complete"] == sum(len(h["entries"]) >= h["expected_entries"] for h in agreed)
    assert a["entries_in_period"] == sum(len(h["entries"]) for h in homework.values())

    assert [(d["assignment"], d["reason"]) for d in got["declined"]] == [
        (ids["thought"], "too much writing right now")
    ]
    assert [(d["assignment"], d["reason"]) for d in got["cancelled"]] == [
        (ids["writing"], "travelling for work")
    ]
    said = {
        (k, "agreement", g["obstacles"])
        for k, h in homework.items()
        for g in h["agreements"]
        if g["obstacles"]
    }
    said |= {
        (k, "review", r["obstacles"])
        for k, h in homework.items()
        for r in h["reviews"]
        if r["obstacles"]
    }
    assert {(o["assignment"], o["source"], o["text"]) for o in got["obstacles"]} == said
    by: dict[str, int] = {}
    for h in homework.values():
        for e in h["entries"]:
            by[e["by"]] = by.get(e["by"], 0) + 1
    assert {c["who"]: c["entries"] for c in got["contributors"]} == by == {"client": 18, "Sam": 2}
    assert [c["relationship"] for c in got["contributors"]] == [None, "partner"]

    ladder = [ids["monitor"], ids["relax"], *ids["steps"]]
    assert got["chains"] == [ladder]
    assert [s["homework"] for s in got["stages"]] == [
        [ids["monitor"]],
        [ids["relax"], ids["thought"], *ids["steps"], ids["writing"]],
        [ids["gratitude"]],
    ]

    charts = {(c["source"], c["title"]): c for c in got["charts"]}
    exposure = [e for i in ids["steps"] for e in homework[i]["entries"]]
    sessions = charts[("between.graded_exposure", "SUDS in each exposure session")]
    assert [s["label"] for s in sessions["series"]] == ["before", "peak", "after"]
    assert sessions["series"][1]["points"] == [
        [e["occurred_at"], e["fields"]["suds_peak"]] for e in exposure
    ]
    steps = charts[("between.graded_exposure", "SUDS across the hierarchy")]
    assert [x for x, _ in steps["series"][1]["points"]] == [
        f"{n}. {item}" for n, item in enumerate(HIERARCHY, 1)
    ]
    relax = charts[("between.relaxation", "Tension before and after each practice")]
    assert [y for _, y in relax["series"][0]["points"]] == [7, 6, 8, 5]
    assert ("between.self_monitoring", "Entries per day") in charts
    assert ("between.reports", "Review ratings") in charts
    assert got["notes"] == []


def test_hook_between_report_charts(sqlite_month):
    """The example plugin's series is in the report, from its own hook."""
    url, _ = sqlite_month
    got = report_json(url)
    [mine] = [c for c in got["charts"] if c["source"] == "gratitude"]
    assert (mine["task_type"], mine["title"]) == ("gratitude-list", "Things noted each evening")
    assert [y for _, y in mine["series"][0]["points"]] == [2, 3]
    plugins = load_plugins(Settings.from_environment())
    answers = plugins.manager.hook.between_report_charts(task_type="relaxation", assignments=[])
    assert [len(a) for a in answers] == [1]  # only relaxation's own plugin answers, unasked-for


def test_charts_check_their_data():
    with pytest.raises(ValueError, match="ISO 8601"):
        Chart("t", [Series("s", [("yesterday", 1)])])
    with pytest.raises(TypeError, match="non-empty list of Series"):
        Chart("t", [("s", [])])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="y must be a number"):
        Series("s", [("2026-03-02", "high")])  # type: ignore[list-item]
    assert Chart("t", [Series("s", [("a", None)])], x="category").empty


def test_the_period_limits_what_is_counted(sqlite_month):
    url, ids = sqlite_month
    since, until = "2026-03-10", "2026-03-20"
    got = report_json(url, "--since", since, "--until", until)
    records = log_records(url, "--client", "C-104", "--since", since, "--until", until)
    entries = [r for r in records if r["type"] == "EntrySubmitted"]
    reviews = [r for r in records if r["type"] == "AssignmentReviewed"]
    assert got["adherence"]["entries_in_period"] == len(entries) > 0
    assert [r["at"] for r in got["reviews"]] == [r["time"] for r in reviews]
    assert got["period"]["from"].startswith(since) and got["period"]["to"].startswith(until)
    shown = {h["id"]: h["status"] for h in got["homework"]}
    assert ids["monitor"] not in shown  # ended before the period
    assert shown[ids["relax"]] == "closed" and ids["gratitude"] not in shown  # not yet proposed


def test_the_page_has_every_section_a_figure_per_chart_and_no_outside_resources(sqlite_month):
    url, _ = sqlite_month
    page = cli(url, "report", "C-104", "-o", "-")
    got = report_json(url)
    for ident in SECTIONS:
        assert f'<section id="{ident}">' in page
    assert page.count("<svg") == 1 + len(got["charts"])  # the timeline, then every chart
    assert page.count("<figure>") == page.count("<figcaption") == page.count("<svg")
    for caption in re.findall(r'<svg role="img" aria-labelledby="([^"]+)"', page):
        assert f'<figcaption id="{caption}">' in page
    assert "@media print" in page and "<script" not in page
    assert not re.search(r'(src|href)="(?!#)|url\((?!#)|@import', page)
    assert "Things noted each evening" in page and "busy workdays" in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids are unique across the inline SVGs"


def test_a_failing_or_sloppy_plugin_becomes_a_note_and_the_rest_renders(sqlite_month, tmp_path):
    url, _ = sqlite_month
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "broken.py").write_text(
        textwrap.dedent("""
        from between import hookimpl

        @hookimpl
        def between_report_charts(task_type, assignments):
            if task_type == "relaxation":
                raise RuntimeError("lost the ruler")
    """)
    )
    (folder / "sloppy.py").write_text(
        textwrap.dedent("""
        from between import hookimpl

        @hookimpl
        def between_report_charts(task_type):
            return {"not": "charts"} if task_type == "self-monitoring" else None
    """)
    )
    env = {"BETWEEN_PLUGINS_DIR": str(folder)}
    got = report_json(url, env=env)
    assert got["notes"] == [
        "plugin local:sloppy.py: between_report_charts returned a dict for self-monitoring, "
        "not a list of Chart; its charts are left out",
        "plugin local:broken.py: between_report_charts failed for relaxation: RuntimeError: "
        "lost the ruler",
    ]
    assert {c["source"] for c in got["charts"]} >= {"between.relaxation", "gratitude"}
    page = cli(url, "report", "C-104", "-o", "-", env=env)
    assert "lost the ruler" in page and page.count("<svg") == 1 + len(got["charts"])
    assert all(f'<section id="{ident}">' in page for ident in SECTIONS)


def test_an_erased_clients_report_holds_no_personal_data(tmp_path):
    url = str(tmp_path / "erased.db")
    store = Store.parse(url)
    Homework.initialise(store)
    app = Homework(store, clock=Clock())
    ids = month(app, app.clock)
    client = str(app.client_id("C-104"))
    app.close_assignment(ids["steps"][-1], **{"actor": "dr.lee"})
    app.cancel(ids["gratitude"], reason="moving away", actor="dr.lee")
    app.discharge("C-104", "therapy finished", actor="dr.lee")
    app.erase_client("C-104", reason="erasure request 7", actor="dr.lee")
    app.close()
    got = json.loads(cli(url, "report", client, "--json"))
    page = cli(url, "report", client, "-o", "-")
    for text in (json.dumps(got, ensure_ascii=False), page):
        for personal in (*PERSONAL, "moving away", "therapy finished", "[erased]"):
            assert personal not in text, personal
    assert got["client"]["code"] is None and got["client"]["erased"] is True
    assert len(got["homework"]) == 9 and got["adherence"]["entries_in_period"] == 20
    assert [c["source"] for c in got["charts"]] == ["between.reports", "between.reports"]
    assert all(d["reason"] is None for d in got["declined"] + got["cancelled"])
    assert page.count("<svg") == 1 + len(got["charts"])
    cli(url, "report", "C-104", code=1)


def test_options_defaults_and_errors(sqlite_month, tmp_path, monkeypatch):
    url, _ = sqlite_month
    monkeypatch.chdir(tmp_path)
    out = cli(url, "report", "C-104")
    [written] = tmp_path.glob("report-C-104-*.html")
    assert out == f"wrote {written.name}\n" and written.read_text().startswith("<!DOCTYPE html>")
    assert written.stat().st_mode & 0o077 == 0  # health information: the owner's alone
    cli(url, "report", "C-104", "--json", "-o", "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["report"] == "client"
    for args, code, message in [
        ((), 2, "give a client's CODE, or --clinic"),
        (("C-104", "--clinic"), 2, "not both"),
        (("--clinic", "--since", "2026-03-01"), 2, "--since and --until go with"),
        (("C-104", "--since", "soon"), 2, "--since must be a date"),
        (("C-104", "--since", "2026-04-01", "--until", "2026-03-01"), 2, "is not before"),
        (("C-999",), 1, "no client 'C-999'"),
        (("C-104", "-o", "missing/r.html"), 2, "folder missing does not exist"),
    ]:
        result = invoke(None, "--store", url, "report", *args)
        assert result.exit_code == code, result.output
        assert result.output.startswith("error: ") and message in result.output
        assert result.output.count("\n") == 1


def test_an_auditor_may_run_reports_and_nothing_is_written(sqlite_month):
    url, _ = sqlite_month
    cli(url, "--actor", "dr.lee", "operators", "add", "audrey", "--role", "auditor")
    cli(url, "--actor", "dr.lee", "operators", "add", "dr.lee", "--role", "therapist")
    cli(url, "--actor", "dr.lee", "operators", "require", "on")
    before = Path(url).read_bytes()
    cli(url, "--actor", "audrey", "report", "C-104", "--json")
    cli(url, "--actor", "audrey", "report", "--clinic", "-o", "-")
    assert Path(url).read_bytes() == before


def test_a_time_chart_of_one_moment_spans_days_around_it_not_years():
    from between.reports.draw import draw

    def labels(points: list) -> list[str]:
        chart = Chart(title="One practice", series=[Series("tension", points)], y_min=0, y_max=10)
        return re.findall(r">([^<>]+)</text>", draw(chart, "one"))

    one = labels([("2026-03-11T10:00:00+00:00", 7)])
    assert "2026-Mar" in one and "11" in one, one
    assert not {"2025", "2027", "2028"} & set(one), one  # matplotlib alone: 2024 to 2028
    two = labels([("2026-03-11T10:00:00+00:00", 7), ("2026-05-20T10:00:00+00:00", 3)])
    assert "Apr" in two and "May" in two, two  # more than one moment: matplotlib's own axis
