"""What the portal's requests share: its settings, the store, the rate limit, the write locks,
and the plain page (or JSON) that answers a refusal or a fault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from flask import Response, current_app, jsonify, render_template, request

from between.portal.config import PortalConfig
from between.portal.security import RateLimiter
from between.portal.stores import WriteLocks

if TYPE_CHECKING:
    from between.engine.aggregates.link_tokens import Grant
    from between.engine.work.unit import Outcome

EXTENSION = "between.portal"

#: What a visitor reads for each error status (nothing personal, nothing technical).
PROBLEMS = {
    400: "The form could not be read. Go back, reload the page and try again.",
    403: "This page cannot be used from here. Open your personal link again.",
    404: "There is nothing here.",
    405: "There is nothing here.",
    413: "That was too much to send at once. Shorten the longest answers and try again.",
    429: "Too many requests in a short time. Wait a minute, then try again.",
    500: "Something went wrong on our side; nothing was recorded. Try again later.",
    503: "The homework service is busy or unavailable; nothing was recorded. Try again soon.",
}


class PortalHomework(Protocol):
    """What the portal asks of the store's application (``engine.work.links``): a link's
    grant, the homework it may see, and checking and recording entries."""

    def now(self) -> datetime: ...
    def grant_for(self, token: str) -> Grant | None: ...
    def portal_homework(self, grant: Grant) -> list[dict]: ...
    def check_entry_as(self, grant: Grant, assignment_id: str, fields: dict) -> None: ...
    def submit_as(
        self,
        grant: Grant,
        assignment_id: str,
        fields: dict,
        *,
        request_key: str,
        occurred_at: str | None = None,
    ) -> Outcome: ...
    def submit_observed(
        self,
        ref: str,
        fields: dict,
        *,
        by: str = "client",
        actor: str,
        request_key: str | None = None,
        via: str = "api",
    ) -> Outcome: ...


@dataclass(frozen=True)
class Portal:
    """What the requests share: the settings, the store (per thread), the rate limit, and
    a lock per homework that its entries take turns on."""

    config: PortalConfig
    homework: Callable[[], PortalHomework]
    limiter: RateLimiter
    writing: WriteLocks


def portal() -> Portal:
    """The running portal (inside a request)."""
    return current_app.extensions[EXTENSION]


def problem(status: int, message: str | None = None) -> tuple[str, int] | tuple[Response, int]:
    """A plain error page (JSON under /api/) for ``status``."""
    text = message or PROBLEMS.get(status, PROBLEMS[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": text}), status
    return render_template("message.html", heading="Sorry", message=text), status
