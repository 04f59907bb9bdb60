"""The light path's plain decoding (``engine.reading.plain``) and topic-keyed folds: the same events,
rows and states as eventsourcing's mapper and the aggregates give, from every stored fixture
row — the first release's too — without importing either."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from test_event_format import load_fixture_keys, stored_rows

import between.engine.app  # noqa: F401  (registers the aggregates' topics)
from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.folds import assignment_state, client_state
from between.engine.folds.rows import ROW_FOLDERS, ROW_STEPS
from between.engine.reading import plain
from between.engine.reading.light_records import LightAssignment, LightClient
from between.engine.storage import keys
from between.engine.storage.sealing_mapper import ROW_PERSONAL
from between.events.assignments import ASSIGNMENT_EVENTS
from between.events.base import REGISTRY
from between.events.clients import CLIENT_EVENTS
from between.events.notifications import NOTIFICATION_EVENTS


def test_the_upcast_topics_are_those_of_classes_past_their_first_version():
    upcast = {t for t, c in REGISTRY.items() if c.class_version > 1}
    assert upcast == plain.UPCAST_TOPICS


def test_the_personal_table_is_each_class_s_personal():
    assert {t: c.PERSONAL for t, c in REGISTRY.items() if c.PERSONAL} == plain.PERSONAL


def test_every_field_with_a_default_defaults_to_none():
    """What a plain event reads for a field its stored state lacks (``events.base``)."""
    for cls in REGISTRY.values():
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                assert f.default is None, (cls.TOPIC, f.name)


def test_the_folds_know_every_topic_of_their_kind():
    kinds = {
        "client": {c.TOPIC for c in CLIENT_EVENTS},
        "assignment": {c.TOPIC for c in ASSIGNMENT_EVENTS},
        "notification": {c.TOPIC for c in NOTIFICATION_EVENTS},
    }
    for kind, topics in kinds.items():
        assert {t for t, f in ROW_FOLDERS.items() if f.__name__ == f"{kind}_row"} == topics
    assert set(ROW_STEPS) == set(ROW_FOLDERS)
    assert kinds["assignment"] == assignment_state.TOPICS
    assert kinds["client"] == client_state.TOPICS
    assert Assignment.TOPIC == Assignment.AGGREGATE_TOPIC == "between.Assignment"
    assert Client.TOPIC == Client.AGGREGATE_TOPIC == "between.Client"
    assert Assignment.STARTED == ASSIGNMENT_EVENTS[0].TOPIC
    assert Client.STARTED == CLIENT_EVENTS[0].TOPIC


def stored(row: dict) -> tuple[UUID, int, str, bytes]:
    return (
        UUID(row["originator_id"]),
        row["originator_version"],
        row["topic"],
        row["state"].encode("utf-8"),
    )


def test_plain_events_are_what_the_mapper_decodes(app):
    """Every field of every fixture row — sealed, erased, absent from an old state — reads
    the same on the plain event as on the event class the mapper makes."""
    load_fixture_keys(app)
    for row in stored_rows():
        full = app.mapper.to_domain_event(StoredEvent(*stored(row)))
        event = plain.decode(*stored(row), app.keys)
        assert event.TOPIC == type(full).TOPIC
        assert {k: v for k, v in vars(event).items() if k != "TOPIC"} == vars(full)
        for f in dataclasses.fields(type(full)):
            assert getattr(event, f.name) == getattr(full, f.name), (row["topic"], f.name)


def test_the_row_decoder_opens_only_what_it_is_asked_to_as_the_mapper_does(app):
    """``replay --check`` and the read model's catch-up open the client codes only."""
    load_fixture_keys(app)
    decode = plain.row_decoder(app.mapper, ROW_PERSONAL)
    for row in stored_rows():
        full = app.mapper.to_domain_event(StoredEvent(*stored(row)), only=ROW_PERSONAL)
        event = decode(*stored(row))
        assert {k: v for k, v in vars(event).items() if k != "TOPIC"} == vars(full)
    odd = b'{"timestamp": {"_type_": "complex_str", "_data_": "1+2j"}}'
    with pytest.raises(Exception) as refused:  # the mapper's own refusal, not NotPlain
        decode(UUID(int=1), 1, "between.ClientErased", odd)
    assert not isinstance(refused.value, plain.NotPlain)


def test_plain_states_are_what_the_aggregates_fold(app):
    load_fixture_keys(app)
    aggregates: dict[UUID, object] = {}
    light: dict[UUID, object] = {}
    for row in stored_rows():
        oid, version, topic, state = stored(row)
        full = app.mapper.to_domain_event(StoredEvent(oid, version, topic, state))
        aggregates[oid] = full.mutate(aggregates.get(oid))
        kind = {Assignment.STARTED: LightAssignment, Client.STARTED: LightClient}.get(topic)
        if kind is not None:
            light[oid] = kind(oid)
        if oid in light:
            light[oid].evolve(plain.decode(oid, version, topic, state, app.keys))
            light[oid].version = version
    assert {type(a) for a in light.values()} == {LightAssignment, LightClient}
    for oid, folded in light.items():
        aggregate = aggregates[oid]
        assert (folded.id, folded.version) == (aggregate.id, aggregate.version)
        assert folded.detail() == aggregate.detail()
        mine = {k: v for k, v in vars(folded).items() if k not in ("id", "version")}
        assert mine == {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}


@pytest.mark.parametrize(
    "state",
    [
        b'{"timestamp": {"_type_": "complex_str", "_data_": "1+2j"}}',  # no such transcoding
        b'{"timestamp": {"_type_": "uuid_hex", "_data_": 7}}',  # the mapper would refuse it
        b'{"timestamp": {"_type_": "datetime_iso", "_data_": "yesterday"}}',
        b"[1, 2]",
        b"\xff",
    ],
)
def test_what_the_plain_decoder_cannot_read_exactly_goes_to_the_mapper(app, state):
    with pytest.raises(plain.NotPlain):
        plain.decode(UUID(int=1), 1, "between.ClientErased", state, app.keys)


def test_aes_gcm_is_the_public_class_and_a_wrong_key_is_told_apart():
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert keys.AESGCM is AESGCM
    sealed = AESGCM(keys.new_key()).encrypt(b"\0" * 12, b"text", None)
    with pytest.raises(InvalidTag) as refused:
        AESGCM(keys.new_key()).decrypt(b"\0" * 12, sealed, None)
    assert keys.is_invalid_tag(refused.value) and not keys.is_invalid_tag(ValueError("x"))
