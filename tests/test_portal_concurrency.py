"""50 entries at once through the portal's forms and its API, on SQLite and PostgreSQL: each
recorded exactly once (repeats of a key included), none lost, and the log verifies."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import postgres_schema
from portal_server import SECRET, Visitor, prepare, start

from between.portal.security import sign

pytestmark = pytest.mark.slow  # fifty requests at once, on each store
SUBMISSIONS = 50
REPEATS = 10  # the last ten repeat the key (and the request) of ten earlier ones


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clinic(request, tmp_path):
    portal = "rate_per_minute = 10000\nthreads = 8"
    if request.param == "sqlite":
        yield prepare(tmp_path, portal=portal)
    else:
        with postgres_schema() as url:
            yield prepare(tmp_path, store=url, portal=portal)


def plan(clinic) -> list[dict]:
    """Half through the form, half through the API, over two homework; repeats at the end."""
    jobs = []
    for n in range(SUBMISSIONS - REPEATS):
        what = "monitoring" if n % 4 < 2 else "exposure"
        fields = (
            {"situation": f"moment {n}", "intensity": n}
            if what == "monitoring"
            else {"suds_before": n, "suds_peak": n + 1, "suds_after": 0, "minutes": n + 1}
        )
        way = "form" if n % 2 else "api"
        jobs.append(
            {
                "n": n,
                "what": what,
                "fields": fields,
                "way": way,
                "key": f"key-{n:04d}-{way}-0123456789",
            }
        )
    return jobs + [dict(job) for job in jobs[:REPEATS]]


def send(server, clinic, session: tuple[str, str], job: dict) -> int:
    """One submission; its status."""
    aid = clinic.homework[job["what"]]
    visitor = Visitor(server)
    if job["way"] == "form":
        visitor.cookie, csrf = session
        form = {"csrf_token": csrf, "form_key": job["key"]}
        form |= {f"field.{k}": str(v) for k, v in job["fields"].items()}
        return visitor.post(f"/homework/{aid}", form).status
    payload = {"assignment": aid, "fields": job["fields"], "idempotency_key": job["key"]}
    body, stamp = json.dumps(payload).encode(), str(int(time.time()))
    headers = {
        "X-Between-Integration": "forms",
        "X-Between-Timestamp": stamp,
        "X-Between-Signature": sign(SECRET, stamp, body),
    }
    return visitor.request("POST", "/api/v1/entries", body, headers).status


def test_fifty_entries_at_once_through_forms_and_the_api_are_each_recorded_once(clinic, tmp_path):
    server = start(clinic, tmp_path)
    try:
        visitor = Visitor(server)
        visitor.open_link(clinic.link())
        page = visitor.get(f"/homework/{clinic.homework['monitoring']}")
        session = (visitor.cookie, page.form(clinic.homework["monitoring"])["csrf_token"])
        jobs = plan(clinic)
        ready = threading.Barrier(len(jobs))

        def go(job: dict) -> int:
            ready.wait()
            return send(server, clinic, session, job)

        with ThreadPoolExecutor(len(jobs)) as pool:
            statuses = list(pool.map(go, jobs))
    finally:
        code, _, errors = server.stop()
    assert code == 0 and errors == ""
    by_way = Counter((job["way"], status) for job, status in zip(jobs, statuses, strict=True))
    api = [s for job, s in zip(jobs, statuses, strict=True) if job["way"] == "api"]
    assert set(api) <= {200, 201} and api.count(201) == (SUBMISSIONS - REPEATS) // 2, by_way
    assert {s for job, s in zip(jobs, statuses, strict=True) if job["way"] == "form"} == {303}
    for what in ("monitoring", "exposure"):
        entries = clinic.show(what)["entry_list"]
        expected = [job for job in jobs[: SUBMISSIONS - REPEATS] if job["what"] == what]
        assert sorted(json.dumps(e["fields"], sort_keys=True) for e in entries) == sorted(
            json.dumps(job["fields"], sort_keys=True) for job in expected
        )
        ways = Counter(e["via"] for e in entries)
        assert ways == Counter("portal" if j["way"] == "form" else "api" for j in expected)
    assert "intact" in clinic.cli("verify")
