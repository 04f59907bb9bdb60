"""Sealed personal fields, one value at a time: the token format, and sealing and opening a
value with its client's key (see ``engine.storage.sealing_mapper`` for the rules and the mapper).

Apart from eventsourcing, so that the light reading path (``engine.reading.plain``) opens what
``SealingMapper`` opens, with these same functions.
"""

from __future__ import annotations

import base64
import json
import os
from binascii import a2b_base64
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from between.engine.reading.views import ERASED, RESTRICTED
from between.engine.storage.keys import AESGCM, KeysUnavailable, is_invalid_tag

if TYPE_CHECKING:
    from collections.abc import Iterable

    from between.engine.storage.keys import KeyStore

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


def replace(state: dict, path: str, change: Callable[[Any], Any]) -> None:
    """Change in place the value at ``path`` (``field``, or ``field.key`` inside a dict
    field) of an event's state, if it is there."""
    field, _, inner = path.partition(".")
    if inner:
        if isinstance(state.get(field), dict) and inner in state[field]:
            state[field] = {**state[field], inner: change(state[field][inner])}
    elif field in state:
        state[field] = change(state[field])


@lru_cache(maxsize=256)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


def seal(key: bytes, client: UUID, path: str, value: Any) -> dict:
    """``value`` sealed under the client's key, bound to the client and the path."""
    nonce = os.urandom(12)
    plain = _COMPACT(value).encode("utf-8")
    sealed = _cipher(key).encrypt(nonce, plain, client.bytes + path.encode())
    return {SEALED: base64.b64encode(nonce + sealed).decode("ascii")}


def open_token(key: bytes | str | None, client: UUID, path: str, token: Any) -> Any:
    """The value a sealed token holds; ``ERASED`` without a key (None), ``RESTRICTED`` for a
    reader who may not read keys; a value that is not a token as it is."""
    return _opener(key, client)(path, token)


def open_paths(state: dict, paths: Iterable[str], client: UUID, keys: KeyStore) -> None:
    """Open in place the sealed values at ``paths`` of one event's state (none given: its
    client's key is not even looked up), with the key of ``client``, its owner."""
    if paths:
        try:
            key: bytes | str | None = keys.key(client)
        except KeysUnavailable:
            key = RESTRICTED  # this reader may not read client keys: nothing opens
        opened = _opener(key, client)
        for path in paths:
            field, inner = _split(path)
            if inner is None:
                if field in state:
                    state[field] = opened(path, state[field])
            else:
                value = state.get(field)
                if isinstance(value, dict) and inner in value:
                    state[field] = {**value, inner: opened(path, value[inner])}


def _opener(key: bytes | str | None, client: UUID) -> Callable[[str, Any], Any]:
    """What opens one token of ``client``'s (path, token) with ``key``: the cipher and the
    client's part of the binding made once for all of an event's tokens."""
    if not isinstance(key, bytes):
        marker = ERASED if key is None else RESTRICTED
        return lambda path, token: marker if _is_token(token) else token
    decrypt, owner = _cipher(key).decrypt, client.bytes

    def opened(path: str, token: Any) -> Any:
        if not _is_token(token):
            return token  # stored before sealing existed, or not personal
        raw = a2b_base64(token[SEALED])
        try:
            plain = decrypt(raw[:12], raw[12:], owner + _path_bytes(path))
        except Exception as e:
            if not is_invalid_tag(e):
                raise
            raise ValueError(f"sealed field {path} of client {client} does not open") from None
        return _LOADS(plain.decode("utf-8", "surrogatepass"))  # json.loads(plain), less its detour

    return opened


def _is_token(value: Any) -> bool:
    return type(value) is dict and SEALED in value


@lru_cache(maxsize=256)
def _split(path: str) -> tuple[str, str | None]:
    field, _, inner = path.partition(".")
    return field, inner or None


@lru_cache(maxsize=256)
def _path_bytes(path: str) -> bytes:
    return path.encode()
