"""Verifying the integrity chain (see ``between.engine.storage.chain`` for what each link covers).

An auditor re-computes every link from the stored bytes, so verification never needs a
decryption key; a ``Checkpoint`` kept outside the store also catches truncation.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, ClassVar

from between.engine.storage.chain import GENESIS, LINK_HEADER
from between.language import N_, Word

Row = tuple[int, int, bytes, bytes, int, str, bytes]
"""A stored event as verification reads it: position, seq, chain, id bytes, version,
topic, state."""


@dataclass(frozen=True)
class Checkpoint:
    """A short digest of the log's head, kept by an auditor outside the store."""

    seq: int
    chain: str  # the first CHECKPOINT_HEX hex digits of the head event's chain value

    PREFIX: ClassVar[str] = "between-v1"

    def __str__(self) -> str:
        return f"{self.PREFIX}:{self.seq}:{self.chain}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        prefix, _, rest = text.strip().partition(":")
        seq, _, chain = rest.partition(":")
        if prefix != cls.PREFIX or not seq.isdigit() or len(chain) != CHECKPOINT_HEX:
            raise ValueError(
                Word(
                    N_("%(text)r is not a checkpoint (expected %(prefix)s:N:HEX)"),
                    text=text,
                    prefix=cls.PREFIX,
                )
            )
        int(chain, 16)
        return cls(int(seq), chain.lower())


CHECKPOINT_HEX = 32


@dataclass(frozen=True)
class Break:
    """The first place where the log and its chain disagree."""

    position: int
    kind: str  # altered | deleted | reordered | inserted | cut off | rewritten
    detail: str  # English (a ``Word``: ``between.language.worded`` words it)


@dataclass
class Verification:
    """What ``verify`` found: how many events, the head, and the first break if any."""

    events: int = 0  # every row of the event table, on the chain or not
    verified: int = 0  # events whose links were recomputed before any break
    head_seq: int = 0
    head_position: int = 0
    head_chain: bytes = GENESIS
    first_break: Break | None = None

    @property
    def intact(self) -> bool:
        return self.first_break is None

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.head_seq, self.head_chain.hex()[:CHECKPOINT_HEX])


def verify(
    batches: Iterable[list[tuple]],
    locate_seq: Callable[[int], list[tuple[int, bytes]]],
    against: Checkpoint | None = None,
    id_bytes: Callable[[Any], bytes] = bytes.fromhex,
) -> Verification:
    """Walk the log in position order, recomputing every link.

    ``batches`` yields lists of stored rows (position, seq, chain, aggregate id as stored,
    version, topic, state); ``id_bytes`` turns a stored id into the bytes the chain covers.
    ``locate_seq(n)`` returns (position, chain) of the rows whose seq is ``n``; it is called
    only at a break, to tell a deletion from a move or an insertion. The loop inlines
    ``link``: it runs once per stored event.
    """
    result = Verification()
    expected, prev, head_position = 1, GENESIS, 0
    pack, digest, join = LINK_HEADER.pack, sha256, b"".join
    names: dict[Any, bytes] = {}
    checkpoint_seq = against.seq if against is not None else 0
    broken: Break | None = None
    rows_seen = 0
    for rows in batches:
        rows_seen += len(rows)
        if broken:
            continue  # count the rest of the table
        for position, seq, chain, oid, version, topic, state in rows:
            if not isinstance(position, int) or position < 1:
                broken = Break(
                    position,
                    "inserted",
                    Word(
                        N_(
                            "a row at position %(position)s lies outside the log (positions "
                            "start at 1); it is on no chain: it was inserted"
                        ),
                        position=position,
                    ),
                )
                break
            if seq != expected:
                broken = _sequence_break(head_position, position, seq, chain, expected, locate_seq)
                break
            try:
                name = names.get(topic)
                if name is None:
                    name = names[topic] = str(topic).encode()
                key = id_bytes(oid)
                computed = digest(
                    join(
                        (prev, pack(position, seq, version, len(key), len(name)), key, name, state)
                    )
                ).digest()
            except (struct.error, TypeError, ValueError, AttributeError):
                computed = b""  # a value changed to another type or encoding: it cannot match
            if computed != chain:
                broken = Break(
                    position,
                    "altered",
                    Word(
                        N_(
                            "event #%(seq)s at position %(position)s does not match the chain: "
                            "its stored bytes, its position or the event before it changed (an "
                            "edit, an insertion, or a restore from a text dump, which renumbers "
                            "positions)"
                        ),
                        seq=seq,
                        position=position,
                    ),
                )
                break
            if (
                against is not None
                and seq == checkpoint_seq
                and chain.hex()[:CHECKPOINT_HEX] != against.chain
            ):
                broken = Break(
                    position,
                    "rewritten",
                    Word(
                        N_(
                            "event #%(seq)s at position %(position)s differs from the checkpoint: "
                            "the log was rewritten up to here"
                        ),
                        seq=seq,
                        position=position,
                    ),
                )
                break
            prev, expected, head_position = chain, expected + 1, position
    result.first_break = broken
    result.events = rows_seen
    result.verified = result.head_seq = expected - 1
    result.head_position, result.head_chain = head_position, prev
    if broken is None and against is not None and result.head_seq < against.seq:
        result.first_break = Break(
            head_position + 1,
            "cut off",
            Word(
                N_(
                    "the log ends at event #%(head)s but the checkpoint covers #%(covered)s: "
                    "%(missing)s event(s) were cut off the end"
                ),
                head=result.head_seq,
                covered=against.seq,
                missing=against.seq - result.head_seq,
            ),
        )
    return result


def _sequence_break(
    previous: int,
    position: int,
    seq: int,
    chain: bytes,
    expected: int,
    locate_seq: Callable[[int], list[tuple[int, bytes]]],
) -> Break:
    """Explain a row whose sequence number is not the next one."""
    if not isinstance(seq, int) or seq < 1:
        return Break(
            position,
            "altered",
            Word(
                N_("the row at position %(position)s has no valid sequence number"),
                position=position,
            ),
        )
    if seq > expected:
        moved = [p for p, _ in locate_seq(expected) if p > position]
        if moved:
            return Break(
                position,
                "reordered",
                Word(
                    N_(
                        "position %(position)s holds event #%(seq)s where #%(expected)s belongs; "
                        "#%(expected)s was moved to position %(moved)s"
                    ),
                    position=position,
                    seq=seq,
                    expected=expected,
                    moved=moved[0],
                ),
            )
        return Break(
            previous + 1,
            "deleted",
            Word(
                N_(
                    "event #%(expected)s is missing after position %(previous)s: the log jumps "
                    "from #%(last)s to #%(seq)s (at position %(position)s)"
                ),
                expected=expected,
                previous=previous,
                last=expected - 1,
                seq=seq,
                position=position,
            ),
        )
    earlier = [(p, c) for p, c in locate_seq(seq) if p < position]
    if earlier:
        first, first_chain = earlier[0]
        if first_chain == chain:  # a byte-for-byte copy of an event already on the chain
            return Break(
                position,
                "inserted",
                Word(
                    N_(
                        "position %(position)s holds a copy of event #%(seq)s (the original is "
                        "at position %(first)s): it was inserted"
                    ),
                    position=position,
                    seq=seq,
                    first=first,
                ),
            )
        return Break(
            first,
            "inserted",
            Word(
                N_(
                    "event #%(seq)s appears twice, at positions %(first)s and %(position)s: an "
                    "event was inserted"
                ),
                seq=seq,
                first=first,
                position=position,
            ),
        )
    return Break(
        position,
        "reordered",
        Word(
            N_("position %(position)s holds event #%(seq)s after #%(last)s: events were reordered"),
            position=position,
            seq=seq,
            last=expected - 1,
        ),
    )
