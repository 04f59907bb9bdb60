"""The event catalog (``events.catalog``) is the one place for each topic's facts, and every
consumer of events handles or explicitly skips each catalogued topic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

import pytest

import between.engine.app  # noqa: F401  (registers every event class)
from between.audit import narration
from between.engine.aggregates.notifications import Notification
from between.engine.aggregates.operators import Operators
from between.engine.folds import assignment_state, client_state, rows
from between.engine.reading import plain
from between.events import catalog
from between.events.base import REGISTRY, Fact, topic
from between.events.catalog import CATALOG, EventInfo
from between.fhir_r4 import records as fhir
from between.notify import queuing


def _dispatched(aggregate: type) -> set[str]:
    """The topics an aggregate's ``singledispatchmethod`` evolve registers."""
    registry = vars(aggregate)["evolve"].dispatcher.registry
    return {cls.TOPIC for cls in registry if cls is not object}


#: Each consumer: (what it handles, what it skips on purpose), by topic. The folds and the
#: row steps answer for their own kind of record only.
FOLDS = {
    catalog.ASSIGNMENT: assignment_state.TOPICS,
    catalog.CLIENT: client_state.TOPICS,
    catalog.NOTIFICATION: _dispatched(Notification),
    catalog.OPERATORS: _dispatched(Operators),
}
CONSUMERS: dict[str, tuple[frozenset[str] | set[str], frozenset[str]]] = {
    "the row steps (engine.folds.rows)": (set(rows.ROW_STEPS), rows.SKIPS),
    "narration (audit.narration)": (set(narration.NARRATIONS), narration.SKIPS),
    "the FHIR export (fhir_r4.records)": (fhir.TOPICS, fhir.SKIPS),
    "notification routing (notify.queuing)": (set(queuing.HEARS), queuing.SILENT),
}


def gaps(known: Mapping[str, EventInfo]) -> list[str]:
    """Each consumer that neither handles nor skips a topic, or does both, as text."""
    found = []
    for t, info in known.items():
        if t not in FOLDS.get(info.aggregate, ()):
            found.append(f"the {info.aggregate} fold: {t}")
        for consumer, (handled, skipped) in CONSUMERS.items():
            if t not in handled and t not in skipped:
                found.append(f"{consumer}: {t}")
            if t in handled and t in skipped:
                found.append(f"{consumer} both handles and skips {t}")
    for kind, topics in FOLDS.items():
        found += [f"the {kind} fold folds the uncatalogued {t}" for t in topics - set(known)]
    for consumer, (handled, skipped) in CONSUMERS.items():
        found += [
            f"{consumer} names the uncatalogued {t}" for t in (handled | skipped) - set(known)
        ]
    return found


def test_every_consumer_handles_or_skips_every_topic():
    assert gaps(CATALOG) == []


def test_a_new_topic_fails_naming_each_consumer_that_forgot_it():
    new = "between.HomeworkPaused"
    with_new = {**CATALOG, new: EventInfo(new, catalog.ASSIGNMENT, ("reason",))}
    assert gaps(with_new) == [
        f"the assignment fold: {new}",
        *(f"{consumer}: {new}" for consumer in CONSUMERS),
    ]


def test_every_event_class_is_catalogued_and_takes_its_facts_from_there():
    assert set(REGISTRY) == set(CATALOG)
    for t, cls in REGISTRY.items():
        info = CATALOG[t]
        assert (cls.TOPIC, cls.PERSONAL, cls.class_version) == (t, info.personal, info.version)


def test_a_class_outside_the_catalog_is_refused():
    with pytest.raises(RuntimeError, match="'between.Unheard' is not in events.catalog"):

        @topic("between.Unheard")
        class Unheard(Fact):
            pass


def test_plain_decoding_reads_the_catalog():
    assert {t: i.personal for t, i in CATALOG.items() if i.personal} == plain.PERSONAL
    assert {t for t, i in CATALOG.items() if i.version > 1} == plain.UPCAST_TOPICS


def test_the_catalog_is_consistent():
    for t, info in CATALOG.items():
        assert t == info.topic and t.startswith(catalog.NAMESPACE)
        assert info.aggregate in catalog.AGGREGATE_TOPICS, t
        assert info.version >= 1, t
    constants = {v for k, v in vars(catalog).items() if k.isupper() and isinstance(v, str)}
    assert set(CATALOG) <= constants  # each topic has its constant


def test_the_catalog_imports_nothing_heavy():
    code = (
        "import sys, between.events.catalog; "
        "print(sorted(m for m in sys.modules if m.startswith(('between', 'eventsourcing'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['between', 'between.events', 'between.events.catalog']"
