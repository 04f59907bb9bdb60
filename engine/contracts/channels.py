"""The notification-channel contract: a message in, a delivery outcome out.

A channel is any object with a ``name``, the contact detail it sends to (``address_key``:
``"email"``, ``"webhook"``… or None when it needs none) and ``send(message, settings)``
returning a ``Delivery``. It reads its settings with ``settings.channel("NAME")``: the
``[channels.NAME]`` table of the clinic's configuration file, overridden by environment
variables ``BETWEEN_CHANNEL_NAME_KEY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

DELIVERED = "delivered"
RETRYABLE = "retryable"
PERMANENT = "permanent"


@dataclass(frozen=True)
class Message:
    """What one person is told, on one channel. ``key`` is the notification's idempotency key:
    the same on every attempt, so receivers can drop duplicates."""

    key: str
    kind: str
    role: str
    recipient: str
    channel: str
    address: str
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """How an attempt went: ``delivered``, ``retryable`` (try later) or ``permanent``."""

    outcome: str
    detail: str = ""

    OUTCOMES: ClassVar[tuple[str, ...]] = (DELIVERED, RETRYABLE, PERMANENT)

    def __post_init__(self) -> None:
        if self.outcome not in self.OUTCOMES:
            raise ValueError(
                f"delivery outcome must be one of {self.OUTCOMES}, not {self.outcome!r}"
            )


class Channel(Protocol):
    """What a notification channel plugin provides."""

    name: str
    address_key: str | None

    def send(self, message: Message, settings: Any) -> Delivery: ...
