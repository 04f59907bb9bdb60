"""The client's pages: opening a personal link, their homework (``/``: one short card each,
``portal.home``), one homework's own page (``/homework/<id>``: ``portal.homework_page``), and
recording an entry there.

``GET /l/<token>`` checks the link, keeps it in a signed session cookie and redirects to ``/``,
so the token leaves the address bar (and the browser's history of visible addresses). Every
later request checks the link again: a link revoked or expired meanwhile stops working at once.
A form carries a CSRF token (the session's) and an idempotency key (new for each form shown),
so a double submit records one entry. Page titles and addresses hold no personal data.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session

from between import Conflict, InvalidInput, NotFound, RuleViolation
from between.engine.aggregates.link_tokens import parse_token
from between.language import gettext as _
from between.portal.context import portal, problem
from between.portal.field_messages import fallback, field_errors
from between.portal.forms import WHEN_NAME, in_zone, read_fields, when_message, when_problem
from between.portal.home import sections
from between.portal.homework_page import local_day, page, with_template_words
from between.portal.security import new_token
from between.portal.session_checks import gone, live_grant, plain, unsigned_form
from between.portal.voice import notice_for

blueprint = Blueprint("pages", __name__)


def busy() -> str:
    return _(
        "This homework was being saved by someone else at the same moment. Save your entry again."
    )


@blueprint.get("/l/<path:token>")
def open_link(token: str) -> Any:
    """Check a personal link; a valid one starts a session and redirects to ``/``."""
    homework = portal().homework()
    grant = homework.grant_for(token) if len(token) <= 200 else None
    session.clear()
    if grant is None:
        if not portal().limiter.allow(f"invalid-link:{request.remote_addr}"):
            return problem(429)
        return plain(gone(), 403 if parse_token(token) else 404)  # token-shaped, or not at all
    if not portal().limiter.allow(str(grant.link_id)):
        return problem(429)
    session["link"] = token
    session["csrf"] = new_token()
    return redirect("/", 303)


@blueprint.get("/")
def home() -> Any:
    """One short card per homework, each linking to its own page."""
    grant, refused = live_grant()
    if refused:
        return refused
    homework = portal().homework()
    items = homework.portal_homework(grant, proposals=portal().config.agreement)
    with_template_words(items, portal().template_words)
    today = local_day(homework.now(), items[0]["timezone"] if items else None)
    return render_template(
        "home.html",
        sections=sections(items, grant.is_client, today),
        collaborator=not grant.is_client,
    )


@blueprint.get("/homework/<uuid:assignment>")
def homework_page(assignment: Any) -> Any:
    """One homework: what to do, why, progress, the entry form, the client's voice (notes,
    and agreeing to a proposal) and past entries."""
    grant, refused = live_grant()
    if refused:
        return refused
    item = _item(grant, str(assignment))
    if item is None:
        return problem(404)
    recorded = session.pop("recorded", None)
    notice = notice_for(item["id"])
    if recorded and recorded[0] == item["id"]:
        repeated = recorded[1]
        notice = (
            _("This entry was already recorded.") if repeated else _("Your entry was recorded.")
        )
    return _page(grant, item, notice=notice)


@blueprint.post("/homework/<uuid:assignment>")
def record_entry(assignment: Any) -> Any:
    """Record one entry from a form; on a mistake, this homework's page again with the
    messages, what was typed kept."""
    grant, refused = live_grant()
    refused = refused or unsigned_form()
    if refused:
        return refused
    key, aid = request.form["form_key"], str(assignment)
    item = _item(grant, aid)
    if item is None:
        return problem(404)
    if not item["accepts_entries"]:
        ended = {"top": [_("This homework takes no more entries.")]}
        return _page(grant, item, failed=ended, status=409)
    zone = item.get("timezone")  # the client's, else the clinic's (None: the server's own)
    fields, unreadable = read_fields(item["schema"], request.form, zone)
    typed = request.form.get("occurred_at", "").strip() or None  # a datetime-local: no zone
    failed: dict[str, Any] = {"values": request.form, "errors": {}, "top": []}
    failed["when"] = when_problem(typed, portal().homework().now(), zone)
    occurred = in_zone(typed, zone)
    if unreadable or failed["when"]:  # every problem at once: the task type's too
        problems = {**_refused_fields(grant, aid, fields), **unreadable}
        failed["errors"], failed["top"] = field_errors(item["schema"], problems)
        return _page(grant, item, failed=failed, status=422)
    try:
        with portal().writing(aid):
            homework = portal().homework()
            outcome = homework.submit_as(
                grant, aid, fields, request_key=f"portal:{key}", occurred_at=occurred
            )
    except InvalidInput as e:
        by_field = getattr(e, "fields", None) or {}
        failed["errors"], failed["top"] = field_errors(item["schema"], by_field)
        if not by_field and str(e).startswith(WHEN_NAME):  # judged again as it was recorded
            failed["when"] = when_message(str(e), homework.now(), zone)
        elif not by_field:
            failed["top"] = [fallback(str(e), whole_entry=True)]
        return _page(grant, item, failed=failed, status=422)
    except Conflict:
        return _page(grant, item, failed={**failed, "top": [busy()]}, status=409)
    except (RuleViolation, NotFound) as e:
        return _page(grant, item, failed={**failed, "top": [str(e)]}, status=409)
    session["recorded"] = [aid, bool(outcome.repeated)]
    return redirect(f"/homework/{aid}", 303)


def _item(grant: Any, aid: str) -> dict | None:
    """The homework ``aid`` if this link's person may see it."""
    items = portal().homework().portal_homework(grant, proposals=portal().config.agreement)
    found = [h for h in items if h["id"] == aid]
    return with_template_words(found, portal().template_words)[0] if found else None


def _page(
    grant: Any,
    item: dict,
    *,
    notice: str = "",
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    """The homework's page, with ``failed``'s form shown again with its messages and a summary
    of them at the top (focused as it loads: see ``homework.html``)."""
    card = page(portal().homework(), item, grant, notice, failed)
    return render_template(
        "homework.html",
        card=card,
        summary=card["error_summary"],
        collaborator=not grant.is_client,
        csrf=session.get("csrf", ""),
        agreement=portal().config.agreement,
    ), status


def _refused_fields(grant: Any, aid: str, fields: dict[str, Any]) -> dict[str, str]:
    """What the task type would say of ``fields`` (by field; ``""`` for the rest), unsaved."""
    try:
        portal().homework().check_entry_as(grant, aid, fields)
    except InvalidInput as e:
        return getattr(e, "fields", None) or {"": str(e)}
    except (RuleViolation, NotFound):  # the form's own problems come first; this, on retry
        pass
    return {}
