"""The client's pages: opening a personal link, their homework, and recording an entry.

``GET /l/<token>`` checks the link, keeps it in a signed session cookie and redirects to ``/``,
so the token leaves the address bar (and the browser's history of visible addresses). Every
later request checks the link again: a link revoked or expired meanwhile stops working at once.
A form carries a CSRF token (the session's) and an idempotency key (new for each form shown),
so a double submit records one entry. Page titles and addresses hold no personal data.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, session

from between import Conflict, InvalidInput, NotFound, RuleViolation
from between.engine.aggregates.link_tokens import parse_token
from between.portal.context import portal, problem
from between.portal.forms import (
    WHEN_NAME,
    entry_lines,
    error_target,
    field_errors,
    local_time,
    read_fields,
    when_message,
    when_problem,
    widgets,
)
from between.portal.security import new_token, same

blueprint = Blueprint("pages", __name__)

GONE = "This link no longer works — ask your therapist for a new one."
NO_LINK = "To see your homework, open the personal link your therapist sent you."
BUSY = "This homework was being saved by someone else at the same moment. Save your entry again."
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
STATUS = {"agreed": "open", "declined": "declined", "cancelled": "cancelled", "closed": "closed"}


@blueprint.get("/l/<path:token>")
def open_link(token: str) -> Any:
    """Check a personal link; a valid one starts a session and redirects to ``/``."""
    homework = portal().homework()
    grant = homework.grant_for(token) if len(token) <= 200 else None
    session.clear()
    if grant is None:
        if not portal().limiter.allow(f"invalid-link:{request.remote_addr}"):
            return problem(429)
        return _plain(GONE, 403 if parse_token(token) else 404)  # token-shaped, or not at all
    if not portal().limiter.allow(str(grant.link_id)):
        return problem(429)
    session["link"] = token
    session["csrf"] = new_token()
    return redirect("/", 303)


@blueprint.get("/")
def home() -> Any:
    grant, refused = _grant()
    return refused or _page(grant)


@blueprint.post("/homework/<uuid:assignment>")
def record_entry(assignment: Any) -> Any:
    """Record one entry from a form; on a mistake, the form again with the messages."""
    grant, refused = _grant()
    refused = refused or _unsigned_form()
    if refused:
        return refused
    key, aid = request.form["form_key"], str(assignment)
    found = [h for h in portal().homework().portal_homework(grant) if h["id"] == aid]
    if not found:
        return problem(404)
    item = found[0]
    if not item["accepts_entries"]:
        return _page(grant, {"id": aid, "top": ["This homework takes no more entries."]}, 409)
    fields, unreadable = read_fields(item["schema"], request.form)
    occurred = request.form.get("occurred_at", "").strip() or None
    failed = {"id": aid, "values": request.form, "errors": {}, "top": []}
    failed["when"] = when_problem(occurred, portal().homework().now())
    if unreadable or failed["when"]:  # every problem at once: the task type's too
        problems = {**_refused_fields(grant, aid, fields), **unreadable}
        failed["errors"], failed["top"] = field_errors(item["schema"], problems)
        return _page(grant, failed, 422)
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
            failed["when"] = when_message(str(e), homework.now())
        elif not by_field:
            failed["top"] = [str(e)]
        return _page(grant, failed, 422)
    except Conflict:
        return _page(grant, {**failed, "top": [BUSY]}, 409)
    except (RuleViolation, NotFound) as e:
        return _page(grant, {**failed, "top": [str(e)]}, 409)
    session["recorded"] = [aid, bool(outcome.repeated)]
    return redirect(f"/#hw-{aid}", 303)


def _refused_fields(grant: Any, aid: str, fields: dict[str, Any]) -> dict[str, str]:
    """What the task type would say of ``fields`` (by field; ``""`` for the rest), unsaved."""
    try:
        portal().homework().check_entry_as(grant, aid, fields)
    except InvalidInput as e:
        return getattr(e, "fields", None) or {"": str(e)}
    except (RuleViolation, NotFound):  # the form's own problems come first; this, on retry
        pass
    return {}


def _grant() -> tuple[Any, Response | tuple[Any, int] | None]:
    """The session's live grant, or the page to answer instead (no link, gone, too many)."""
    token = session.get("link")
    if not token:
        return None, _plain(NO_LINK, 403)
    grant = portal().homework().grant_for(token)
    if grant is None:
        session.clear()
        return None, _plain(GONE, 403)
    if not portal().limiter.allow(str(grant.link_id)):
        return None, problem(429)
    return grant, None


def _unsigned_form() -> Any:
    """A refusal for a form without this session's CSRF token (400 when missing, 403 when
    wrong) or without a well-formed idempotency key (400); None for a good one."""
    given = request.form.get("csrf_token")
    if not given or not FORM_KEY.fullmatch(request.form.get("form_key", "")):
        return problem(400)
    return None if same(given, session.get("csrf")) else problem(403)


def _page(grant: Any, failed: dict[str, Any] | None = None, status: int = 200) -> Any:
    """The person's homework, with ``failed``'s form shown again with its messages, and a
    summary of them at the top of the page (focused as it loads: see ``home.html``)."""
    recorded = session.pop("recorded", None)
    cards = [
        _card(item, grant, recorded, failed) for item in portal().homework().portal_homework(grant)
    ]
    summary = next(
        (_summary(card) for card in cards if failed and card["id"] == failed["id"]), None
    )
    return render_template(
        "home.html",
        cards=cards,
        summary=summary,
        collaborator=not grant.is_client,
        csrf=session.get("csrf", ""),
    ), status


def _summary(card: dict) -> dict[str, Any] | None:
    """The error summary of a refused entry: which homework, and a link to each problem."""
    anchor = f"#{card['form_id']}-new" if card["accepts"] else f"#hw-{card['id']}"
    problems = [(anchor, text) for text in card["top"]]  # in the page's order: above the form,
    problems += [(f"#{error_target(w)}", w.error) for w in card["widgets"] if w.error]
    if card["when_error"]:  # the fields, and "When did it happen?" last
        problems.append((f"#{card['form_id']}-when-field", card["when_error"]))
    summary = {"title": card["title"], "problems": problems, "kept": card["accepts"]}
    return summary if problems else None


def _card(item: dict, grant: Any, recorded: Any, failed: dict[str, Any] | None) -> dict:
    """What the page shows of one homework."""
    mine = failed if failed and failed["id"] == item["id"] else {}
    form_id = f"f-{item['id']}"
    notice = ""
    if recorded and recorded[0] == item["id"]:
        notice = "This entry was already recorded." if recorded[1] else "Your entry was recorded."
    return {
        "id": item["id"],
        "title": item["title"],
        "instructions": item["instructions"],
        "rationale": item["rationale"],
        "due": _day(item["due"]),
        "status": STATUS.get(item["status"], item["status"]),
        "progress": _progress(item, grant),
        "accepts": item["accepts_entries"],
        "notice": notice,
        "top": mine.get("top", []),
        "form_id": form_id,
        "form_key": new_token(),
        "occurred": mine.get("values", {}).get("occurred_at", ""),
        "when_error": mine.get("when", ""),
        "widgets": widgets(item["schema"], form_id, mine.get("values"), mine.get("errors")),
        "entries": [
            {
                "when": local_time(e["occurred_at"]),
                "by": _who(e["by"], grant),
                "lines": entry_lines(item["schema"], e["fields"]),
            }
            for e in reversed(item["entries"])
        ],
    }


def _progress(item: dict, grant: Any) -> str:
    """The client's progress on the homework ("3 of 5 entries", everyone's entries); for a
    collaborator, what is theirs: how many entries they added."""
    if grant.is_client:
        return f"{item['entries_done']} of {item['expected_entries']} entries"
    added = len(item["entries"])  # the link's person's own (see ``portal_item``)
    if not added:
        return "You have not added any entries yet"
    return f"You have added {added} {'entry' if added == 1 else 'entries'}"


def _who(by: str, grant: Any) -> str:
    return "you" if by == grant.person else by


def _day(iso: str) -> str:
    try:
        day = date.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{day:%A} {day.day} {day:%B %Y}"


def _plain(message: str, status: int) -> tuple[str, int]:
    return render_template("message.html", heading="Homework", message=message), status
