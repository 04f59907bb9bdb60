"""Sealing personal fields with their client's key (crypto-shredding).

``SealingMapper`` is eventsourcing's mapper with one more step: before an event is transcoded,
each field its class lists in ``PERSONAL`` is replaced by ``{"_sealed_": "<base64>"}`` —
AES-GCM under the client's key, bound to the client and the field name. On the way back the
tokens are opened; once the client's key is destroyed they read as ``"[erased]"``, and where
the key store may not be read (a database role without access to it) as ``"[restricted]"``.
A request's fingerprint (``engine.work.requests``) is sealed with them: it is computed from
personal values, so in clear it would let them be guessed. Topics,
ids, versions, times, actors, ratings, counts and statuses are never sealed, so the log keeps
its shape, its counts and its integrity chain after an erasure.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from between.engine.storage.keys import KeyStore
from between.engine.storage.sealed_fields import (
    FINGERPRINT,
    ROW_PERSONAL,
    SEALED,
    open_paths,
    owner_of,
    replace,
    seal,
)

__all__ = ["FINGERPRINT", "ROW_PERSONAL", "SEALED", "SealingMapper", "open_sealed", "owner_of"]


class SealingMapper(Mapper[UUID]):
    """A mapper that seals personal fields with the client's own key."""

    def __init__(self, *args: Any, keys: KeyStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        personal = getattr(cls, "PERSONAL", ())
        if personal:
            if getattr(domain_event, FINGERPRINT, None) is not None:
                personal = (*personal, FINGERPRINT)
            client = owner_of(domain_event)
            key = self.keys.key(client)
            if key is None:
                raise ValueError(f"client {client} was erased; nothing more is recorded for them")
            for path in personal:
                replace(state, path, partial(seal, key, client, path))
        # The library's ``to_stored_event`` from here on, on the state already copied.
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(originator_id, originator_version, get_topic(cls), stored)

    def to_domain_event(self, stored_event: StoredEvent, only: frozenset[str] | None = None) -> Any:
        """Decode an event, opening its sealed fields (or ``only`` those named: the read
        models need just the client code, and skipping the rest saves most of the work)."""
        event = super().to_domain_event(stored_event)
        if _personal(type(event), only):
            open_sealed(vars(event), type(event), owner_of(event), self.keys, only)
        return event


def open_sealed(
    state: dict, cls: type, client: UUID, keys: KeyStore, only: frozenset[str] | None = None
) -> None:
    """Open in place the sealed fields of one event's state (all, or ``only`` those named),
    with the key of ``client``, its owner: what ``SealingMapper`` does to each event it
    decodes, for readers that decode the stored state themselves (``between log --json``)."""
    open_paths(state, _personal(cls, only), client, keys)


@lru_cache(maxsize=256)
def _personal(cls: type, only: frozenset[str] | None) -> tuple[str, ...]:
    """The sealed paths of an event class to open (all, or those in ``only``)."""
    paths = getattr(cls, "PERSONAL", ())
    paths = (*paths, FINGERPRINT) if paths else ()
    return tuple(p for p in paths if only is None or p in only)
