"""The client's voice from a homework page: a note to the therapist, and an answer to a proposal.

``POST /homework/<id>/note`` (fields ``kind``, ``text``) sends "this is too hard", "I have a
question" or "something got in the way" — from the client, or a collaborator on homework they
observe. On homework proposed to the client, ``/agree`` (``confidence`` 0–10, ``obstacles``),
``/change`` (``text``: the change asked for; the homework stays proposed) and ``/decline``
(``reason``) record what ``between agree``/``decline`` would, as the client, via the portal —
only when the clinic allows it (``[portal] agreement``, default true; otherwise 404), and only
through the client's own link (a collaborator's gets 404). Every form carries the session's
CSRF token and an idempotency key of its own (``portal.session_checks``; the homework page makes
one per form). Words are in the reader's language (``N_`` marks, ``_`` when shown). Success
redirects (303) to
the homework's page, whose notice is ``notice_for(id)``; a mistake answers 422 with the form
again, what was typed kept, under an error summary (``voice_error.html``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session

from between import Conflict, InvalidInput, NotFound, RuleViolation
from between.language import gettext as _
from between.portal.context import N_, PortalHomework, portal, problem
from between.portal.homework_page import heading, with_template_words
from between.portal.security import new_token
from between.portal.session_checks import live_grant, plain, unsigned_form

blueprint = Blueprint("voice", __name__)

# What these pages say, marked (``N_``) for the catalogs and translated when shown (``_``).
BUSY = N_("Someone else was saving this homework at the same moment. Please send it again.")
ENDED = N_(
    "This homework has ended, so nothing more can be sent about it. "
    "Tell your therapist at your next session."
)
NOT_PROPOSED = N_("This homework is no longer waiting for your answer.")
CHANGED = N_(
    "Nothing was sent: this homework has just changed. Open it again to see where it stands."
)
#: What each refused field says, in plain words.
WORDS = {
    "kind": N_("Please choose what you want to tell your therapist."),
    "confidence": N_("Please choose a number from 0 to 10, or leave it empty."),
    "reason": N_("Please write why this is not right for you now, in fewer words."),
    "change": N_("Please write the change you would like, in fewer words."),
    "obstacles": N_("Please write what might get in the way in fewer words."),
}


#: What the homework's page says after each answer (see ``notice_for``).
NOTICES = {
    "note": N_("Your message was sent to your therapist."),
    "agree": N_("You agreed to this homework. Thank you."),
    "change": N_("Your therapist will see the change you asked for before this homework starts."),
    "decline": N_("You said no to this homework. Your therapist will see why."),
}
REPEATED = N_("This was already sent.")
#: The engine's plain words about a note's text (``engine.work.client_voice.checked_note``).
ENGINE_WORDS = (
    N_("Please write your question."),
    N_("Please write the change you would like."),
    N_("Please use plain text only."),
)


def notice_for(assignment_id: str) -> str:
    """The notice for the homework's page after a note or an answer to it (taken from the
    session once), or "" — for the page that ``/homework/<id>`` redirects to."""
    said = session.get("voice")
    if not said or said[0] != assignment_id:
        return ""
    session.pop("voice", None)
    return _(REPEATED) if said[2] else _(NOTICES[said[1]]) if said[1] in NOTICES else ""


def homework() -> PortalHomework:
    return portal().homework()


@blueprint.post("/homework/<uuid:assignment>/note")
def note(assignment: Any) -> Any:
    """A note to the therapist: too hard, a question, or what got in the way."""
    grant, item, refused = _checked(str(assignment), proposal=False)
    if refused:
        return refused
    kind, text = request.form.get("kind", ""), request.form.get("text", "")
    values = {"kind": kind, "text": text}
    return _record(
        item,
        "note",
        values,
        lambda h, key: h.send_note_as(grant, item["id"], kind, text, request_key=key),
    )


@blueprint.post("/homework/<uuid:assignment>/agree")
def agree(assignment: Any) -> Any:
    """The client agrees to homework proposed to them."""
    grant, item, refused = _checked(str(assignment), proposal=True)
    if refused:
        return refused
    given = request.form.get("confidence", "").strip()
    obstacles = request.form.get("obstacles", "")
    values = {"confidence": given, "obstacles": obstacles}
    confidence = int(given) if given.isdigit() and len(given) <= 2 else None
    if given and (confidence is None or confidence > 10):
        return _mistake(item, "agreement", values, {"confidence": _(WORDS["confidence"])})
    return _record(
        item,
        "agreement",
        values,
        lambda h, key: h.agree_as(grant, item["id"], confidence, obstacles, request_key=key),
    )


@blueprint.post("/homework/<uuid:assignment>/change")
def change(assignment: Any) -> Any:
    """The client asks for a change instead of agreeing (the homework stays proposed)."""
    grant, item, refused = _checked(str(assignment), proposal=True)
    if refused:
        return refused
    text = request.form.get("text", "")
    return _record(
        item,
        "agreement",
        {"change": text},
        lambda h, key: h.send_note_as(grant, item["id"], "change", text, request_key=key),
        rename={"text": "change"},
    )


@blueprint.post("/homework/<uuid:assignment>/decline")
def decline(assignment: Any) -> Any:
    """The client declines homework proposed to them, saying why."""
    grant, item, refused = _checked(str(assignment), proposal=True)
    if refused:
        return refused
    reason = request.form.get("reason", "")
    values = {"reason": reason}
    if not reason.strip():
        return _mistake(item, "agreement", values, {"reason": _(WORDS["reason"])})
    return _record(
        item,
        "agreement",
        values,
        lambda h, key: h.decline_as(grant, item["id"], reason, request_key=key),
    )


def _checked(aid: str, *, proposal: bool) -> tuple[Any, dict, Any]:
    """The grant and the homework as the person sees it, or the answer instead: the link and
    the form checked; 404 for homework not theirs — and, for an answer to a proposal, when
    the clinic does not allow it here, or the link is a collaborator's."""
    grant, refused = live_grant()
    refused = refused or unsigned_form()
    if refused:
        return None, {}, refused
    allowed = portal().config.agreement
    if proposal and (not allowed or not grant.is_client):
        return None, {}, problem(404)
    found = [h for h in homework().portal_homework(grant, proposals=allowed) if h["id"] == aid]
    if not found:
        return None, {}, problem(404)
    if proposal and not found[0].get("proposed"):
        return None, {}, plain(_(NOT_PROPOSED), 409)
    return grant, found[0], None


def _record(
    item: dict,
    form: str,
    values: dict[str, str],
    write: Any,
    rename: dict[str, str] | None = None,
) -> Any:
    """Record with ``write(homework, request_key)``; redirect to the homework, or answer
    with the form again (422: a field to correct; 409: refused, or busy)."""
    action = request.path.rsplit("/", 1)[1]
    key = f"portal:{action}:{request.form['form_key']}"
    try:
        with portal().writing(item["id"]):
            outcome = write(homework(), key)
    except InvalidInput as e:
        fields = getattr(e, "fields", None)  # the engine's plain words, by field
        if fields:
            named = {(rename or {}).get(k, k): _said(m, values) for k, m in fields.items()}
        else:
            name = _field_of(values)
            named = {name: _(WORDS[name]) if name in WORDS else str(e)}
        return _mistake(item, form, values, named)
    except Conflict:
        return _mistake(item, form, values, {"": _(BUSY)}, 409)
    except NotFound:
        return problem(404)
    except RuleViolation:  # ended, answered or changed meanwhile (or a form sent twice)
        ended = item["status"] not in ("proposed", "agreed")
        return plain(_(ENDED) if ended else _(CHANGED), 409)
    session["voice"] = [item["id"], action, bool(outcome.repeated)]
    return redirect(f"/homework/{item['id']}", 303)


def _said(message: str, values: dict[str, str]) -> str:
    """The engine's words about a field, in the reader's language."""
    if message.startswith("Please keep it to"):
        from between.engine.work.client_voice import NOTE_LIMIT

        typed = values.get("text", values.get("change", values.get("reason", "")))
        return _(
            "Please keep it to %(limit)s characters (this is %(count)s).",
            limit=NOTE_LIMIT,
            count=len(typed.strip()),
        )
    return _(message)


def _field_of(values: dict[str, str]) -> str:
    """The field a refusal without fields is about: the form's free text."""
    return next(iter(k for k in values if k != "confidence"), "")


def _mistake(
    item: dict, form: str, values: dict[str, str], errors: dict[str, str], status: int = 422
) -> Any:
    """The form again, what was typed kept, under an error summary linking to each field."""
    card = {
        "id": item["id"],
        "title": heading(with_template_words([item], portal().template_words)[0])[0],
        "form_key": new_token(),
        "typed": values,
        "errors": errors,
    }
    anchors = {
        "kind": f"n-{item['id']}-kind-too-hard",
        "text": f"n-{item['id']}-text",
        "confidence": f"a-{item['id']}-confidence",
        "obstacles": f"a-{item['id']}-obstacles",
        "change": f"c-{item['id']}-text",
        "reason": f"d-{item['id']}-reason",
    }
    problems = [(f"#{anchors.get(name, 'main')}", text) for name, text in errors.items()]
    if form == "note":
        said = _("Your message was not sent yet")
    else:
        said = _("Your answer was not saved yet")
    return render_template(
        "voice_error.html",
        card=card,
        form=form,
        heading=said,
        problems=problems,
        csrf=session.get("csrf", ""),
    ), status
