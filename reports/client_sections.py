"""The parts of a client's report about what happened around the homework: what was
declined or cancelled and why, what got in the way, what the client said between sessions,
and who contributed entries."""

from __future__ import annotations

from typing import Any

from between.reports.html import ident, para, section, stamp, table


def declined_section(f: dict[str, Any]) -> str:
    parts = []
    for key, heading in (("declined", "Declined"), ("cancelled", "Cancelled")):
        items = f[key]
        parts.append(f"<h3>{heading}</h3>")
        if not items:
            parts.append(para(f"None {key} in this period.", "empty"))
            continue
        rows = [
            [
                stamp(i["at"]),
                ident(i["assignment"]),
                i["task_type"],
                i["stage"],
                i["reason"] if i["reason"] is not None else "(erased)",
            ]
            for i in items
        ]
        parts.append(table([key, "homework", "task", "stage", "client's reason"], rows))
    return section("declined", "Declined and cancelled homework", *parts)


def obstacles_section(f: dict[str, Any]) -> str:
    items = f["obstacles"]
    if not items:
        text = (
            "Not available: erased." if f["client"]["erased"] else "None recorded in this period."
        )
        return section("obstacles", "What got in the way", para(text, "empty"))
    source = {"agreement": "expected, at agreement", "review": "reported, at review"}
    rows = [
        [stamp(o["at"]), ident(o["assignment"]), o["task_type"], source[o["source"]], o["text"]]
        for o in items
    ]
    return section(
        "obstacles",
        "What got in the way",
        table(["when", "homework", "task", "said", "obstacle"], rows),
    )


def contributors_section(f: dict[str, Any]) -> str:
    people = f["contributors"]
    if not people:
        total = f["adherence"]["entries_in_period"]
        return section(
            "contributors",
            "Who contributed",
            para(f"{total} entries; who made them was erased.", "empty"),
        )
    rows = [[p["who"], p["role"], p["relationship"] or "–", p["entries"]] for p in people]
    return section(
        "contributors",
        "Who contributed",
        table(["who", "role", "relationship", "entries"], rows, numeric=(3,)),
    )


#: How each kind of note reads in the report.
NOTE_KINDS = {
    "too-hard": "too hard",
    "question": "a question",
    "got-in-the-way": "something got in the way",
    "change": "asked for a change",
}


def client_notes_section(f: dict[str, Any]) -> str:
    notes = f.get("client_notes") or []
    if not notes:
        text = "Not available: erased." if f["client"]["erased"] else "No notes in this period."
        return section("client-notes", "Between sessions, the client said", para(text, "empty"))
    rows = [
        [
            stamp(n["at"]),
            ident(n["assignment"]),
            n["task_type"],
            "the client" if n["by"] == "client" else n["by"],
            NOTE_KINDS.get(n["kind"], n["kind"]),
            n["text"] or "–",
        ]
        for n in notes
    ]
    return section(
        "client-notes",
        "Between sessions, the client said",
        table(["when", "homework", "task", "who", "about", "what they wrote"], rows),
    )
