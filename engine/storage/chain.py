"""The integrity chain: every stored event carries a hash linking it to the one before.

``link`` is computed over the *stored* bytes (the encrypted state when the store is
encrypted), so verifying the chain never needs a decryption key. Each link covers:

* the previous link (32 bytes; ``GENESIS`` for the first event),
* the event's log position and its sequence number (1, 2, 3, … with no gaps),
* the aggregate id, its version, the topic and the stored state.

Hashing the position catches a SQLite file renumbered by a dump/restore; the gap-free
sequence number tells a deletion (a jump) from an edit (a bad hash) even on PostgreSQL,
whose positions may legitimately skip values after a rolled-back write.
"""

from __future__ import annotations

from hashlib import sha256
from struct import Struct
from uuid import UUID

GENESIS = bytes(32)
LINK_HEADER = Struct(">QQQII")


def id_bytes(originator_id: UUID | str) -> bytes:
    """The bytes of an aggregate id that enter the chain."""
    return originator_id.bytes if isinstance(originator_id, UUID) else originator_id.encode()


def link(
    prev: bytes,
    position: int,
    seq: int,
    oid: bytes,
    version: int,
    topic: str,
    state: bytes,
) -> bytes:
    """The chain value of one stored event (``oid`` from ``id_bytes``)."""
    name = topic.encode()
    head = LINK_HEADER.pack(position, seq, version, len(oid), len(name))
    return sha256(b"".join((prev, head, oid, name, state))).digest()
