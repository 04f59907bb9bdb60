"""Stored events decoded without eventsourcing, for the light reading path
(``engine.reading.light_records``).

``decode`` turns one stored row (id, version, topic, state) into a ``PlainEvent``: an object
whose attributes are the decoded state, as eventsourcing's mapper would set them on the event
class (``Mapper.to_domain_event`` with the application's ``JSONTranscoder``: UUIDs, decimals
and datetimes as ``{"_type_": "uuid_hex" | "decimal_str" | "datetime_iso", "_data_": ...}``;
``originator_id`` and ``originator_version`` from the row; a stored ``class_version``
dropped), plus ``TOPIC``. A field absent from an old stored state reads None, as the class's
default would (``events.base``: a field added later defaults to None; tests hold every
registered class to it). Sealed personal fields are opened as ``SealingMapper`` opens them,
with the same functions (``engine.storage.sealed_fields``) and the same key store; which paths are
personal
comes from ``events.catalog`` (``PERSONAL``, by topic), as it does for the event classes.

Where decoding could differ from the mapper's — a topic whose class has upcasters
(``UPCAST_TOPICS``), a transcoding type this module does not know, a state that does not
decode — ``NotPlain`` is raised, and the caller decodes with the mapper instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine.storage.sealed_fields import FINGERPRINT, open_paths, owner_of
from between.events.catalog import CATALOG

if TYPE_CHECKING:
    from between.engine.storage.keys import KeyStore

#: The topics whose class has ``class_version > 1`` (an upcaster may rewrite an old state).
UPCAST_TOPICS: frozenset[str] = frozenset(t for t, info in CATALOG.items() if info.version > 1)

#: Each topic's personal paths (where it has any), from the catalog.
PERSONAL: dict[str, tuple[str, ...]] = {
    t: info.personal for t, info in CATALOG.items() if info.personal
}
#: The sealed paths opened on decoding, by topic: the personal ones and the fingerprint.
_SEALED = {topic: (*paths, FINGERPRINT) for topic, paths in PERSONAL.items()}


class NotPlain(Exception):
    """This event cannot be decoded here exactly as the mapper decodes it."""


class PlainEvent:
    """A stored event's decoded state as attributes, and its ``TOPIC``; a field the stored
    state lacks (added to its class later) reads None."""

    TOPIC: str
    originator_id: UUID
    originator_version: int
    timestamp: datetime

    def __init__(self, topic: str, state: dict[str, Any]) -> None:
        self.__dict__ = state
        self.TOPIC = topic

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return None  # called only for what the state lacks: a field's default

    def __repr__(self) -> str:
        return f"PlainEvent({self.__dict__!r})"


def decode(
    aggregate_id: UUID,
    version: int,
    topic: str,
    state: bytes,
    keys: KeyStore,
    only: frozenset[str] | None = None,
) -> PlainEvent:
    """One stored event, decoded and its sealed fields opened — all of them, or ``only``
    those named, as ``SealingMapper.to_domain_event`` takes it (``NotPlain`` where the
    mapper's decoding might differ)."""
    if topic in UPCAST_TOPICS:
        raise NotPlain(f"{topic} may be upcast")
    try:
        decoded = _DECODER.decode(bytes(state).decode("utf8"))
    except NotPlain:
        raise
    except Exception as e:  # the mapper says what is wrong with it
        raise NotPlain(f"{topic} does not decode: {e}") from None
    if not isinstance(decoded, dict):
        raise NotPlain(f"{topic}'s state is not an object")
    decoded["originator_id"] = aggregate_id
    decoded["originator_version"] = version
    decoded.pop("class_version", None)
    event = PlainEvent(topic, decoded)
    paths = _SEALED.get(topic) if only is None else _sealed_among(topic, only)
    if paths:
        open_paths(decoded, paths, owner_of(event), keys)
    return event


def row_decoder(mapper: Any, only: frozenset[str] | None = None) -> Decoder:
    """What decodes stored events as ``mapper`` does (opening ``only`` the sealed fields
    named): plainly — quicker, no event objects — on a store whose states are neither
    encrypted nor compressed, by the mapper itself otherwise and wherever ``NotPlain``."""

    def by_mapper(aggregate_id: UUID, version: int, topic: str, state: bytes) -> Any:
        from eventsourcing.persistence import StoredEvent

        stored = StoredEvent(aggregate_id, version, topic, bytes(state))
        return mapper.to_domain_event(stored, only=only)

    if mapper.cipher is not None or mapper.compressor is not None:
        return by_mapper
    keys = mapper.keys

    def decoded(aggregate_id: UUID, version: int, topic: str, state: bytes) -> Any:
        try:
            return decode(aggregate_id, version, topic, state, keys, only)
        except NotPlain:
            return by_mapper(aggregate_id, version, topic, state)

    return decoded


#: Decodes one stored event: (aggregate id, version, topic, state) → the event.
Decoder = Callable[[UUID, int, str, bytes], Any]


@lru_cache(maxsize=256)
def _sealed_among(topic: str, only: frozenset[str]) -> tuple[str, ...]:
    return tuple(path for path in _SEALED.get(topic, ()) if path in only)


def _transcoded(d: dict[str, Any]) -> Any:
    """``JSONTranscoder``'s object hook, for the three transcodings the application uses."""
    if len(d) != 2 or "_type_" not in d or "_data_" not in d:
        return d
    name, data = d["_type_"], d["_data_"]
    if name == "uuid_hex" and isinstance(data, str):
        return UUID(data)
    if name == "datetime_iso" and isinstance(data, str):
        return datetime.fromisoformat(data)
    if name == "decimal_str":
        from decimal import Decimal  # rare: not imported unless a state holds one

        return Decimal(data)
    raise NotPlain(f"no plain transcoding for {name!r}")


_DECODER = json.JSONDecoder(object_hook=_transcoded)
