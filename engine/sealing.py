"""Sealing personal fields with their client's key (crypto-shredding).

``SealingMapper`` is eventsourcing's mapper with one more step: before an event is transcoded,
each field its class lists in ``PERSONAL`` is replaced by ``{"_sealed_": "<base64>"}`` —
AES-GCM under the client's key, bound to the client and the field name. On the way back the
tokens are opened; once the client's key is destroyed they read as ``"[erased]"``, and where
the key store may not be read (a database role without access to it) as ``"[restricted]"``.
A request's fingerprint (``engine.requests``) is sealed with them: it is computed from
personal values, so in clear it would let them be guessed. Topics,
ids, versions, times, actors, ratings, counts and statuses are never sealed, so the log keeps
its shape, its counts and its integrity chain after an erasure.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from between.engine.keys import KeyStore, KeysUnavailable
from between.engine.views import ERASED, RESTRICTED

SEALED = "_sealed_"
#: The only sealed fields a summary row shows (the client's code), opened for read models.
ROW_PERSONAL = frozenset({"code", "client"})
#: Sealed, besides ``PERSONAL``, on every event that holds personal data.
FINGERPRINT = "request_fingerprint"
#: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, built once.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: ``json.loads`` of a text, built once.
_LOADS = json.JSONDecoder().decode


def owner_of(event: Any) -> UUID:
    """Whose personal data an event holds: its client."""
    return getattr(event, "client_id", None) or event.originator_id


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
                _replace(state, path, lambda value, path=path: _seal(key, client, path, value))
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
    personal = _personal(cls, only)
    if personal:
        try:
            key: bytes | str | None = keys.key(client)
        except KeysUnavailable:
            key = RESTRICTED  # this reader may not read client keys: nothing opens
        for path in personal:
            _replace(state, path, lambda token, path=path: _open(key, client, path, token))


@lru_cache(maxsize=256)
def _personal(cls: type, only: frozenset[str] | None) -> tuple[str, ...]:
    """The sealed paths of an event class to open (all, or those in ``only``)."""
    paths = getattr(cls, "PERSONAL", ())
    paths = (*paths, FINGERPRINT) if paths else ()
    return tuple(p for p in paths if only is None or p in only)


def _replace(state: dict, path: str, change: Any) -> None:
    field, _, inner = path.partition(".")
    if inner:
        if isinstance(state.get(field), dict) and inner in state[field]:
            state[field] = {**state[field], inner: change(state[field][inner])}
    elif field in state:
        state[field] = change(state[field])


@lru_cache(maxsize=256)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


def _seal(key: bytes, client: UUID, path: str, value: Any) -> dict:
    nonce = os.urandom(12)
    plain = _COMPACT(value).encode("utf-8")
    sealed = _cipher(key).encrypt(nonce, plain, client.bytes + path.encode())
    return {SEALED: base64.b64encode(nonce + sealed).decode("ascii")}


def _open(key: bytes | str | None, client: UUID, path: str, token: Any) -> Any:
    if not (isinstance(token, dict) and SEALED in token):
        return token  # stored before sealing existed, or not personal
    if key is None:
        return ERASED
    if key == RESTRICTED:
        return RESTRICTED
    raw = base64.b64decode(token[SEALED])
    try:
        plain = _cipher(key).decrypt(raw[:12], raw[12:], client.bytes + path.encode())
    except InvalidTag:
        raise ValueError(f"sealed field {path} of client {client} does not open") from None
    return _LOADS(plain.decode("utf-8", "surrogatepass"))  # json.loads(plain), less its detour
