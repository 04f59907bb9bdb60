"""Notifications as operators see them: listed by status, and a failed one queued again.

Deriving, queueing and sending them is the dispatcher's work (``notify.dispatcher``).
"""

from __future__ import annotations

from uuid import UUID

from between.engine import validate
from between.engine.aggregates.notifications import STATUSES, Notification
from between.engine.errors import NotFound
from between.engine.reading.full import Reading
from between.engine.work.unit import Outcome


class NotificationCommands(Reading):
    """Listing and retrying notifications. Composed into ``Homework``."""

    def notifications(self, status: str | None = None) -> list[dict]:
        """Notification rows (pending, held, sent, failed, cancelled), newest first."""
        if status:
            validate.choice("status", status, STATUSES)
        self.refresh()
        with self.reading() as c:
            rows = self.readmodel.notifications(c, status)
        return sorted(rows, key=lambda r: r["queued_at"], reverse=True)

    def retry_notification(self, ref: str, *, actor: str) -> Outcome:
        """Queue a failed notification again: the dispatcher's next pass attempts it (with the
        same idempotency key, after checking consent and the address again)."""
        envelope = self.work.authorise(actor, "notify")
        prefix = ref.strip().lower().replace("-", "")
        matches = [
            r for r in self.notifications("failed") if r["id"].replace("-", "").startswith(prefix)
        ]
        if len(matches) != 1:
            raise NotFound(
                "%(count)s failed notifications start with %(ref)r; give one id",
                count=len(matches),
                ref=ref,
            )
        return self.work.change(
            lambda: self.work.load(Notification, UUID(matches[0]["id"])),
            lambda n: n.retry(envelope),
        )
