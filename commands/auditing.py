"""Auditing, read-only: the log, plain-language histories, replay, chain verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import (
    assignment_table,
    print_assignment,
    print_json,
    progress,
    stream_json_array,
    warn_unavailable,
)
from between.language import N_, Word, worded
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


@click.command("log")
@click.option("--client", help="Only this client's events (their record and homework).")
@click.option("--assignment", help="Only this assignment's events.")
@click.option("--type", "types_", multiple=True, help="Only this event type; repeatable.")
@click.option("--actor", "by_actor", help="Only events caused by this actor.")
@click.option("--since", help="Only events at or after this time (ISO date or date-time).")
@click.option("--until", help="Only events before this time.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one event per line.")
@click.pass_obj
def log(session: Session, as_json: bool, **filters: Any) -> None:
    """Stream the log in order, read-only (a table, or the JSON Lines export)."""
    from json import JSONEncoder

    from between.audit.auditor import filtered_log

    app = session.app(read_only=True)
    if as_json and not any(filters.values()):  # the whole log: on every core it may use
        from between.audit.export import export_lines
        from between.audit.fanout import workers_for

        workers = workers_for(app.recorder.max_notification_id() or 0)
        for text in export_lines(app, workers):
            click.echo(text)
        return
    to_json = JSONEncoder(ensure_ascii=False).encode  # json.dumps(record, ensure_ascii=False)

    lines: list[str] = []  # printed a thousand at a time: one write per line is slow
    try:
        for position, record in filtered_log(app, **filters):
            if as_json:
                lines.append(to_json(record))
            else:
                lines.append(
                    f"{position:>8}  {record['time'][:19]}  {record['actor']:<12}  "
                    f"{record['type']:<22}  {record['aggregate'][:8]}"
                )
            if len(lines) == 1000:
                click.echo("\n".join(lines))
                lines.clear()
    finally:  # what was read before a failure is printed before it is reported
        if lines:
            click.echo("\n".join(lines))


@click.command("history")
@click.argument("record")
@json_option
@click.pass_obj
def history(session: Session, record: str, as_json: bool) -> None:
    """One client's (by code) or assignment's (by id) timeline in plain language."""
    from between.audit.auditor import timeline

    lines = timeline(session.app(read_only=True), record)
    _next_in_protocol(session, lines)
    if as_json:
        print_json(lines)
        return
    for line in lines:
        click.echo(f"{line['time'][:16].replace('T', ' ')}  {worded(line['text'])}")


def _next_in_protocol(session: Session, lines: list[dict[str, Any]]) -> None:
    """After the step-up review of homework from a protocol that no homework has followed up
    yet, say the protocol's next step and how to propose it (as ``agenda`` does): the line's
    text gains it, and its JSON a ``next_in_protocol`` object (not once the client has left)."""
    from between.commands.protocols import next_in_protocol
    from between.engine.errors import BetweenError
    from between.engine.reading.views import ERASED

    reviewed = [line for line in lines if line["type"] == "AssignmentReviewed"]
    if not reviewed:
        return
    with session.reading() as reader:
        code = reader.show(reviewed[-1]["aggregate"]).get("client")
        try:  # a code an auditor cannot read ("[restricted]"), or erased, is no client's
            if not code or code == ERASED or reader.show_client(code)["status"] != "active":
                return
            rows = reader.list_assignments(client=code)
        except BetweenError:
            return
    last = {line["aggregate"]: line for line in reviewed}  # each homework's latest review
    for n in next_in_protocol(session, rows):
        line = last.get(n["id"])
        if line is None:
            continue
        line["next_in_protocol"] = n
        after = Word(
            N_(
                "; next in %(protocol)s: step %(step)s %(next_step)s "
                "('between assign %(client)s --next %(id)s')"
            ),
            protocol=n["protocol"],
            step=n["protocol_step"] + 1,
            next_step=n["next_step"],
            client=code,
            id=n["id"][:8],
        )
        # one Word, English in the JSON, both parts told in the operator's language
        line["text"] = Word("%(text)s%(after)s", text=line["text"], after=after)


@click.command("replay")
@click.argument("assignment", required=False)
@click.option("--at", "at", help="Rebuild state as it stood at this time.")
@click.option("--client", help="Only this client's homework.")
@click.option("--check", is_flag=True, help="Rebuild the read models in memory and compare.")
@json_option
@click.pass_obj
def replay(
    session: Session,
    assignment: str | None,
    at: str | None,
    client: str | None,
    check: bool,
    as_json: bool,
) -> None:
    """Rebuild state from events alone: at a moment (--at), or as a check (--check)."""
    from between.audit import auditor as audit
    from between.engine.errors import InvalidInput

    app = session.app(read_only=True)
    if check:
        differences = audit.check(app, progress)
        if as_json:
            print_json({"differences": differences})
        else:
            for line in differences:
                click.echo(worded(line))
        if differences:
            raise SystemExit(1)
        if not as_json:
            if app.keys.restricted:
                click.echo(
                    _(
                        "read models match the log"
                        " (client codes not compared: no access to client keys)"
                    )
                )
            else:
                click.echo(_("read models match the log"))
        return
    if not at:
        raise InvalidInput("give --at TIME (or --check)")
    moment = audit.moment(at)
    if assignment:
        detail = audit.assignment_at(app, assignment, moment)
        warn_unavailable(detail)
        if as_json:
            print_json(detail)
        else:
            print_assignment(detail)
        return
    rows = audit.rows_at(app, moment, client, progress)
    if as_json:
        stream_json_array(rows)
    else:
        assignment_table(rows)


@click.command("verify")
@click.option("--against", help="A digest from 'between checkpoint' to prove the log extends.")
@json_option
@click.pass_obj
def verify(session: Session, against: str | None, as_json: bool) -> None:
    """Check the log's hash chain; exit 0 when intact, 1 when broken."""
    from between.audit.auditor import verify_log

    result = verify_log(session.app(read_only=True, key_optional=True), against, progress=progress)
    broken = result.first_break
    if as_json:
        print_json(
            {
                "intact": result.intact,
                "events": result.events,
                "head_position": result.head_position,
                "checkpoint": str(result.checkpoint()) if result.intact else None,
                "break": broken and vars(broken),
            }
        )
    elif broken:
        click.echo(
            _(
                "BROKEN at position %(position)s (%(kind)s): %(detail)s",
                position=broken.position,
                kind=broken.kind,
                detail=broken.detail,
            )
        )
    elif against:
        click.echo(
            _(
                "intact: %(events)s events, head at position %(head)s; "
                "extends checkpoint %(digest)s",
                events=result.events,
                head=result.head_position,
                digest=against,
            )
        )
    else:
        click.echo(
            _(
                "intact: %(events)s events, head at position %(head)s",
                events=result.events,
                head=result.head_position,
            )
        )
    if broken:
        raise SystemExit(1)


@click.command("checkpoint")
@json_option
@click.pass_obj
def checkpoint(session: Session, as_json: bool) -> None:
    """Verify the log, then print a digest of its head to keep somewhere else."""
    from between.audit.auditor import verify_log

    result = verify_log(session.app(read_only=True, key_optional=True), None, progress=progress)
    broken = result.first_break
    if as_json:
        print_json(
            {
                "checkpoint": None if broken else str(result.checkpoint()),
                "events": result.events,
                "head_position": result.head_position,
                "break": broken and vars(broken),
            }
        )
    elif broken:
        message = _(
            "BROKEN at position %(position)s: %(detail)s",
            position=broken.position,
            detail=broken.detail,
        )
        click.echo(message, err=True)
    else:
        click.echo(str(result.checkpoint()))
    if broken:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    for command in (log, history, replay, verify, checkpoint):
        cli.add_command(command)
