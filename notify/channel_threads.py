"""Channel plugins' ``send`` run on worker threads, waited for with a timeout.

A channel that does not answer must not hold the dispatcher: each ``send`` runs on a daemon
thread of its own and the dispatcher waits for it at most the channel's send timeout
(``[channels.NAME] send_timeout_seconds``, else ``[notify] send_timeout_seconds``, default
``DEFAULT_SEND_TIMEOUT``), renewing its lease while it waits. A send that does not answer in
time is left running — a thread cannot be stopped — and its channel counts as **stuck** until
it returns: later messages to it are not handed to it meanwhile (``Busy``), so they cannot
pile up behind it, while the other channels go on. What a timed-out send answers late is
ignored: its message was recorded as a failed attempt, and the retry carries the same
idempotency key, so a receiver drops the duplicate. Daemon threads never keep the process
alive when it exits.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from between.engine.errors import InvalidInput

#: Seconds a channel's ``send`` may take when its configuration does not say.
DEFAULT_SEND_TIMEOUT = 60.0
#: The longest send timeout a configuration may set.
MAX_SEND_TIMEOUT = 3600.0
#: How often the dispatcher looks up (and renews its lease) while it waits for a send.
STEP = 0.25


@dataclass(frozen=True)
class TimedOut:
    """The send did not answer within ``timeout`` seconds."""

    timeout: float


@dataclass(frozen=True)
class Busy:
    """An earlier send on the channel has not answered for ``waited`` seconds."""

    waited: float


@dataclass(frozen=True)
class Raised:
    """The send raised ``error``."""

    error: BaseException


class _Call:
    """One ``send`` on its own daemon thread."""

    def __init__(self, channel: str, send: Callable[[], Any]) -> None:
        self.send = send
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"send-{channel}")
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.send()
        except BaseException as e:  # anything a plugin raises is its fault, reported as such
            self.error = e


class ChannelThreads:
    """Runs one ``send`` at a time per channel, each under its timeout."""

    def __init__(self, tick: Callable[[], None] = lambda: None) -> None:
        self.tick = tick  # called while waiting: renews the lease, may raise to stop
        self.stuck: dict[str, _Call] = {}

    def waiting(self, channel: str) -> float | None:
        """Seconds an earlier send on ``channel`` has gone unanswered (None: it is free)."""
        earlier = self.stuck.get(channel)
        if earlier is None:
            return None
        if not earlier.thread.is_alive():
            del self.stuck[channel]  # it answered at last: the channel is free again
            return None
        return time.monotonic() - earlier.started

    def call(self, channel: str, send: Callable[[], Any], timeout: float) -> Any:
        """``send()``'s result, or ``TimedOut``, ``Busy`` or ``Raised``."""
        waited = self.waiting(channel)
        if waited is not None:
            return Busy(waited)
        call = _Call(channel, send)
        deadline = call.started + timeout
        try:
            while call.thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stuck[channel] = call
                    return TimedOut(timeout)
                call.thread.join(min(left, STEP))
                if call.thread.is_alive():
                    self.tick()
        finally:
            if call.thread.is_alive():  # left early (lease lost, Ctrl-C): still stuck
                self.stuck[channel] = call
        return Raised(call.error) if call.error is not None else call.result


def send_timeout(value: Any, where: str) -> float:
    """``value`` as a send timeout in seconds; ``InvalidInput`` naming the setting (``where``)
    when it is not a number of seconds above 0 and up to ``MAX_SEND_TIMEOUT``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 < seconds <= MAX_SEND_TIMEOUT:
        raise InvalidInput(
            "%(where)s = %(value)r must be a number of seconds above 0 and up to %(limit)s",
            where=where,
            value=value,
            limit=f"{MAX_SEND_TIMEOUT:g}",
        )
    return seconds
