"""One homework's page: what to do and why, the person's progress, the entry form (with a
refused entry's messages beside each field and summarised at the top), the client's voice
(notes to the therapist; agreeing to a proposal) and past entries — in the reader's language
(``between.language``), days and times in the client's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from between.engine.reading.clock_zones import zone_of
from between.language import current, ngettext
from between.language import gettext as _
from between.portal.context import N_
from between.portal.field_messages import about
from between.portal.forms import entry_lines, error_target, widgets
from between.portal.progress import charts, week_line
from between.portal.security import new_token

#: The status a person reads (the key stays in the page's CSS class).
STATUS = {
    "agreed": "open",
    "declined": "declined",
    "cancelled": "cancelled",
    "closed": "finished",
    "proposed": "suggested",
}
STATUS_WORDS = {
    "open": N_("open"),
    "declined": N_("declined"),
    "cancelled": N_("cancelled"),
    "finished": N_("finished"),
    "suggested": N_("suggested"),
}
#: Where a person may still write to the therapist about a homework.
VOICE_STATUSES = ("proposed", "agreed")


def status_of(item: dict) -> str:
    if item.get("proposed"):
        return "suggested"
    return STATUS.get(item["status"], item["status"])


def status_words(status: str) -> str:
    """``status_of``'s key as the reader reads it."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def day(iso: Any, today: date | None = None) -> str:
    """A calendar day in full, in the reader's language ("Tuesday, 8 December 2026")."""
    try:
        when = date.fromisoformat(str(iso)[:10])
    except (TypeError, ValueError):
        return str(iso)
    return current().day(when)


def due_line(item: dict, today: date) -> str:
    """When it is due, said kindly when that has passed."""
    if not item.get("due"):
        return ""
    shown = day(item["due"], today)
    try:
        due = date.fromisoformat(str(item["due"])[:10])
    except ValueError:
        return _("Due %(day)s", day=shown)
    if due < today and item["accepts_entries"]:
        return _("This was due on %(day)s. You can still add entries.", day=shown)
    if due == today and item["accepts_entries"]:
        return _("Due today")
    return _("Due %(day)s", day=shown)


def progress(item: dict, is_client: bool) -> str:
    """The client's progress ("3 of 5 entries", everyone's entries); for a collaborator,
    what is theirs: how many entries they added."""
    if is_client:
        return ngettext(
            "%(done)s of %(n)s entry",
            "%(done)s of %(n)s entries",
            item["expected_entries"],
            done=item["entries_done"],
        )
    added = len(item["entries"])  # the link's person's own (see ``portal_item``)
    if not added:
        return _("You have not added any entries yet")
    return ngettext("You have added %(n)s entry", "You have added %(n)s entries", added)


def with_template_words(
    items: list[dict], words: Callable[[str | None, str | None], tuple[str, str] | None] | None
) -> list[dict]:
    """``items``, each with its template's own ``template_title`` and ``template_summary``
    when it was assigned from a template whose recorded version is the library's."""
    if words is None:
        return items
    for item in items:
        found = words(item.get("template"), item.get("template_version"))
        if found:
            item["template_title"], item["template_summary"] = found
    return items


def heading(item: dict) -> tuple[str, str]:
    """The page's heading and the line under it, in the reader's language: a template's own
    title and summary when the homework came from one, else the task type's title."""
    title = item.get("template_title") or item["title"]
    summary = item.get("template_summary") or ""
    return _(title), (_(summary) if summary else "")


def recorded(text: str | None) -> str:
    """A homework's recorded instructions or rationale in the reader's language: a starter
    template's text is looked up by its English and comes back translated; a therapist's own
    words match no entry and come back as written."""
    return _(text) if text else ""


def local_day(now: datetime, zone: str | None) -> date:
    """Today in the client's zone (the server's when none is known)."""
    return now.astimezone(zone_of(zone)).date()


def when(iso: str, zone: str | None) -> str:
    """A stored time as the client's local day and time, labelled with their zone."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    if zone:
        return current().moment(moment, zone)
    local, words = moment.astimezone(), current()  # no zone known: the server's own
    return f"{words.day(local.date())}, {words.clock(local.time())} ({local:%Z})"


def page(
    homework: Any,
    item: dict,
    grant: Any,
    notice: str = "",
    failed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``homework.html`` shows of ``item`` (``failed``: a refused entry, its typed values,
    messages by field, messages for the top, and the time's message)."""
    failed = failed or {}
    now = homework.now()
    form_id = f"f-{item['id']}"
    title, summary = heading(item)
    zone = item.get("timezone")
    status = status_of(item)
    card = {
        "id": item["id"],
        "title": title,
        "summary": summary,
        "instructions": recorded(item["instructions"]),
        "rationale": recorded(item["rationale"]),
        "due": due_line(item, local_day(now, zone)),
        "status": status,
        "status_words": status_words(status),
        "progress": progress(item, grant.is_client),
        "week": week_line(item, now, grant.is_client) if item["accepts_entries"] else "",
        "charts": charts(homework, item),
        "accepts": item["accepts_entries"],
        "proposed": bool(item.get("proposed")),
        "notice": notice,
        "top": failed.get("top", []),
        "form_id": form_id,
        "form_key": new_token(),
        "occurred": failed.get("values", {}).get("occurred_at", ""),
        "when_error": failed.get("when", ""),
        "widgets": widgets(item["schema"], form_id, failed.get("values"), failed.get("errors")),
        "entries": [
            {
                "when": when(e["occurred_at"], zone),
                "by": _("you") if e["by"] == grant.person else e["by"],
                "lines": entry_lines(item["schema"], e["fields"], zone),
            }
            for e in reversed(item["entries"])
        ],
        # The client's voice: each form its own idempotency key (never the entry form's).
        "voice": {
            "id": item["id"],
            "form_keys": {name: new_token() for name in ("note", "agree", "change", "decline")},
        },
        "may_note": item["status"] in VOICE_STATUSES,
        "may_answer": bool(item.get("proposed")) and grant.is_client,
        "notes": [{**n, "when": when(n["at"], zone)} for n in item.get("notes", [])],
    }
    card["error_summary"] = error_summary(card) if failed else None
    return card


def error_summary(card: dict) -> dict[str, Any] | None:
    """The error summary of a refused entry: a link to each problem, in the page's order,
    each field's naming the question it is about."""
    anchor = f"#{card['form_id']}-new" if card["accepts"] else f"#hw-{card['id']}"
    problems = [(anchor, text) for text in card["top"]]  # above the form,
    problems += [
        (f"#{error_target(w)}", about(w.label, w.error)) for w in card["widgets"] if w.error
    ]
    if card["when_error"]:  # the fields, and "When did it happen?" last
        when = about(_("When did it happen?"), card["when_error"])
        problems.append((f"#{card['form_id']}-when-field", when))
    return {"problems": problems, "kept": card["accepts"]} if problems else None
