"""One envelope (``engine.work.envelope``): made only by the unit of work, for an operator, the
dispatcher or a link holder, and stored as the same four event fields as before."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

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
