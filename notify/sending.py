"""Sending queued notifications through the channel plugins, and recording every outcome.

Just before each attempt the message is checked again (``Recipients.check``): it is
cancelled if it may no longer be sent, held while its channel is not loaded, and otherwise
sent to the address on record now. A channel plugin that raises, or returns anything but a
``Delivery``, costs that one message a failed attempt naming the plugin (retried with
back-off like any other failure) and nothing else: the other messages are sent.

**Personal links in messages.** When a portal URL is configured (``[portal] url``), the
messages in ``messages.LINKED`` (homework agreed, and the reminders) carry the recipient's
own link. A token is stored only as a hash, so no earlier link can be put in a message: a
fresh one is issued for each attempt, right after the check above (so only on a channel the
person consented to, at the address on record now), as a ``LinkIssued`` event by the
dispatcher's actor, lasting ``[portal] link_days``. Its URL goes only into the text handed to
the channel — never into the subject, the message's ``data``, or any recorded event (the
attempt records the outcome, not the text; a delivery detail that quotes the token has it
replaced by ``[link]``). An attempt that was not delivered revokes its
link (``LinkRevoked``): the retry carries a new one, so only delivered links stay live.

**Messages about open homework.** Homework agreed, due soon and overdue speak of homework
that is still to be done: one whose homework was closed, cancelled or sent back to proposal
(or, for a reminder, has all its entries or a new due date) before it went is cancelled with
the reason (``NotificationCancelled``) — never sent, and no link is issued for it.

**A channel that does not answer** (``notify.channel_threads``): each ``send`` runs on a
thread of its own, waited for at most the channel's send timeout; one that does not answer
in time costs its message a failed attempt naming the plugin (retried by the usual rules),
and while it is still running its channel's other messages are not handed to it (a failed
attempt each, saying so) — the other channels go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from between.engine.aggregates.assignments import Assignment
from between.engine.aggregates.clients import Client
from between.engine.aggregates.link_tokens import link_days, link_url, portal_url
from between.engine.aggregates.notifications import Notification
from between.engine.contracts.channels import DELIVERED, RETRYABLE, Delivery, Message
from between.engine.errors import BetweenError
from between.engine.reading.clock_zones import ClinicTime
from between.notify.channel_threads import (
    DEFAULT_SEND_TIMEOUT,
    Busy,
    ChannelThreads,
    Raised,
    TimedOut,
    send_timeout,
)
from between.notify.hours import wait_until
from between.notify.messages import LINKED
from between.notify.recipients import Recipients
from between.notify.rendering import Renderer

#: Kinds of message that speak of homework still to be done (agreed, not yet ended).
ABOUT_OPEN_HOMEWORK = ("agreed", "due-soon", "overdue")
REMINDERS = ("due-soon", "overdue")

if TYPE_CHECKING:
    from between.engine.app import Homework
    from between.engine.settings import Settings
    from between.engine.work.envelope import Envelope


@dataclass
class Pass:
    """What one run of the dispatcher did."""

    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    cancelled: int = 0


class Sender:
    """Attempts the notifications that are due, and those held for a channel now loaded."""

    def __init__(
        self,
        app: Homework,
        settings: Settings,
        recipients: Recipients,
        actor: str,
        max_attempts: int,
        backoff: float,
        progress: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.work = app.work
        self.settings = settings
        self.recipients = recipients
        self.renderer = Renderer(app)
        self.clinic = ClinicTime.from_settings(settings)
        self.actor = actor
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.channels: dict[str, Any] = app.plugins.channels
        self.owners: dict[str, str] = getattr(app.plugins, "channel_owners", None) or {}
        self.portal = portal_url(settings)
        self.link_days = link_days(settings)
        self.progress = progress  # renews the dispatcher's lease; raises when it is lost
        self.threads = ChannelThreads(progress)
        self.default_timeout = settings.section("notify").get(
            "send_timeout_seconds", DEFAULT_SEND_TIMEOUT
        )
        self.timeouts: dict[str, float] = {}

    def deliver(self, done: Pass, batch: int = 500) -> None:
        now = self.app.now()
        with self.app.reading() as c:
            held = [
                UUID(r["id"])
                for r in self.app.readmodel.notifications(c, "held")
                if r["channel"] in self.channels
            ]
            due = self.app.readmodel.due_notifications(c, now.isoformat(), batch)
        for notification_id in [*held, *due]:
            n = self.work.load(Notification, notification_id)
            if n is not None and n.status in ("pending", "held"):
                self.progress()  # a dispatcher that lost its lease sends nothing more
                self._handle(n, now, done)

    def _handle(self, n: Notification, now: datetime, done: Pass) -> None:
        client = self.work.load(Client, n.client_id)
        assignment = self.work.load(Assignment, n.assignment_id) if n.assignment_id else None
        verdict = self.recipients.check(n, client, assignment)
        if verdict.cancel:
            n.cancel(verdict.cancel, self._envelope())
            if self._saved(n):
                done.cancelled += 1
            return
        if verdict.hold:
            if n.status != "held":
                n.hold(verdict.hold, self._envelope())
                if self._saved(n):
                    done.held += 1
            return
        assert assignment is not None and client is not None  # else check() cancelled it
        moot = no_longer_open(n.row, assignment.row)
        if moot:
            n.cancel(moot, self._envelope())
            if self._saved(n):
                done.cancelled += 1
            return
        wait = wait_until(n.row, client, self.clinic, now)  # the client's hours (notify.hours)
        if wait is not None:
            n.defer(*wait, self._envelope())
            if self._saved(n):
                done.held += 1
            return
        busy = self._busy(n.row["channel"])
        link = None if busy else self._link(n, client)
        url = link_url(self.portal, link[1]) if link and self.portal else None
        message, notes = self.renderer.message(n, assignment, verdict.address, url)
        delivery = busy or self._send(n.row["channel"], message, link[1] if link else None)
        if link and delivery.outcome != DELIVERED:
            notes.append(self._withdraw(client, link[0]))
        if n.address and verdict.address != n.address:
            notes.insert(0, "sent to the address on record now (changed since it was queued)")
        attempt = n.row["attempts"] + 1
        retry_at = None
        if delivery.outcome == RETRYABLE and attempt < self.max_attempts:
            retry_at = now + timedelta(seconds=self.backoff * 2 ** (attempt - 1))
        detail = "; ".join(d for d in (str(delivery.detail), *notes) if d)
        if link:  # a channel or plugin that quotes the text must not get the token recorded
            detail = detail.replace(link[1], "[link]")
        n.attempted(delivery.outcome, detail, retry_at, self._envelope())
        if not self._saved(n):
            return
        if delivery.outcome == DELIVERED:
            done.sent += 1
        elif retry_at is not None:
            done.retrying += 1
        else:
            done.failed += 1

    def _link(self, n: Notification, client: Client) -> tuple[UUID, str] | None:
        """A fresh link for the message's recipient, if the message carries one."""
        if self.portal is None or (n.row["kind"], n.row["role"]) not in LINKED:
            return None
        return self.app.link_for_message(client.id, n.person, self.link_days, self.actor)

    def _withdraw(self, client: Client, link_id: UUID) -> str:
        """Revoke the link of a message that was not delivered; a note for the attempt."""
        try:
            self.app.withdraw_link(client.id, link_id, "its message was not delivered", self.actor)
        except BetweenError:
            return "the link sent with it could not be revoked now; it expires on its own"
        return "the link sent with it was revoked"

    def _blame(self, name: str) -> str:
        channel = self.channels[name]
        return f"channel {name!r} (plugin {self.owners.get(name) or _module(channel)})"

    def _busy(self, name: str) -> Delivery | None:
        """A failed attempt, without calling the channel, while an earlier send on it has
        not answered (None: it is free)."""
        waited = self.threads.waiting(name)
        if waited is None:
            return None
        return Delivery(
            RETRYABLE,
            f"{self._blame(name)} has not answered an earlier message for {waited:.0f} s; "
            "not handed this one",
        )

    def _send(self, name: str, message: Message, token: str | None = None) -> Delivery:
        """The channel's answer; a fault of its plugin — raising, answering something else
        than a ``Delivery``, or not answering in time — becomes a retryable failure naming it."""
        channel, blame = self.channels[name], self._blame(name)
        timeout = self._timeout(name)
        delivery = self.threads.call(name, lambda: channel.send(message, self.settings), timeout)
        if isinstance(delivery, TimedOut):
            return Delivery(RETRYABLE, f"{blame} did not answer within {timeout:g} s")
        if isinstance(delivery, Busy):  # (``_busy`` was asked first, so only as a safeguard)
            return self._busy(name) or Delivery(RETRYABLE, f"{blame} is busy")
        if isinstance(delivery, Raised):
            e = delivery.error
            said = str(e).replace(token, "[link]") if token else str(e)
            text = " ".join(said.split())[:300]
            return Delivery(RETRYABLE, f"{blame} raised {type(e).__name__}: {text}")
        if not isinstance(delivery, Delivery):
            return Delivery(
                RETRYABLE, f"{blame} returned {type(delivery).__name__}, not a Delivery"
            )
        return delivery

    def check_timeouts(self) -> None:
        """Read every loaded channel's send timeout now (``InvalidInput`` if one is wrong)."""
        for name in self.channels:
            self._timeout(name)

    def _timeout(self, name: str) -> float:
        if name not in self.timeouts:
            self.timeouts[name] = self.send_timeout(name)
        return self.timeouts[name]

    def send_timeout(self, name: str) -> float:
        """The channel's send timeout, from its settings or ``[notify]``'s (or the default)."""
        conf = self.settings.channel(name)
        if "send_timeout_seconds" in conf:
            var = f"BETWEEN_CHANNEL_{name.upper().replace('-', '_')}_SEND_TIMEOUT_SECONDS"
            where = (
                var if var in self.settings.environ else f"[channels.{name}] send_timeout_seconds"
            )
            return send_timeout(conf["send_timeout_seconds"], where)
        return send_timeout(self.default_timeout, "[notify] send_timeout_seconds")

    def _saved(self, n: Notification) -> bool:
        try:
            self.work.save(n)
        except IntegrityError:
            return False  # recorded meanwhile by someone else (e.g. a retry requested)
        return True

    def _envelope(self) -> Envelope:
        return self.work.for_dispatcher(self.actor)


def _module(channel: Any) -> str:
    return type(channel).__module__


def no_longer_open(notification: dict, assignment: dict) -> str | None:
    """Why a message about open homework may no longer be sent (None: it may)."""
    kind, status = notification["kind"], assignment["status"]
    if kind not in ABOUT_OPEN_HOMEWORK:
        return None
    if status != "agreed":
        return f"the homework is {status} now (the message was about agreed homework)"
    if kind in REMINDERS:
        if assignment["entries"] >= assignment["expected_entries"]:
            return "every entry of the homework is recorded now"
        cause = str(notification.get("cause") or "")
        if cause.startswith("due ") and cause.removeprefix("due ") != assignment["due"]:
            return f"the homework's due date is {assignment['due']} now"
    return None
