"""The parts of a client's report about what happened around the homework: what was
declined or cancelled and why, what got in the way, what the client said between sessions,
and who contributed entries."""

from __future__ import annotations

from typing import Any

from between.language import gettext as _
from between.reports.html import ident, para, section, stamp, table


def declined_section(f: dict[str, Any]) -> str:
    parts = []
    kinds = (
        ("declined", _("Declined"), _("declined"), _("None declined in this period.")),
        ("cancelled", _("Cancelled"), _("cancelled"), _("None cancelled in this period.")),
    )
    for key, heading, column, none in kinds:
        items = f[key]
        parts.append(f"<h3>{heading}</h3>")
        if not items:
            parts.append(para(none, "empty"))
            continue
        rows = [
            [
                stamp(i["at"]),
                ident(i["assignment"]),
                i["task_type"],
                i["stage"],
                i["reason"] if i["reason"] is not None else _("(erased)"),
            ]
            for i in items
        ]
        headers = [column, _("homework"), _("task"), _("stage"), _("client's reason")]
        parts.append(table(headers, rows))
    return section("declined", _("Declined and cancelled homework"), *parts)


def obstacles_section(f: dict[str, Any]) -> str:
    items = f["obstacles"]
    if not items:
        text = (
            _("Not available: erased.")
            if f["client"]["erased"]
            else _("None recorded in this period.")
        )
        return section("obstacles", _("What got in the way"), para(text, "empty"))
    source = {"agreement": _("expected, at agreement"), "review": _("reported, at review")}
    rows = [
        [stamp(o["at"]), ident(o["assignment"]), o["task_type"], source[o["source"]], o["text"]]
        for o in items
    ]
    return section(
        "obstacles",
        _("What got in the way"),
        table([_("when"), _("homework"), _("task"), _("said"), _("obstacle")], rows),
    )


def contributors_section(f: dict[str, Any]) -> str:
    people = f["contributors"]
    if not people:
        total = f["adherence"]["entries_in_period"]
        return section(
            "contributors",
            _("Who contributed"),
            para(_("%(total)s entries; who made them was erased.", total=total), "empty"),
        )
    rows = [[p["who"], p["role"], p["relationship"] or "–", p["entries"]] for p in people]
    return section(
        "contributors",
        _("Who contributed"),
        table([_("who"), _("role"), _("relationship"), _("entries")], rows, numeric=(3,)),
    )


def note_kinds() -> dict[str, str]:
    """How each kind of note reads in the report, in the current language."""
    return {
        "too-hard": _("too hard"),
        "question": _("a question"),
        "got-in-the-way": _("something got in the way"),
        "change": _("asked for a change"),
    }


def client_notes_section(f: dict[str, Any]) -> str:
    notes = f.get("client_notes") or []
    if not notes:
        erased = f["client"]["erased"]
        text = _("Not available: erased.") if erased else _("No notes in this period.")
        return section("client-notes", _("Between sessions, the client said"), para(text, "empty"))
    kinds = note_kinds()
    rows = [
        [
            stamp(n["at"]),
            ident(n["assignment"]),
            n["task_type"],
            _("the client") if n["by"] == "client" else n["by"],
            kinds.get(n["kind"], n["kind"]),
            n["text"] or "–",
        ]
        for n in notes
    ]
    return section(
        "client-notes",
        _("Between sessions, the client said"),
        table(
            [_("when"), _("homework"), _("task"), _("who"), _("about"), _("what they wrote")], rows
        ),
    )
