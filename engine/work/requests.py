"""Idempotency keys: is a repeated key the same request, or a different one?

A write given ``--idempotency-key`` records, on each of its events, the key and a
**fingerprint** of the request: SHA-256 over the command's name and its arguments exactly as
given (before defaults such as "now" or "+7 days" are resolved, so a retry tomorrow is still
the same request), canonical JSON, 128 bits in hex. The arguments that only name the record
(an assignment id prefix, a client code for a change) are left out: a key belongs to the
record it changes. On events that hold personal data the fingerprint is sealed with the
client's key like the personal fields (``engine.storage.sealing_mapper``), so it cannot be used to
guess
them, and it is erased with them.

When the key comes again on the same record:

* same command and same fingerprint → nothing is recorded; the first result is reported;
* another command, or another fingerprint → refused, naming the first request (its event,
  who and when).

Events recorded before fingerprints existed (or whose fingerprint can no longer be opened,
after an erasure) are judged by their event type alone, as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from between.engine.errors import RuleViolation

#: The request key and fingerprint of the write being authorised in this thread.
ASKED: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "between_request", default=(None, None)
)

#: Every request key of ``between import`` starts with this: imported records are history, and
#: the dispatcher sends no "agreed"/"entry"/"reviewed"/"declined" message for them.
IMPORTED = "import:"

_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
#: Canonical JSON: ``json.dumps(…, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
#: default=str)``, built once.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode


def fingerprint(command: str, arguments: dict[str, Any]) -> str:
    """The request's fingerprint: its command and arguments, canonical, hashed."""
    canonical = _CANONICAL([command, arguments])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def ask(request_key: str | None, command: str, arguments: dict[str, Any]) -> str | None:
    """Note the request being made in this thread; its fingerprint if it carries a key."""
    found = fingerprint(command, arguments) if request_key else None
    ASKED.set((request_key, found))
    return found


def check_repeat(
    request_key: str, first_event: str, expected: tuple[str, ...], events: Iterable[Any]
) -> None:
    """Refuse a repeated key unless it repeats the first request (see the module notes).

    ``events`` are the record's events, oldest first; the first one with the key tells
    who made the first request, when, and its fingerprint.
    """
    asked_key, asked = ASKED.get()
    first = next((e for e in events if getattr(e, "request_key", None) == request_key), None)
    recorded = getattr(first, "request_fingerprint", None)
    comparable = (
        asked_key == request_key
        and asked is not None
        and isinstance(recorded, str)
        and _FINGERPRINT.fullmatch(recorded) is not None
    )
    if first_event in expected and (not comparable or recorded == asked):
        return
    if first is None:
        raise RuleViolation(
            "idempotency key %(key)r was already used for %(event)s"
            " with a different request; nothing was recorded — use a new key for a new request",
            key=request_key,
            event=first_event,
        )
    raise RuleViolation(
        "idempotency key %(key)r was already used for %(event)s by %(actor)s at %(time)s"
        " with a different request; nothing was recorded — use a new key for a new request",
        key=request_key,
        event=first_event,
        actor=first.actor,
        time=first.timestamp.isoformat(timespec="seconds"),
    )
