"""Delivering notifications from the log, reliably.

One pass of the dispatcher (``run_once``), under the store's dispatcher lease:

1. **queue** (``notify.queuing``): follow the log from the dispatcher's tracked position and
   queue a ``Notification`` per person and channel for each event someone hears of, in small
   transactions that advance the position; then due-soon and overdue reminders by the clock;
2. **send** (``notify.sending``): check each due notification again — consent, observers,
   address (``notify.recipients``) — and cancel, hold or send it through its channel plugin,
   recording the outcome.

Exactly one dispatcher works a store at a time (``engine.storage.lease``): a second one waits
or stops.
The lease is renewed as the work progresses — between queuing transactions, between messages,
while waiting for a channel — so a dispatcher that hangs loses it and a standby takes over;
no channel can hold the dispatcher (each ``send`` runs under a timeout, ``notify.sending``).
A notification's id is derived from its cause, and is its idempotency key: re-deriving after a
crash finds it already queued; re-sending after a crash (sent but not yet recorded) carries the
same key; a notification recorded as delivered is never sent again. Failures are retried with
exponential back-off up to ``max_attempts``, then stay visible as failed until retried by hand.

Who hears what:

=================  =====================================================
client             homework agreed, due soon, overdue, reviewed
therapist          entries submitted, homework overdue, homework declined
collaborator       homework agreed and due soon — only when the assignment
                   asks for their observations
=================  =====================================================

Clients and collaborators hear only on channels they consented to (``client consent``);
therapists on the channels listed for them in the configuration file (``[therapists."NAME"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from between.engine.errors import BetweenError
from between.engine.reading.clock_zones import ClinicTime
from between.engine.settings import Settings
from between.engine.storage.kinds import lease_for
from between.engine.storage.lease import DEFAULT_LEASE_SECONDS, DispatcherBusy
from between.notify.queuing import NAMESPACE, TRACKING, Queuer, Work
from between.notify.recipients import Recipients
from between.notify.sending import Pass, Sender

if TYPE_CHECKING:
    from between.engine.app import Homework
    from between.engine.work.envelope import Envelope

__all__ = ["NAMESPACE", "TRACKING", "DeliveryFailed", "Dispatcher", "DispatcherBusy", "Pass"]

A = TypeVar("A")
EXIT_FAILED = 3


class DeliveryFailed(BetweenError):
    """Notifications failed for good (permanently, or out of attempts): exit code 3."""

    exit_code = EXIT_FAILED


class Dispatcher:
    """Queues and sends the notifications of one store."""

    def __init__(self, app: Homework, settings: Settings, actor: str | None = None) -> None:
        self.app = app
        self.settings = settings
        self.actor = actor or "between-notify"
        app.work.authorise(self.actor, "notify")  # read-only stores, unlisted actors stop here
        app.clinic = ClinicTime.from_settings(settings)  # the clients' days (reminders)
        conf = settings.section("notify")
        recipients = Recipients(settings, app.plugins.channels)
        self.queuer = Queuer(
            app, recipients, self.actor, timedelta(days=int(conf.get("due_soon_days", 1)))
        )
        self.lease = lease_for(app.store, float(conf.get("lease_seconds", DEFAULT_LEASE_SECONDS)))
        self.queuer.work = Progressing(self.queuer.work, self.lease.renew)
        self.sender = Sender(
            app,
            settings,
            recipients,
            self.actor,
            max_attempts=int(conf.get("max_attempts", 6)),
            backoff=float(conf.get("backoff_seconds", 60)),
            progress=self.lease.renew,
        )
        self.sender.check_timeouts()  # a wrong send timeout stops it before any work

    @contextmanager
    def leased(
        self, wait: bool = False, on_wait: Callable[[str], None] | None = None, poll: float = 1.0
    ) -> Iterator[None]:
        """Hold the store's dispatcher lease inside (taken here unless already held):
        wait for it, or raise ``DispatcherBusy`` when another dispatcher has it."""
        if self.lease.held:
            self.lease.check()
            yield
            return
        self.lease.acquire(wait, on_wait, poll)
        try:
            yield
        finally:
            self.lease.release()

    def run_once(self) -> Pass:
        """One pass: queue what is new, then send what is due (under the lease)."""
        with self.leased():
            done = Pass()
            done.queued = self.queuer.follow_log() + self.queuer.remind()
            self.sender.deliver(done)
            return done

    def pause(self, seconds: float) -> None:
        """Sleep between passes, renewing the lease meanwhile (``LeaseLost`` if it was lost)."""
        import time

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, self.lease.seconds / 5))
            self.lease.renew()

    def close(self) -> None:
        self.lease.release()


class Progressing:
    """The queuer's unit of work, renewing the lease at each transaction it writes."""

    def __init__(self, work: Work, renew: Callable[[], None]) -> None:
        self._work = work
        self._renew = renew

    def load(self, cls: type[A], aggregate_id: UUID) -> A | None:
        return self._work.load(cls, aggregate_id)

    def for_dispatcher(self, actor: str) -> Envelope:
        return self._work.for_dispatcher(actor)

    def write(self, *args: Any, **kwargs: Any) -> Any:
        self._renew()
        return self._work.write(*args, **kwargs)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        self._renew()
        return self._work.save(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)
