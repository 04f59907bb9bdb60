"""Base classes and the stable-topic registry for every stored event.

Rules for event classes (they are a storage format):

* each concrete class is decorated with ``@topic(catalog.NAME)``; the topic is what is
  stored, so modules can move without orphaning old logs. Its record in ``events.catalog``
  gives the class its ``PERSONAL`` paths and ``class_version`` (one place for both);
* ``class_version`` starts at 1; when fields change, bump it in the catalog and add a static
  ``upcast_vN_vN+1(state)`` that rewrites an old stored state in place;
* fields hold JSON-friendly values, ``UUID`` or timezone-aware UTC ``datetime`` only;
* a field added later is optional: keyword-only with a default of None, which is what events
  stored before it existed read (no upcaster needed, no version bump);
* the light reading path decodes events without these classes (``engine.reading.plain``), from the
  same catalog; every consumer of events handles or explicitly skips each catalogued topic
  (``tests/test_event_catalog.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from between.events.catalog import CATALOG, NAMESPACE

T = TypeVar("T", bound=type)

#: Every registered event class, by stored topic.
REGISTRY: dict[str, type] = {}


def topic(name: str) -> Callable[[T], T]:
    """Give a class its stable stored topic, its catalogued ``PERSONAL`` paths and
    ``class_version``, and register it for decoding."""

    def register(cls: T) -> T:
        info = CATALOG.get(name)
        if info is None:
            raise RuntimeError(f"topic {name!r} is not in events.catalog; add it there first")
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise RuntimeError(f"topic {name!r} is already used by {REGISTRY[name]!r}")
        cls.TOPIC = name  # type: ignore[attr-defined]
        cls.PERSONAL = info.personal  # type: ignore[attr-defined]
        cls.class_version = info.version  # type: ignore[attr-defined]
        register_topic(name, cls)
        REGISTRY[name] = cls
        return cls

    return register


class Fact(Aggregate.Event):
    """A fact about a client or an assignment: who caused it, and under which request key.

    ``PERSONAL`` names the fields (or ``field.key`` inside a dict field) that hold a
    client's personal data (set from ``events.catalog`` by ``@topic``). They are stored
    sealed with that client's own key, so erasing the client (destroying the key) leaves
    them unreadable while the rest stays intact.
    Nothing that a read model or a replay computes may depend on a personal field.
    """

    class_version = 1
    PERSONAL = ()
    actor: str
    request_key: str | None
    #: Added after the first release (absent from older events, which read None): the
    #: fingerprint of the request behind ``request_key`` (see ``engine.work.requests``).
    request_fingerprint: str | None = field(default=None, kw_only=True)

    def apply(self, aggregate: Any) -> None:
        aggregate.evolve(self)


class Started(Aggregate.Created):
    """The first fact of an aggregate's life (``PERSONAL`` as for ``Fact``)."""

    class_version = 1
    PERSONAL = ()
    actor: str
    request_key: str | None
    #: Added after the first release (absent from older events, which read None): the
    #: fingerprint of the request behind ``request_key`` (see ``engine.work.requests``).
    request_fingerprint: str | None = field(default=None, kw_only=True)

    def apply(self, aggregate: Any) -> None:
        aggregate.evolve(self)


def short_name(event_or_class: Any) -> str:
    """The event type as shown to people: the stored topic without its namespace."""
    cls: type[Any] = event_or_class if isinstance(event_or_class, type) else type(event_or_class)
    return cls.TOPIC.removeprefix(NAMESPACE)


def stable_topic(aggregate_class: type, name: str) -> None:
    """Give an aggregate class a stable topic (stored in each ``Started`` event).

    Set after the class body on purpose: eventsourcing's metaclass would otherwise demand
    explicit topics on the event classes it derives for the aggregate, which we never use.
    """
    aggregate_class.TOPIC = name  # type: ignore[attr-defined]
    register_topic(name, aggregate_class)
