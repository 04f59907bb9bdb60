"""The home page: one short card per homework, what comes next first, each with one link to
its own page; homework to talk about, and finished and closed homework, in their own sections.
No forms here: the home of a client with six homework fits in two phone screens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from between.engine.reading.clock_zones import zone_of
from between.language import gettext as _
from between.portal.homework_page import (
    due_line,
    heading,
    progress,
    recorded,
    status_of,
    status_words,
)


def sections(items: list[dict], is_client: bool, today: date) -> dict[str, list[dict]]:
    """The cards of ``items``: ``open`` (soonest due first), ``proposed`` and ``closed``."""
    out: dict[str, list[dict]] = {"open": [], "proposed": [], "closed": []}
    for item in items:
        if item.get("proposed") or item["status"] == "proposed":
            out["proposed"].append(_card(item, is_client, today))
        elif item["accepts_entries"] or item["status"] == "agreed":
            out["open"].append(_card(item, is_client, today))
        else:
            out["closed"].append(_card(item, is_client, today))
    out["open"].sort(key=lambda c: (c["sort"], c["id"]))
    return out


#: How long the line that tells a card from others of the same task type may be.
LINE = 80


def telling_line(item: dict, summary: str) -> str:
    """One short line telling this homework from others of its task type: its template's
    summary, else the first line of its instructions (in the reader's language when they are a
    starter template's), cut to ``LINE`` characters with "…"."""
    text = summary or next((s.strip() for s in recorded(item.get("instructions")).splitlines()
                            if s.strip()), "")  # fmt: skip
    if len(text) <= LINE:
        return text
    cut = text[: LINE - 1].rsplit(" ", 1)[0] if " " in text[: LINE - 1] else text[: LINE - 1]
    return cut.rstrip(" ,;:.-—") + "…"


def _card(item: dict, is_client: bool, today: date) -> dict[str, Any]:
    title, summary = heading(item)
    accepts = item["accepts_entries"]
    if accepts:
        action = _("Add today's entry") if _none_today(item, today) else _("Add another entry")
    else:
        action = _("Look at this homework")
    status = status_of(item)
    return {
        "id": item["id"],
        "title": title,
        "line": telling_line(item, summary),
        "status": status,
        "status_words": status_words(status),
        "due": due_line(item, today),
        "progress": progress(item, is_client) if not item.get("proposed") else "",
        "action": action,
        "href": f"/homework/{item['id']}" + ("#record" if accepts else ""),
        "sort": str(item.get("due") or "9999"),
    }


def _none_today(item: dict, today: date) -> bool:
    """Whether the person has no entry that happened today yet (in the client's zone)."""
    for e in item["entries"]:
        try:
            moment = datetime.fromisoformat(e["occurred_at"])
            if moment.astimezone(zone_of(item.get("timezone"))).date() == today:
                return False
        except (TypeError, ValueError):
            continue
    return True
