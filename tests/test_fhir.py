"""``between export fhir`` (issue 16): a scripted month for two clients, exported as FHIR R4.

The month runs through the engine API on a moving clock, notifications through the CLI; every
export goes through the CLI, exactly as a clinic runs it. Each scenario runs on SQLite and on
PostgreSQL (the ``store_url`` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from fhir.resources.R4B import get_fhir_model_class
from helpers import cli_stdout, invoke
from test_event_format import load_fixture_keys, stored_rows

from between.engine.app import Homework
from between.engine.hooks.loading import load_plugins
from between.engine.settings import Settings
from between.engine.storage.store import Store
from between.fhir_r4 import records

BASE = "https://between.invalid/fhir"
WORKSHEET = """
name = "activity-schedule"
title = "Activity schedule"
description = "Plan activities and rate mastery and pleasure 0-10."
version = 2

[[fields]]
name = "activity"
help = "what you did"
[[fields]]
name = "mastery"
type = "integer"
minimum = 0
maximum = 10
[[fields]]
name = "mood"
type = "choice"
choices = ["low", "ok", "good"]
[[fields]]
name = "with_whom"
type = "list"
required = false
[[fields]]
name = "feelings"
type = "ratings"
required = false
minimum = 0
maximum = 100
[[fields]]
name = "planned"
type = "boolean"
required = false
[[fields]]
name = "started"
type = "datetime"
required = false
[[fields]]
name = "hours"
type = "number"
required = false
"""
TASK_STATUS = {
    "proposed": "requested",
    "agreed": "accepted",
    "declined": "rejected",
    "cancelled": "cancelled",
    "closed": "completed",
}


def month(app: Homework, clock) -> dict[str, str]:
    """Two clients' month: entries by a collaborator, a decline, a step-up chain of three,
    reviews, a worksheet, a cancellation."""
    lee, okafor = {"actor": "dr.lee"}, {"actor": "dr.okafor"}
    app.register_client("C-104", "Alex Rivera", "dr.lee", **lee)
    app.add_collaborator("C-104", "Sam Rivera", "partner", **lee)
    app.change_contacts("C-104", "client", {"email": "alex@example.org"}, **lee)
    app.record_consent("C-104", "console", **lee)
    app.register_client("C-201", "Jordan Blake", "dr.okafor", **okafor)

    def propose(code: str, task_type: str, who: dict, **fields) -> str:
        base = {"instructions": "i", "rationale": "r", "stage": "practice", "difficulty": 2}
        base.update(due="2026-03-30", expected_entries=2, parameters={})
        return app.propose(code, task_type, **{**base, **fields}, **who).result

    first = propose(
        "C-104",
        "self-monitoring",
        lee,
        instructions="Note each time you bite your nails",
        rationale="A baseline of the habit",
        stage="baseline",
        parameters={"target": "nail biting"},
        observers=["Sam Rivera"],
    )
    app.agree(first, confidence=7, obstacles="busy workdays", **lee)
    for who, intensity in (("client", 70), ("Sam Rivera", 30), ("client", 50)):
        clock.advance(days=1)
        fields = {"situation": f"evening {intensity}", "intensity": intensity}
        app.submit(first, fields, by=who, **lee)
    declined = propose(
        "C-104",
        "bibliotherapy",
        lee,
        parameters={"medium": "book", "title": "Feeling Good"},
    )
    app.decline(declined, reason="no time to read this month", **lee)
    clock.advance(days=4)
    app.review(first, quantity=4, quality=3, difficulty=2, next_step="step-up", **lee)
    second = propose(
        "C-104", "relaxation", lee, steps_up_from=first, parameters={"technique": "other"}
    )
    app.agree(second, **lee)
    clock.advance(days=2)
    relaxed = {"minutes": 10, "tension_before": 7, "tension_after": 3}
    app.submit(second, relaxed, **lee)
    clock.advance(days=5)
    app.review(
        second, quantity=3, quality=3, difficulty=1, next_step="step-up", obstacles="noise", **lee
    )
    third = propose(
        "C-104", "relaxation", lee, difficulty=5, steps_up_from=second,
        parameters={"technique": "other"},
    )  # fmt: skip

    sheet = propose("C-201", "activity-schedule", okafor)
    app.agree(sheet, **okafor)
    clock.advance(days=1)
    app.submit(
        sheet,
        {
            "activity": "gardening with Noor",
            "mastery": 6,
            "mood": "good",
            "with_whom": ["Noor", "Kim"],
            "feelings": {"calm": 80, "proud": 60},
            "planned": True,
            "started": "2026-03-20T10:00:00+00:00",
            "hours": 1.5,
        },
        **okafor,
    )
    app.submit(sheet, {"activity": "a walk", "mastery": 3, "mood": "ok"}, **okafor)
    clock.advance(days=6)
    app.review(sheet, quantity=2, quality=4, difficulty=1, next_step="close", **okafor)
    cancelled = propose("C-201", "thought-record", okafor)
    app.cancel(cancelled, reason="the client asked to pause", **okafor)
    return {"first": first, "declined": declined, "second": second, "third": third}


@pytest.fixture
def clinic(store_url: str, clock, tmp_path: Path) -> dict:
    """The month on a fresh store; returns the CLI environment and the assignment ids."""
    folder = tmp_path / "worksheets"
    folder.mkdir()
    (folder / "activity.toml").write_text(WORKSHEET)
    store = Store.parse(store_url)
    Homework.initialise(store)
    settings = Settings.from_environment(worksheets_dir=str(folder))
    app = Homework(store, clock=clock, plugins=lambda: load_plugins(settings))
    try:
        ids = month(app, clock)
    finally:
        app.close()
    env = {"BETWEEN_STORE": store_url, "BETWEEN_WORKSHEETS_DIR": str(folder)}
    cli_stdout({**env, "BETWEEN_ACTOR": "dr.lee"}, "notify")
    return {"env": env, "ids": ids, "dir": tmp_path}


def export(
    clinic: dict, *args: str, name: str = "bundle.json", env: dict | None = None
) -> tuple[dict, bytes]:
    path = clinic["dir"] / name
    cli_stdout({**clinic["env"], **(env or {})}, "export", "fhir", "-o", str(path), *args)
    raw = path.read_bytes()
    return json.loads(raw), raw


def log(clinic: dict, *args: str) -> list[dict]:
    return [
        json.loads(line) for line in cli_stdout(clinic["env"], "log", "--json", *args).splitlines()
    ]


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    found = [e["resource"] for e in bundle.get("entry", [])]
    return [r for r in found if kind is None or r["resourceType"] == kind]


def references(value) -> list[str]:
    if isinstance(value, dict):
        own = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return own + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def by_identifier(items: list[dict], value: str) -> dict:
    (found,) = [r for r in items if any(i["value"] == value for i in _identifiers(r))]
    return found


def _identifiers(resource: dict) -> list[dict]:
    value = resource.get("identifier", [])
    return value if isinstance(value, list) else [value]


def test_the_month_exports_as_a_valid_self_contained_bundle(clinic):
    bundle, raw = export(clinic)
    get_fhir_model_class("Bundle").model_validate(bundle)
    for resource in resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert bundle["type"] == "collection" and raw.endswith(b"}\n")

    present = {f"{r['resourceType']}/{r['id']}" for r in resources(bundle)}
    dangling = [r for r in references(bundle) if r not in present]
    assert dangling == [] and len(present) == len(resources(bundle))

    events = log(clinic)
    types = Counter(e["type"] for e in events)
    kinds = Counter(r["resourceType"] for r in resources(bundle))
    delivered = {
        e["aggregate"]
        for e in events
        if e["type"] == "DeliveryAttempted" and e["data"]["outcome"] == "delivered"
    }
    assert kinds["Patient"] == types["ClientRegistered"] == 2
    assert kinds["RelatedPerson"] == types["CollaboratorAdded"] == 1
    assert kinds["CarePlan"] == 2
    assert kinds["Task"] == types["AssignmentProposed"] == 6
    assert kinds["QuestionnaireResponse"] == types["EntrySubmitted"] + types["AssignmentReviewed"]
    assert kinds["Provenance"] == len([e for e in events if e["kind"] != "operators"])
    assert kinds["Communication"] == len(delivered) > 0
    assert {p["name"][0]["text"] for p in resources(bundle, "Practitioner")} == {
        "dr.lee",
        "dr.okafor",
    }

    # The Provenance of each event names its position and chain link, as `verify` checks them.
    provenance = {r["extension"][0]["valueInteger"]: r for r in resources(bundle, "Provenance")}
    assert sorted(provenance) == [e["position"] for e in events if e["kind"] != "operators"]
    head = bundle["identifier"]["value"]
    assert cli_stdout(clinic["env"], "verify", "--against", head).startswith("intact")
    a_link = provenance[events[3]["position"]]["entity"][0]["what"]["identifier"]["value"]
    assert cli_stdout(clinic["env"], "verify", "--against", a_link).startswith("intact")


def test_tasks_follow_the_lifecycle_and_the_step_up_chain(clinic):
    bundle, _ = export(clinic)
    tasks = resources(bundle, "Task")
    rows = json.loads(cli_stdout(clinic["env"], "list", "--json"))
    assert len(rows) == len(tasks)
    for row in rows:
        task = by_identifier(tasks, row["id"])
        expected = TASK_STATUS[row["status"]]
        if row["status"] == "agreed" and row["entries"]:
            expected = "in-progress"
        assert task["status"] == expected, row
        assert task["restriction"]["period"]["end"] == row["due"]
        assert task["restriction"]["repetitions"] == row["expected_entries"]

    ids = clinic["ids"]
    declined = by_identifier(tasks, ids["declined"])
    assert declined["status"] == "rejected"
    assert declined["statusReason"]["text"] == "no time to read this month"
    first, second, third = (by_identifier(tasks, ids[k]) for k in ("first", "second", "third"))
    assert first["description"] == "Note each time you bite your nails"
    assert first["reasonCode"]["text"] == "A baseline of the habit"
    assert "basedOn" not in first
    assert second["basedOn"] == [{"reference": f"Task/{first['id']}"}]
    assert third["basedOn"] == [{"reference": f"Task/{second['id']}"}]
    assert third["partOf"] == [{"reference": f"Task/{first['id']}"}]
    stage = {e["url"].rpartition("/")[2]: e for e in first["extension"]}
    assert stage["difficulty"]["valueInteger"] == 2
    assert stage["stage"]["valueCoding"]["code"] == "baseline"

    (plan,) = [p for p in resources(bundle, "CarePlan") if len(p["activity"]) == 4]
    stages = [a["extension"][0]["valueCoding"]["code"] for a in plan["activity"]]
    assert stages == ["baseline", "practice", "practice", "practice"]
    assert plan["intent"] == "plan"


def test_entries_and_reviews_answer_questionnaires_made_from_the_schemas(clinic):
    bundle, _ = export(clinic)
    questionnaires = {q["url"].rpartition("/")[2]: q for q in resources(bundle, "Questionnaire")}
    sheet = questionnaires["activity-schedule"]
    assert sheet["version"] == "2" and sheet["status"] == "active"
    items = {i["linkId"]: i for i in sheet["item"]}
    assert [i["linkId"] for i in sheet["item"]] == [
        "activity", "mastery", "mood", "with_whom", "feelings", "planned", "started", "hours",
    ]  # fmt: skip
    assert {k: i["type"] for k, i in items.items()} == {
        "activity": "text",
        "mastery": "integer",
        "mood": "choice",
        "with_whom": "string",
        "feelings": "group",
        "planned": "boolean",
        "started": "dateTime",
        "hours": "decimal",
    }
    bounds = {e["url"].rpartition("/")[2]: e["valueInteger"] for e in items["mastery"]["extension"]}
    assert bounds == {"minValue": 0, "maxValue": 10}
    assert [o["valueCoding"]["code"] for o in items["mood"]["answerOption"]] == [
        "low",
        "ok",
        "good",
    ]
    assert items["with_whom"]["repeats"] is True and items["mood"]["required"] is True

    responses = resources(bundle, "QuestionnaireResponse")
    answers = [
        r for r in responses if r["questionnaire"] == f"{BASE}/Questionnaire/activity-schedule|2"
    ]
    assert len(answers) == 2
    full = next(r for r in answers if len(r["item"]) > 3)
    given = {i["linkId"]: i.get("answer") for i in full["item"]}
    assert given["activity"] == [{"valueString": "gardening with Noor"}]
    assert given["mastery"] == [{"valueInteger": 6}]
    assert given["mood"][0]["valueCoding"]["code"] == "good"
    assert given["with_whom"] == [{"valueString": "Noor"}, {"valueString": "Kim"}]
    assert given["planned"] == [{"valueBoolean": True}] and given["hours"] == [
        {"valueDecimal": 1.5}
    ]
    ratings = [i["item"] for i in full["item"] if i["linkId"] == "feelings"]
    assert [[a["answer"][0] for a in pair] for pair in ratings] == [
        [{"valueString": "calm"}, {"valueDecimal": 80}],
        [{"valueString": "proud"}, {"valueDecimal": 60}],
    ]

    # The collaborator's entry is theirs; the client's are the client's.
    (sam,) = resources(bundle, "RelatedPerson")
    monitoring = [r for r in responses if "/self-monitoring|" in r["questionnaire"]]
    authors = sorted(r["author"]["reference"].partition("/")[0] for r in monitoring)
    assert authors == ["Patient", "Patient", "RelatedPerson"]
    assert {"reference": f"RelatedPerson/{sam['id']}"} in [r["author"] for r in monitoring]

    reviews = [r for r in responses if "/between-review|" in r["questionnaire"]]
    assert len(reviews) == 3
    assert "between-review" in questionnaires
    noisy = next(r for r in reviews if any(i["linkId"] == "obstacles" for i in r["item"]))
    given = {i["linkId"]: i["answer"][0] for i in noisy["item"]}
    assert given["obstacles"] == {"valueString": "noise"}
    assert given["next_step"]["valueCoding"]["code"] == "step-up"


def test_the_export_is_byte_identical_and_personal_data_is_opt_in(clinic):
    _, first = export(clinic, name="one.json")
    _, again = export(clinic, name="two.json")
    _, checked_by_workers = export(clinic, name="three.json", env={"BETWEEN_FHIR_WORKERS": "2"})
    assert first == again == checked_by_workers
    assert b"Alex Rivera" not in first and b"alex@example.org" not in first
    personal, _ = export(clinic, "--include-personal", name="personal.json")
    (alex,) = [p for p in resources(personal, "Patient") if "telecom" in p]
    assert alex["name"] == [{"text": "Alex Rivera"}]
    assert alex["telecom"] == [{"system": "email", "value": "alex@example.org"}]
    assert alex["identifier"][0] == {"system": f"{BASE}/NamingSystem/client-code", "value": "C-104"}
    (sam,) = resources(personal, "RelatedPerson")
    assert sam["name"] == [{"text": "Sam Rivera"}]


def test_client_limits_the_export_to_one_clients_record(clinic):
    bundle, _ = export(clinic, "--client", "C-201")
    (patient,) = resources(bundle, "Patient")
    assert patient["identifier"][0]["value"] == "C-201"
    present = {f"{r['resourceType']}/{r['id']}" for r in resources(bundle)}
    assert [r for r in references(bundle) if r not in present] == []
    events = log(clinic, "--client", "C-201")
    assert len(resources(bundle, "Provenance")) == len(events)
    assert len(resources(bundle, "Task")) == 2
    assert resources(bundle, "RelatedPerson") == []
    assert b"C-104" not in json.dumps(bundle).encode()
    cli_stdout(clinic["env"], "export", "fhir", "--client", "C-999", code=1)


def test_until_and_since_cut_the_record_at_a_moment(clinic):
    events = log(clinic)
    reviewed = next(e for e in events if e["type"] == "AssignmentReviewed")["time"]
    before, _ = export(clinic, "--until", reviewed, name="before.json")
    first = by_identifier(resources(before, "Task"), clinic["ids"]["first"])
    assert first["status"] == "in-progress"  # agreed with entries, not yet reviewed
    assert len(resources(before, "Provenance")) == len(log(clinic, "--until", reviewed))

    since, _ = export(clinic, "--since", reviewed, name="since.json")
    assert len(resources(since, "Provenance")) == len(log(clinic, "--since", reviewed))
    tasks = resources(since, "Task")
    assert by_identifier(tasks, clinic["ids"]["first"])["status"] == "completed"
    declined = [t for t in tasks if t["identifier"][0]["value"] == clinic["ids"]["declined"]]
    assert declined == []  # nothing happened to it from then on

    out = cli_stdout(clinic["env"], "export", "fhir", "--since", "yesterday", code=2)
    assert out == ""


def test_transaction_bundle_puts_every_resource(clinic):
    bundle, _ = export(clinic, "--transaction")
    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}/{resource['id']}",
        }
        assert entry["fullUrl"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"


def test_an_erased_client_is_exported_without_personal_data(clinic):
    env = {**clinic["env"], "BETWEEN_ACTOR": "dr.okafor"}
    cli_stdout(env, "client", "discharge", "C-201", "--reason", "moved away")
    cli_stdout(env, "client", "erase", "C-201", "--reason", "asked to be forgotten")
    bundle, raw = export(clinic, "--include-personal")
    for secret in ("Jordan Blake", "C-201", "gardening", "Noor", "the client asked to pause"):
        assert secret.encode() not in raw, secret
    assert b"[erased]" not in raw
    (erased,) = [p for p in resources(bundle, "Patient") if p["active"] is False]
    assert [i["system"].rpartition("/")[2] for i in erased["identifier"]] == ["client"]
    assert "name" not in erased
    sheet = [
        r for r in resources(bundle, "QuestionnaireResponse") if "activity" in r["questionnaire"]
    ]
    assert len(sheet) == 2 and all("item" not in r and "author" not in r for r in sheet)
    assert b"Alex Rivera" in raw  # the other client's record is whole


def test_an_erased_clients_collaborators_stay_one_related_person_each(clinic):
    # Erased, their names all read alike; each is still the person their own event added.
    env = {**clinic["env"], "BETWEEN_ACTOR": "dr.okafor"}
    cli_stdout(env, "client", "collaborator", "C-201", "Noor", "--relationship", "friend")
    cli_stdout(env, "client", "collaborator", "C-201", "Kim", "--relationship", "sister")
    cli_stdout(env, "client", "contact", "C-201", "--person", "Kim", "--email", "k@example.org")
    cli_stdout(env, "client", "discharge", "C-201", "--reason", "moved away")
    before, _ = export(clinic, "--include-personal", name="before.json")
    cli_stdout(env, "client", "erase", "C-201", "--reason", "asked to be forgotten")
    bundle, raw = export(clinic, "--include-personal")
    (erased,) = [p for p in resources(bundle, "Patient") if p["active"] is False]
    patient = {"reference": f"Patient/{erased['id']}"}
    theirs = [r for r in resources(bundle, "RelatedPerson") if r["patient"] == patient]
    added = [r["id"] for r in resources(before, "RelatedPerson") if r["patient"] == patient]
    assert len(added) == 2 and [r["id"] for r in theirs] == added
    assert all(set(r) == {"resourceType", "id", "active", "patient"} for r in theirs)
    assert b"Kim" not in raw and b"k@example.org" not in raw


def test_the_export_folds_with_the_engines_folds_keeping_nothing_that_grows(app):
    """One fold serves the aggregates, the light path and the export: the export's clients and
    assignments are the aggregates' states, less what grows with their events (entries,
    reviews, agreements, notes from the client, links, request keys), so its memory never holds
    an entry's contents."""
    load_fixture_keys(app)
    aggregates: dict[UUID, Any] = {}
    exported: dict[UUID, Any] = {}
    for row in stored_rows():
        oid, version, topic = UUID(row["originator_id"]), row["originator_version"], row["topic"]
        stored = StoredEvent(oid, version, topic, row["state"].encode())
        event = app.mapper.to_domain_event(stored)
        aggregates[oid] = event.mutate(aggregates.get(oid))
        if topic == records.AssignmentState.STARTED:
            exported[oid] = records.AssignmentState(oid, order=len(exported))
        elif topic == records.ClientState.STARTED:
            exported[oid] = records.ClientState(oid)
        if oid in exported:
            exported[oid].evolve(event)
    grows = ("agreements", "entries", "reviews", "client_notes", "links", "request_keys")
    held = {g: [getattr(aggregates[oid], g, None) for oid in exported] for g in grows}
    assert all(any(found) for found in held.values())  # the fixtures have some of each
    for oid, folded in exported.items():
        mine = {k: v for k, v in vars(folded).items() if k not in ("order", "outputs", "tasks")}
        theirs = {k: v for k, v in vars(aggregates[oid]).items() if not k.startswith("_")}
        theirs = {k: type(v)() if k in grows else v for k, v in theirs.items()}
        assert mine == {"id": oid, **theirs}


def test_an_invalid_resource_names_the_assignment_and_element_and_writes_nothing(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "diary.py").write_text(
        textwrap.dedent("""
        from between import Field, Schema, TaskType, hookimpl

        class Diary(TaskType):
            def validate_entry(self, data, parameters):
                clean = super().validate_entry(data, parameters)
                clean["when"] = "last tuesday"  # a plugin bug: not a date and time
                return clean

        @hookimpl
        def between_register_task_types(registry):
            registry.add(Diary(
                name="sleep-diary", title="Sleep diary", description="Hours slept.",
                category="self-monitoring",
                entries=Schema((Field("hours", "number"), Field("when", "datetime", required=False))),
            ))
        """)
    )
    env = {
        "BETWEEN_STORE": str(tmp_path / "b.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_PLUGINS_DIR": str(tmp_path / "plugins"),
    }
    cli_stdout(env, "init")
    cli_stdout(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    args = ["assign", "C1", "sleep-diary", "--stage", "baseline", "--difficulty", "1", "--due",
            "+7", "--instructions", "i", "--rationale", "r", "--json"]  # fmt: skip
    assignment = json.loads(cli_stdout(env, *args))["result"]
    cli_stdout(env, "agree", assignment)
    cli_stdout(env, "submit", assignment, "--field", "hours=7")
    (tmp_path / "out").mkdir()
    lines = set()
    for workers in ("0", "1"):  # validated here, or by a worker process: the same refusal
        out = str(tmp_path / "out" / "b.json")
        result = invoke({**env, "BETWEEN_FHIR_WORKERS": workers}, "export", "fhir", "-o", out)
        assert result.exit_code == 1
        lines.add(result.stderr.strip())
        assert list((tmp_path / "out").iterdir()) == []
    (line,) = lines
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("error: the FHIR QuestionnaireResponse of entry ")
    assert f"of assignment {assignment[:8]} is invalid at " in line
    assert "QuestionnaireResponse.item.1.answer.0.valueDateTime" in line
    assert line.endswith("nothing was written")


def test_standard_output_and_a_lean_start(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "b.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli_stdout(env, "init")
    empty = json.loads(cli_stdout(env, "export", "fhir"))
    assert empty["resourceType"] == "Bundle"  # of the log, nothing; the starter library
    assert {r["resourceType"] for r in resources(empty)} == {
        "ActivityDefinition",
        "PlanDefinition",
    }
    cli_stdout(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    result = invoke(env, "export", "fhir")
    exported = json.loads(result.stdout)
    assert exported["identifier"]["value"].startswith("between-v1:1:")
    assert result.stderr.startswith(f"exported {len(exported['entry'])} resources: ")
    assert "1 CarePlan, 1 Patient, 3 PlanDefinition" in result.stderr
    since = invoke(env, "export", "fhir", "--since", exported["identifier"]["value"])
    assert since.stderr.startswith("exported 0 resources")  # the library: with full exports

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from between.cli import build_cli\n"
        "r = CliRunner().invoke(build_cli(), ['--help'])\n"
        "assert 'export' in r.output, r.output\n"
        "r = CliRunner().invoke(build_cli(), ['export', 'fhir', '--help'])\n"
        "assert '--include-personal' in r.output, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fhir', 'pydantic'))))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=tmp_path,  # not the checkout, whose own metadata may be stale
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"


def test_a_bad_time_or_output_is_one_line_naming_the_option(tmp_path):
    env = {"BETWEEN_STORE": str(tmp_path / "b.db"), "BETWEEN_ACTOR": "dr.lee"}
    cli_stdout(env, "init")
    for args, words in [
        (("--since", "nope"), ("--since", "'nope'")),
        (("--until", "nope"), ("--until", "'nope'")),
        (("--since", "2026-03-02", "--until", "2026-03-01"), ("--since", "not before")),
        (("-o", ""), ("-o", "file name")),
        (("-o", str(tmp_path / "newdir") + "/"), ("newdir", "create it first")),
    ]:
        result = invoke(env, "export", "fhir", *args)
        assert result.exit_code == 2, (args, result.output)
        line = result.stderr.strip()
        assert line.startswith("error: ") and "\n" not in line, line
        for word in words:
            assert word in line, (word, line)
        assert "--at" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db", "b.keys"]


WORRY = """
task_type = "self-monitoring"
title = "Noticing worry"
summary = "For a week, note each time you catch yourself worrying."
instructions = "Each time you catch yourself worrying, note where you were."
rationale = "A baseline: when worry comes"
stage = "baseline"
difficulty = 2
entries = 5

[parameters]
target = "worry"
"""


def test_the_library_is_exported_and_each_task_names_its_template(store_url, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    template = folder / "worry-1-notice.toml"
    template.write_text(WORRY)
    env = {
        "BETWEEN_STORE": store_url,
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_LIBRARY_DIR": str(folder),
    }
    cli_stdout(env, "init")
    cli_stdout(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    assign = ("assign", "C1", "--template", "worry-1-notice", "--json")
    first = json.loads(cli_stdout(env, *assign))["result"]
    clinic = {"env": env, "dir": tmp_path}
    bundle, _ = export(clinic, name="one.json")
    for resource in resources(bundle):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    activities = {f"{r['url']}|{r['version']}": r for r in resources(bundle, "ActivityDefinition")}
    task = by_identifier(resources(bundle, "Task"), first)
    old = task["instantiatesCanonical"]
    assert old.startswith(f"{BASE}/ActivityDefinition/worry-1-notice|")
    made = activities[old]
    assert (made["status"], made["kind"], made["title"]) == ("active", "Task", "Noticing worry")
    assert made["description"].startswith("Each time") and made["purpose"].startswith("A baseline")
    assert (
        made["version"]
        == json.loads(cli_stdout(env, "template", "show", "worry-1-notice", "--json"))["version"]
    )
    plans = {r["url"].rpartition("/")[2]: r for r in resources(bundle, "PlanDefinition")}
    ladder = plans["relaxation-ladder"]
    assert ladder["type"]["coding"][0]["code"] == "workflow-definition"
    steps = [a["definitionCanonical"] for a in ladder["action"]]
    assert [s.split("|")[0].rpartition("/")[2] for s in steps] == [
        "relaxation-1-breathing",
        "relaxation-2-muscle-relaxation",
        "relaxation-3-everyday-moments",
    ]
    assert all(s in activities for s in steps)  # each step's ActivityDefinition, exported
    assert [a.get("relatedAction") for a in ladder["action"]] == [
        None,
        [{"actionId": "step-1", "relationship": "after-end"}],
        [{"actionId": "step-2", "relationship": "after-end"}],
    ]

    # The clinic edits the template: homework keeps its version, exported as retired.
    template.write_text(WORRY.replace("difficulty = 2", "difficulty = 3"))
    second = json.loads(cli_stdout(env, *assign))["result"]
    again, _ = export(clinic, name="two.json")
    activities = {f"{r['url']}|{r['version']}": r for r in resources(again, "ActivityDefinition")}
    new = by_identifier(resources(again, "Task"), second)["instantiatesCanonical"]
    assert by_identifier(resources(again, "Task"), first)["instantiatesCanonical"] == old != new
    assert (activities[old]["status"], activities[new]["status"]) == ("retired", "active")
    for resource in resources(again, "ActivityDefinition"):
        get_fhir_model_class("ActivityDefinition").model_validate(resource)

    # An incremental export carries only the ActivityDefinitions its Tasks instantiate.
    since, _ = export(clinic, "--since", bundle["identifier"]["value"], name="since.json")
    assert [f"{r['url']}|{r['version']}" for r in resources(since, "ActivityDefinition")] == [new]
    assert resources(since, "PlanDefinition") == []

    template.unlink()  # gone from the library: both versions known only as recorded
    gone, _ = export(clinic, name="three.json")
    statuses = {
        f"{r['url']}|{r['version']}": r["status"] for r in resources(gone, "ActivityDefinition")
    }
    assert (statuses[old], statuses[new]) == ("unknown", "unknown")
