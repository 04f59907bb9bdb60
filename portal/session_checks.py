"""The checks every form post of the portal makes before it records anything: the session's
live grant (the link checked again, the rate limit) and a signed form (the session's CSRF
token and a well-formed idempotency key). ``portal.pages`` and ``portal.voice`` use them."""

from __future__ import annotations

import re
from typing import Any

from flask import g, render_template, request, session

from between.language import gettext as _
from between.portal.context import portal, problem
from between.portal.security import same


def gone() -> str:
    """What a link that no longer works says (in the reader's language)."""
    return _("This link no longer works — ask your therapist for a new one.")


FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def session_grant() -> Any:
    """The grant of the link this session holds, if it still works (looked up once a
    request: the page's language needs it before the route does)."""
    token = session.get("link")
    if not token:
        return None
    if g.get("grant_of") != token:
        g.grant_of, g.grant = token, portal().homework().grant_for(token)
    return g.grant


def live_grant() -> tuple[Any, Any]:
    """The session's live grant, or the page to answer instead (no link, gone, too many)."""
    if not session.get("link"):
        return None, plain(
            _("To see your homework, open the personal link your therapist sent you."), 403
        )
    grant = session_grant()
    if grant is None:
        session.clear()
        return None, plain(gone(), 403)
    if not portal().limiter.allow(str(grant.link_id)):
        return None, problem(429)
    return grant, None


def unsigned_form() -> Any:
    """A refusal for a form without this session's CSRF token (400 when missing, 403 when
    wrong) or without a well-formed idempotency key (400); None for a good one."""
    given = request.form.get("csrf_token")
    if not given or not FORM_KEY.fullmatch(request.form.get("form_key", "")):
        return problem(400)
    return None if same(given, session.get("csrf")) else problem(403)


def plain(message: str, status: int) -> tuple[str, int]:
    """A plain page with one message."""
    return render_template("message.html", heading=_("Homework"), message=message), status
