"""What the portal's requests share: its settings, the store, the rate limit, the write locks,
and the plain page (or JSON) that answers a refusal or a fault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from flask import Response, current_app, jsonify, render_template, request

from between.language import gettext as _
from between.portal.config import PortalConfig
from between.portal.security import RateLimiter
from between.portal.stores import WriteLocks

if TYPE_CHECKING:
    from uuid import UUID

    from between.engine.aggregates.link_tokens import Grant
    from between.engine.hooks.loading import Plugins
    from between.engine.reading.clock_zones import ClinicTime
    from between.engine.work.unit import Outcome

EXTENSION = "between.portal"


def N_(message: str) -> str:
    """``message`` as it is: marked for the catalogs, translated where it is shown."""
    return message


#: What a visitor reads for each error status (nothing personal, nothing technical); in the
#: reader's language when shown (``problem``); the API answers in English.
PROBLEMS = {
    400: N_("The form could not be read. Go back, reload the page and try again."),
    403: N_("This page cannot be used from here. Open your personal link again."),
    404: N_("There is nothing here."),
    405: N_("There is nothing here."),
    413: N_("That was too much to send at once. Shorten the longest answers and try again."),
    429: N_("Too many requests in a short time. Wait a minute, then try again."),
    500: N_("Something went wrong on our side; nothing was recorded. Try again later."),
    503: N_("The homework service is busy or unavailable; nothing was recorded. Try again soon."),
}


class PortalHomework(Protocol):
    """What the portal asks of the store's application (``engine.work.links``): a link's
    grant, the homework it may see, checking and recording entries, notes and answers to a
    proposal (``engine.work.client_voice``); the plugins, whose charts show the client their
    progress; and the client's (or the clinic's) language."""

    @property
    def plugins(self) -> Plugins: ...  # the task types' charts (``portal.progress``)
    @property
    def clinic(self) -> ClinicTime: ...  # the clinic's default language (``[clinic]``)
    def now(self) -> datetime: ...
    def grant_for(self, token: str) -> Grant | None: ...
    def client_preferences(self, client: UUID | str | None) -> dict[str, str | None]: ...
    def portal_homework(self, grant: Grant, *, proposals: bool = False) -> list[dict]: ...
    def send_note_as(
        self, grant: Grant, assignment_id: str, kind: str, text: str | None = None, *,
        request_key: str, via: str = "portal",
    ) -> Outcome: ...  # fmt: skip
    def agree_as(
        self, grant: Grant, assignment_id: str, confidence: int | None, obstacles: str = "", *,
        request_key: str,
    ) -> Outcome: ...  # fmt: skip
    def decline_as(
        self, grant: Grant, assignment_id: str, reason: str, *, request_key: str
    ) -> Outcome: ...
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
    a lock per homework that its entries take turns on, and the library's templates' words
    (``stores.TemplateWords``; None: the task types' titles only)."""

    config: PortalConfig
    homework: Callable[[], PortalHomework]
    limiter: RateLimiter
    writing: WriteLocks
    template_words: Callable[[str | None, str | None], tuple[str, str] | None] | None = None


def portal() -> Portal:
    """The running portal (inside a request)."""
    return current_app.extensions[EXTENSION]


def problem(status: int, message: str | None = None) -> tuple[str, int] | tuple[Response, int]:
    """A plain error page (JSON under /api/) for ``status``."""
    text = message or PROBLEMS.get(status, PROBLEMS[500])
    if request.path.startswith("/api/"):
        return jsonify({"error": text}), status
    if not message:
        text = _(text)
    return render_template("message.html", heading=_("Sorry"), message=text), status
