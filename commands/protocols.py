"""Protocols: ``between protocol list|show``, ``assign --protocol`` and ``assign --next``.

A protocol is an ordered ladder of templates (docs/library.md). ``assign --protocol NAME``
proposes its first step; ``assign --next ID`` proposes the step after homework ID's, as a
step-up of ID — refused unless ID is from a protocol, is not its last step, and its latest
review's next step was ``step-up``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import library_heading, print_json, table, warn_problems
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


def protocol_start(session: Session, name: str) -> tuple[str, dict[str, Any]]:
    """``assign --protocol NAME``: the first step's template, and what the event records."""
    protocol = session.library().protocol(name)
    return protocol.steps[0], {"protocol": protocol.name, "protocol_step": 1}


def protocol_next(session: Session, ref: str) -> tuple[str, str, dict[str, Any]]:
    """``assign --next ID``: the next step's template, ID's full id, and what is recorded."""
    from between.engine.errors import InvalidInput

    with session.reading() as reader:
        detail = reader.show(ref)
    short_id = str(detail["id"])[:8]
    name, step = detail.get("protocol"), detail.get("protocol_step")
    if not name or not step:
        raise InvalidInput(
            "assignment %(id)s is not from a protocol; use --steps-up-from with --template",
            id=short_id,
        )
    protocol = session.library().protocol(name)
    following = protocol.next_step(step)
    if following is None:
        raise InvalidInput(
            "assignment %(id)s is step %(step)s, the last of %(steps)s of %(protocol)s; "
            "there is no next step",
            id=short_id,
            step=step,
            steps=len(protocol.steps),
            protocol=name,
        )
    reviews = detail.get("review_list") or []
    if not reviews or reviews[-1].get("next_step") != "step-up":
        raise InvalidInput(
            "assignment %(id)s has not been reviewed with --next-step step-up; review it first",
            id=short_id,
        )
    return following, str(detail["id"]), {"protocol": name, "protocol_step": step + 1}


def protocol_position(session: Session, detail: dict[str, Any]) -> dict[str, Any]:
    """``protocol``, ``protocol_step``, ``protocol_steps`` and ``next_step`` (null when none)."""
    name, step = detail.get("protocol"), detail.get("protocol_step")
    protocol = session.library().protocols.get(name) if name else None
    return {
        "protocol": name,
        "protocol_step": step,
        "protocol_steps": len(protocol.steps) if protocol else None,
        "next_step": protocol.next_step(step) if protocol else None,
    }


#: ``protocol list``'s columns: (title, marked for translation; key).
PROTOCOL_COLUMNS = [
    (N_("NAME"), "name"),
    (N_("STEPS"), "count"),
    (N_("VERSION"), "version"),
    (N_("TITLE"), "title"),
]
#: The fields ``protocol show`` prints when set, each with its label.
SHOWN_FIELDS = (("title", N_("title:")), ("description", N_("description:")))


@click.command("list")
@json_option
@click.pass_obj
def list_protocols(session: Session, as_json: bool) -> None:
    """List the clinic's protocols, and the ones that cannot be used."""
    library = session.library()
    rows, problems = [], library.protocol_problems()
    for name in library.protocol_names():
        if name in library.protocols and not library.protocol_problem(name):
            protocol = library.protocols[name]
            rows.append({**protocol.describe(), "source": library.protocol_sources[name]})
    if as_json:
        print_json({"protocols": rows, "problems": problems})
        return
    shown = [{**r, "count": len(r["steps"])} for r in rows]
    table(shown, PROTOCOL_COLUMNS)
    warn_problems(problems)


@click.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_protocol(session: Session, name: str, as_json: bool) -> None:
    """Show one protocol: its steps, in order, and its version."""
    library = session.library()
    described = {**library.protocol(name).describe(), "source": library.protocol_sources[name]}
    if as_json:
        print_json(described)
        return
    library_heading(described)
    for key, label in SHOWN_FIELDS:
        if described[key]:
            click.echo(f"  {_(label):<14}{described[key]}")
    for number, step in enumerate(described["steps"], 1):
        template = library.templates[step]
        line = _(
            "step %(number)s: %(template)s (%(stage)s, difficulty %(difficulty)s)",
            number=number,
            template=step,
            stage=template.stage,
            difficulty=template.difficulty,
        )
        click.echo("  " + line)


def register(cli: click.Group) -> None:
    @cli.group("protocol")
    def protocol() -> None:
        """The clinic's protocols: ladders of templates (see docs/library.md)."""

    protocol.add_command(list_protocols)
    protocol.add_command(show_protocol)


def next_in_protocol(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of a client's homework rows (the read model's: they carry ``protocol`` and
    ``protocol_step`` when set), those from a protocol whose latest review stepped up, that no
    homework has followed up yet, and that are not the last step: what ``assign --next`` would
    propose."""
    followed = {r["steps_up_from"] for r in rows if r.get("steps_up_from")}
    waiting = []
    for d in rows:
        if not d.get("protocol") or str(d["id"]) in followed:
            continue
        if (d.get("last_review") or {}).get("next_step") != "step-up":
            continue
        position = protocol_position(session, d)
        if position["next_step"]:
            waiting.append({"id": str(d["id"]), "template": d.get("template"), **position})
    return waiting


def client_positions(session: Session, details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client's position in each protocol: the latest step's homework and its status (from
    their homework rows, which carry ``protocol`` and ``protocol_step`` when set)."""
    latest: dict[str, dict[str, Any]] = {}
    for d in details:
        name = d.get("protocol")
        if not name:
            continue
        held = latest.get(name)
        if held is None or (d["protocol_step"], d["proposed_at"]) >= (
            held["protocol_step"],
            held["proposed_at"],
        ):
            latest[name] = d
    return [
        {
            **protocol_position(session, d),
            "assignment": str(d["id"]),
            "template": d.get("template"),
            "status": d["status"],
        }
        for name, d in sorted(latest.items())
    ]
