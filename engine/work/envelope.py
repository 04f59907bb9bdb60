"""The envelope of every stored fact: who caused it, under which request key, when, and the
fingerprint of the request behind that key.

Made only by the unit of work (``UnitOfWork.authorise`` for an operator's command,
``for_dispatcher`` and ``for_link_holder``), and taken by every aggregate command that records
an event (its ``envelope`` parameter), which spreads it into the event (``**envelope``): its
keys are exactly the envelope fields of ``events.base.Fact`` and ``Started``, so the stored
events are the same as when these were spelled out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: The envelope fields of every event, in their order.
FIELDS = ("actor", "request_key", "timestamp", "request_fingerprint")


@dataclass(frozen=True)
class Envelope(Mapping[str, Any]):
    """Who, under which request key, when (aware UTC) and the request's fingerprint."""

    actor: str
    request_key: str | None
    timestamp: datetime
    request_fingerprint: str | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)
