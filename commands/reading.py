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

if TYPE_CHECKING:
    from between.commands.session import Session

#: The agenda's sections, in the order they are printed.
AGENDA = (
    ("To review", "to_review"),
    ("Awaiting agreement", "awaiting_agreement"),
    ("Declined since the last review", "declined_since_last_review"),
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
    click.echo(f"Agenda for {result['client']} as of {result['as_of']}")
    for title, key in AGENDA:
        click.echo(f"\n{title}:")
        assignment_table(result[key])
        if key == "to_review":
            for row in result[key]:
                print_review_brief(row)
        elif key == "awaiting_agreement":
            for row in result[key]:
                print_client_notes(row)
        else:
            for row in result[key]:
                click.echo(f"  {row['id'][:8]} declined: {row['decline_reason'] or '-'}")
    if result["next_in_protocol"]:
        click.echo("\nNext in a protocol (reviewed with step-up):")
        for n in result["next_in_protocol"]:
            click.echo(
                f"  {n['id'][:8]} {n['template']}: next in {n['protocol']}: step "
                f"{n['protocol_step'] + 1} {n['next_step']} "
                f"('between assign {result['client']} --next {n['id'][:8]}')"
            )


def print_review_brief(row: dict[str, Any]) -> None:
    """A homework's figures, last review and anticipated obstacles, under the agenda table."""
    if row.get("next_step"):
        click.echo(
            f"  {row['id'][:8]}: next in {row['protocol']}: step {row['protocol_step'] + 1} "
            f"{row['next_step']}"
        )
    figures = plain(row["summary"]) if isinstance(row["summary"], dict) else row["summary"]
    done = row["completion"].get("complete")
    state = "unknown" if done is None else "yes" if done else "not yet"
    click.echo(f"  {row['id'][:8]} {row['task_type']}: {figures or '-'}; complete: {state}")
    review = row["last_review"]
    if review:
        got_in_way = f"; in the way: {review['obstacles']}" if review.get("obstacles") else ""
        click.echo(
            f"    last review {review['at'][:10]}: quantity {review['quantity']}/4, quality "
            f"{review['quality']}/4, difficulty {review['difficulty']}/4{got_in_way}"
        )
    for said in row["anticipated_obstacles_list"]:
        click.echo(f"    anticipated when agreeing ({said['at'][:10]}): {said['obstacles']}")
    print_client_notes(row)


def print_client_notes(row: dict[str, Any]) -> None:
    """The notes from the client (or a collaborator) since the last review, one a line."""
    from between.audit.narration import NOTE_KINDS

    for n in row.get("client_notes_since_review") or ():
        by = "the client" if n["by"] == "client" else n["by"]
        said = NOTE_KINDS.get(n["kind"], "sent a note about {id}").format(id=row["id"][:8])
        text = f": {n['text']}" if n["text"] else ""
        click.echo(f"    {n['at'][:16].replace('T', ' ')} {by} {said}{text}")


def register(cli: click.Group) -> None:
    for command in (show, list_assignments, agenda):
        cli.add_command(command)
