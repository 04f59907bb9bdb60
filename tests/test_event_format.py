"""Event classes are a storage format: stable topics, versions, and old logs that still load.

``tests/fixtures/events_v1.jsonl`` holds rows exactly as the first release stored them.
When an event class changes, bump its ``class_version`` and add an upcaster; this test
keeps proving the old rows load. A new event class needs rows in a fixture file too
(``events_v3_links.jsonl``: personal links, and entries that say how they came in), with
the keys of its clients in a ``keys_*.json`` file beside it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

import between.engine.app  # noqa: F401  (registers the aggregates' topics)
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.aggregates.operators import Operators
from between.events.base import REGISTRY

FIXTURES = Path(__file__).parent / "fixtures"


def stored_rows() -> list[dict]:
    rows = []
    for path in sorted(FIXTURES.glob("events_*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def test_every_event_class_has_a_stable_topic_and_a_version():
    for name, cls in REGISTRY.items():
        assert name == cls.TOPIC and name.startswith("between.")
        assert ":" not in name and "engine" not in name and "events" not in name
        assert cls.class_version >= 1


def test_every_event_class_is_covered_by_a_stored_fixture():
    assert {row["topic"] for row in stored_rows()} == set(REGISTRY)


def load_fixture_keys(app) -> None:
    """The key store as the fixtures left it (first release: one live key, one erased)."""
    keys: dict = {}
    for path in sorted(FIXTURES.glob("keys_*.json")):
        keys.update(json.loads(path.read_text()))
    for client, key in keys.items():
        app.keys.backend.put(UUID(client), base64.b64decode(key) if key else b"gone")
        if key is None:
            app.keys.backend.destroy(UUID(client))


def replayed(app) -> dict[UUID, object]:
    """Every fixture row decoded and applied, in order: the aggregates they make."""
    load_fixture_keys(app)
    aggregates: dict[UUID, object] = {}
    for row in stored_rows():
        event = app.mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"].encode("utf-8"),
            )
        )
        assert event.timestamp.utcoffset().total_seconds() == 0
        aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
    return aggregates


def test_first_release_rows_still_load_and_replay(app):
    aggregates = replayed(app)
    clients = [a for a in aggregates.values() if isinstance(a, Client)][:2]  # first release's
    first = {c.id for c in clients}
    homework = [a for a in aggregates.values() if isinstance(a, Assignment)]
    homework = [a for a in homework if a.client_id in first]
    assert [c.row["status"] for c in clients] == ["discharged", "erased"]
    assert clients[0].name == "Ana Fixture" and clients[0].contacts["client"]["email"]
    assert clients[1].name == "[erased]" and clients[1].row["code"] == "[erased]"
    assert clients[1].erasure["reason"] == "GDPR request 17"
    assert sorted(a.status for a in homework) == ["cancelled", "closed", "closed", "declined"]
    [operators] = [a for a in aggregates.values() if isinstance(a, Operators)]
    assert operators.required and operators.roles == {"dr.lee": "therapist"}
    stepped = next(a for a in homework if a.row["steps_up_from"])
    assert stepped.status == "declined" and stepped.decline_reason == "busy"
    entries = [e for a in homework for e in a.entries]
    assert entries and all(e["via"] is None for e in entries)  # recorded before ``via``


def test_link_rows_load_with_only_a_hash_of_each_token(app):
    aggregates = replayed(app)
    [client] = [
        a for a in aggregates.values() if isinstance(a, Client) and a.name == "Noor Fixture"
    ]
    links = sorted(client.links.values(), key=lambda link: link["issued_at"])
    assert [(k["person"], k["revoked"] and k["revoked"]["reason"]) for k in links] == [
        ("client", None),
        ("Ravi", "revoked"),
    ]
    assert all(len(k["token_hash"]) == 64 and k["expires"] > k["issued_at"] for k in links)
    [homework] = [
        a for a in aggregates.values() if isinstance(a, Assignment) and a.client_id == client.id
    ]
    assert [(e["via"], e["recorded_by"]) for e in homework.entries] == [
        ("portal", "client"),
        ("cli", "dr.lee"),
    ]


def test_first_release_notifications_read_without_caused_at_and_agreements_are_kept(app):
    """``NotificationQueued.caused_at`` came later: older rows read None (their timestamp is
    their cause's, docs/auditing.md). Every agreement is kept in the assignment's state."""
    aggregates = replayed(app)  # loads the fixtures' keys
    queued = [
        app.mapper.to_domain_event(
            StoredEvent(
                UUID(row["originator_id"]),
                row["originator_version"],
                row["topic"],
                row["state"].encode("utf-8"),
            )
        )
        for row in stored_rows()
        if row["topic"] == "between.NotificationQueued"
    ]
    assert queued and all(e.caused_at is None for e in queued)
    agreed = [
        a for a in aggregates.values() if isinstance(a, Assignment) and a.agreement is not None
    ]
    assert agreed
    for a in agreed:
        assert a.agreements and a.agreements[-1]["obstacles"] == a.agreement["obstacles"]
        assert a.agreements[-1]["confidence"] == a.agreement["confidence"]
