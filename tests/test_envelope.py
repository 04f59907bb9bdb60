"""One envelope (``engine.work.envelope``): made only by the unit of work, for an operator, the
dispatcher or a link holder, taken by every aggregate method that records an event, and stored
as the same four event fields as before."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from between.engine import aggregates
from between.engine.aggregates.clients import Client
from between.engine.aggregates.operators import Operators
from between.engine.errors import StoreError
from between.engine.work.envelope import FIELDS, Envelope
from between.events.base import Fact, Started

ROOT = Path(__file__).resolve().parent.parent
MAKERS = {"engine/work/unit.py"}


def test_its_fields_are_exactly_the_events_envelope_fields():
    assert tuple(f.name for f in dataclasses.fields(Envelope)) == FIELDS
    for base in (Fact, Started):
        names = {f.name for f in dataclasses.fields(base)}
        assert set(FIELDS) <= names, base


def test_the_three_makers_stamp_who_which_key_and_when(app, clock):
    before = clock.moment
    operator = app.work.authorise("dr.lee", "register", "k-1", code="C1")
    assert (operator.actor, operator.request_key) == ("dr.lee", "k-1")
    assert operator.timestamp >= before and operator.request_fingerprint is not None
    dispatcher = app.work.for_dispatcher("between-notify")
    assert {**dispatcher, "timestamp": None} == {
        "actor": "between-notify",
        "request_key": None,
        "timestamp": None,
        "request_fingerprint": None,
    }
    assert dispatcher.timestamp > operator.timestamp  # the store's clock, at the moment
    holder = app.work.for_link_holder(False, "portal:1", "submit", {"fields": {}})
    assert (holder.actor, holder.request_key) == ("collaborator", "portal:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        holder.actor = "someone else"  # type: ignore[misc]


def test_a_read_only_store_makes_no_envelope(app):
    app.work.read_only = True
    for make in (
        lambda: app.work.authorise("dr.lee", "register"),
        lambda: app.work.for_dispatcher("between-notify"),
        lambda: app.work.for_link_holder(True, "portal:1", "submit", {}),
    ):
        with pytest.raises(StoreError):
            make()


def test_the_stored_event_fields_are_as_before(app):
    app.register_client("C1", "Ana", "dr.lee", actor="dr.lee", request_key="k-1")
    [event] = app.events.get(app.client_id("C1"))
    assert (event.actor, event.request_key) == ("dr.lee", "k-1")
    assert event.request_fingerprint is not None and event.timestamp.tzinfo is not None


def test_nothing_but_the_unit_of_work_makes_an_envelope():
    """No ``Envelope(`` call, and no hand-built ``{"actor": …, "timestamp": …}``, elsewhere."""
    made, by_hand = [], []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/")) or relative in MAKERS:
            continue
        text = path.read_text(encoding="utf8")
        if re.search(r"\bEnvelope\(", text) and relative != "engine/work/envelope.py":
            made.append(relative)
        if re.search(r"""["']timestamp["']\s*:""", text) and re.search(
            r"""["']actor["']\s*:""", text
        ):
            by_hand.append(relative)
    assert made == [] and by_hand == []


def aggregate_methods() -> Iterator[tuple[str, Callable[..., Any]]]:
    """``(Class.method, function)`` for every method an aggregate class defines itself."""
    for module in pkgutil.iter_modules(aggregates.__path__, f"{aggregates.__name__}."):
        for cls in vars(importlib.import_module(module.name)).values():
            if not (isinstance(cls, type) and issubclass(cls, Aggregate)):
                continue
            if cls.__module__ != module.name:
                continue
            for name, member in vars(cls).items():
                function = getattr(member, "__func__", member)  # classmethods too
                if inspect.isfunction(function):
                    yield f"{cls.__name__}.{name}", function


def test_no_aggregate_method_takes_loose_keywords():
    """What an aggregate records is spelled out: no ``**meta``, ``**fields`` or ``**kwargs``."""
    methods = dict(aggregate_methods())
    assert {"Client.register", "Assignment.review", "Notification.queue", "Operators.add"} <= set(
        methods
    )
    loose = [
        name
        for name, function in methods.items()
        if any(p.kind is p.VAR_KEYWORD for p in inspect.signature(function).parameters.values())
    ]
    assert loose == []


def test_every_aggregate_method_that_records_an_event_takes_an_envelope():
    recording = {
        name: function
        for name, function in aggregate_methods()
        if re.search(r"\b(trigger_event|_create)\(", inspect.getsource(function))
    }
    assert len(recording) >= 20
    without = [
        name
        for name, function in recording.items()
        if Envelope not in typing.get_type_hints(function).values()
    ]
    assert without == []


def test_an_aggregate_stores_the_envelope_it_is_given_field_for_field():
    given = Envelope("dr.lee", "k-1", datetime(2026, 3, 2, 9, tzinfo=UTC), "fingerprint")
    client = Client.register("C1", "Ana", "dr.lee", given)
    client.add_collaborator("Bo", "partner", given)
    operators = Operators.start(given)
    operators.add("dr.lee", "therapist", given)
    events = [*client.collect_events(), *operators.collect_events()]
    assert len(events) == 4
    for event in events:
        assert {name: getattr(event, name) for name in FIELDS} == dict(given)
