"""Reading homework: one assignment in full, a filtered list, and a client's session agenda."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import (
    assignment_table,
    listing,
    paged,
    plain,
    print_assignment,
    print_json,
    warn_unavailable,
)
from between.engine.reading.views import ASSIGNMENT_STATUSES, STAGES
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session

#: The agenda's sections, in the order they are printed.
AGENDA = (
    (N_("To review"), "to_review"),
    (N_("Awaiting agreement"), "awaiting_agreement"),
    (N_("Declined since the last review"), "declined_since_last_review"),
)


@click.command("show")
@click.argument("assignment")
@json_option
@click.pass_obj
def show(session: Session, assignment: str, as_json: bool) -> None:
    """Show one assignment: what, why, entries, reviews and the summary."""
    from between.commands.protocols import protocol_position

    with session.reading() as reader:
        detail = reader.show(assignment)
    detail.update(protocol_position(session, detail))
    warn_unavailable(detail)
    if as_json:
        print_json(detail)
    else:
        print_assignment(detail)


@click.command("list")
@click.option("--client", help="Only this client's homework.")
@click.option("--status", type=click.Choice((*ASSIGNMENT_STATUSES, "open")))
@click.option("--stage", type=click.Choice(STAGES))
@click.option(
    "--overdue", is_flag=True, help="Only agreed homework past its due date and incomplete."
)
@click.option("--due-before", help="Only homework due before this date.")
@paged
@json_option
@click.pass_obj
def list_assignments(
    session: Session, as_json: bool, limit: int | None, every: bool, **filters: Any
) -> None:
    """List homework (from the read model), by due date: the first 30 unless --limit N or
    --all (which prints every row as it is read); standard error says when there are more."""
    with session.reading() as reader:
        listing(
            lambda n: reader.list_assignments(limit=n, **filters),
            lambda: reader.count_assignments(**filters),
            lambda: reader.stream_assignments(**filters),
            assignment_table,
            limit=limit,
            every=every,
            as_json=as_json,
        )


@click.command("agenda")
@click.argument("code")
@json_option
@click.pass_obj
def agenda(session: Session, code: str, as_json: bool) -> None:
    """What to review at the start of this client's next session."""
    from between.commands.protocols import next_in_protocol, protocol_position

    with session.reading() as reader:
        result = reader.agenda(code)
        briefs = [reader.review_brief(r["id"]) for r in result["to_review"]]
        rows = reader.list_assignments(client=code)  # every one: a protocol's steps, follow-ups
        for r in result["awaiting_agreement"]:  # a change asked for, or another note
            said = reader.review_brief(r["id"]) if r.get("client_notes") else {}
            r["client_notes_since_review"] = said.get("client_notes_since_review", [])
        for r in result["declined_since_last_review"]:  # why: the reason is in its record
            r["decline_reason"] = reader.decline_reason(r["id"])
    result["to_review"] = [
        {**r, **b, **protocol_position(session, r)}
        for r, b in zip(result["to_review"], briefs, strict=True)
    ]
    result["next_in_protocol"] = next_in_protocol(session, rows)
    if as_json:
        print_json(result)
        return
    print_agenda(result)


def print_agenda(result: dict[str, Any]) -> None:
    """The agenda's sections as tables, each row followed by what to talk about."""
    click.echo(
        _("Agenda for %(client)s as of %(as_of)s", client=result["client"], as_of=result["as_of"])
    )
    for title, key in AGENDA:
        click.echo(f"\n{_(title)}:")
        assignment_table(result[key])
        if key == "to_review":
            for row in result[key]:
                print_review_brief(row)
        elif key == "awaiting_agreement":
            for row in result[key]:
                print_client_notes(row)
        else:
            for row in result[key]:
                reason = row["decline_reason"] or "-"
                click.echo("  " + _("%(id)s declined: %(reason)s", id=row["id"][:8], reason=reason))
    if result["next_in_protocol"]:
        click.echo("\n" + _("Next in a protocol (reviewed with step-up):"))
        for n in result["next_in_protocol"]:
            line = _(
                "%(id)s %(template)s: next in %(protocol)s: step %(step)s %(next_step)s "
                "('between assign %(client)s --next %(id)s')",
                id=n["id"][:8],
                template=n["template"],
                protocol=n["protocol"],
                step=n["protocol_step"] + 1,
                next_step=n["next_step"],
                client=result["client"],
            )
            click.echo("  " + line)


def print_review_brief(row: dict[str, Any]) -> None:
    """A homework's figures, last review and anticipated obstacles, under the agenda table."""
    if row.get("next_step"):
        line = _(
            "%(id)s: next in %(protocol)s: step %(step)s %(next_step)s",
            id=row["id"][:8],
            protocol=row["protocol"],
            step=row["protocol_step"] + 1,
            next_step=row["next_step"],
        )
        click.echo("  " + line)
    figures = plain(row["summary"]) if isinstance(row["summary"], dict) else row["summary"]
    done = row["completion"].get("complete")
    state = _("unknown") if done is None else _("yes") if done else _("not yet")
    line = _(
        "%(id)s %(task_type)s: %(figures)s; complete: %(state)s",
        id=row["id"][:8],
        task_type=row["task_type"],
        figures=figures or "-",
        state=state,
    )
    click.echo("  " + line)
    review = row["last_review"]
    if review:
        click.echo("    " + _last_review_line(review))
    for said in row["anticipated_obstacles_list"]:
        line = _(
            "anticipated when agreeing (%(at)s): %(obstacles)s",
            at=said["at"][:10],
            obstacles=said["obstacles"],
        )
        click.echo("    " + line)
    print_client_notes(row)


def _last_review_line(review: dict[str, Any]) -> str:
    """The last review's ratings out of 4, and what got in the way."""
    line = _(
        "last review %(at)s: quantity %(quantity)s/4, quality %(quality)s/4, "
        "difficulty %(difficulty)s/4",
        at=review["at"][:10],
        quantity=review["quantity"],
        quality=review["quality"],
        difficulty=review["difficulty"],
    )
    if review.get("obstacles"):
        line += _("; in the way: %(obstacles)s", obstacles=review["obstacles"])
    return line


def print_client_notes(row: dict[str, Any]) -> None:
    """The notes from the client (or a collaborator) since the last review, one a line."""
    from between.audit.narration import NOTE_KINDS

    for n in row.get("client_notes_since_review") or ():
        by = _("the client") if n["by"] == "client" else n["by"]
        kind = NOTE_KINDS.get(n["kind"], N_("sent a note about {id}"))
        said = _(kind).format(id=row["id"][:8])
        text = f": {n['text']}" if n["text"] else ""
        at = n["at"][:16].replace("T", " ")
        click.echo("    " + _("%(at)s %(by)s %(said)s", at=at, by=by, said=said) + text)


def register(cli: click.Group) -> None:
    for command in (show, list_assignments, agenda):
        cli.add_command(command)
