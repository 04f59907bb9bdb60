"""``between client …``: register clients, the people who help them, consent and erasure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option, write_command
from between.commands.output import (
    assignment_table,
    listing,
    paged,
    pairs,
    print_json,
    report,
    short,
    step_of,
    table,
)
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session

#: The client statuses ``client list --status`` offers (the engine keeps no list of them).
LISTED_STATUSES = ("active", "discharged")
PERSON = click.option(
    "--person", default="client", show_default=True, help="'client' or a collaborator."
)


def preference_options(command: Any) -> Any:
    """``--timezone``, ``--language``, ``--remind-at``, ``--quiet-hours``: the client's own
    clock and language (docs/time-zones.md); the clinic's defaults when never given."""
    for option in reversed(
        (
            click.option("--timezone", help="The client's time zone, e.g. Europe/Madrid."),
            click.option("--language", help="The client's language, e.g. en or es."),
            click.option("--remind-at", help="When reminders go, their time (HH:MM), e.g. 19:00."),
            click.option(
                "--quiet-hours", help="No messages then, their time: HH:MM-HH:MM, or none."
            ),
        )
    ):
        command = option(command)
    return command


def chosen(options: dict[str, Any]) -> dict[str, str]:
    """The preferences given (taken out of ``options``)."""
    keys = ("timezone", "language", "remind_at", "quiet_hours")
    return {k: v for k in keys if (v := options.pop(k, None)) is not None}


@click.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The client's display name.")
@click.option("--therapist", required=True, help="The therapist responsible.")
@preference_options
@write_command
@click.pass_obj
def add(
    session: Session,
    code: str,
    name: str,
    therapist: str,
    request_key: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Register a client under the clinic's CODE."""
    outcome = session.app().register_client(
        code,
        name,
        therapist,
        actor=session.actor,
        request_key=request_key,
        preferences=chosen(options),
    )
    report(outcome, as_json, _("registered client %(code)s", code=code))


CLIENT_COLUMNS = [
    (N_("CODE"), "code"),
    (N_("THERAPIST"), "therapist"),
    (N_("STATUS"), "status"),
    (N_("COLLABORATORS"), "collaborator_count"),
    (N_("REGISTERED"), "registered_at"),
]


@click.command("list")
@click.option("--status", type=click.Choice(LISTED_STATUSES))
@paged
@json_option
@click.pass_obj
def list_clients(
    session: Session, status: str | None, as_json: bool, limit: int | None, every: bool
) -> None:
    """List clients by code: the first 30 unless --limit N or --all."""
    with session.reading() as reader:
        listing(
            lambda n: reader.list_clients(status, limit=n),
            lambda: reader.count_clients(status),
            lambda: reader.stream_clients(status),
            lambda rows: table(rows, CLIENT_COLUMNS),
            limit=limit,
            every=every,
            as_json=as_json,
        )


@click.command("show")
@click.argument("code")
@json_option
@click.pass_obj
def show(session: Session, code: str, as_json: bool) -> None:
    """Show one client, their collaborators and their homework."""
    from between.commands.protocols import client_positions

    with session.reading() as reader:
        detail = reader.show_client(code)
    detail["protocols"] = client_positions(session, detail["assignments"])
    detail["preferences"] = session.clinic_time().of(detail)
    if as_json:
        print_json(detail)
        return
    click.echo(
        _(
            "%(code)s  %(name)s  (%(status)s, therapist %(therapist)s)",
            code=detail["code"],
            name=detail["name"],
            status=detail["status"],
            therapist=detail["therapist"],
        )
    )
    for person in detail["collaborators"]:
        line = _(
            "collaborator: %(name)s (%(relationship)s)",
            name=person["name"],
            relationship=person["relationship"],
        )
        click.echo("  " + line)
    contacts = detail["contacts"]
    for person, details in contacts.items() if isinstance(contacts, dict) else ():
        reach = pairs(details, "{} {}", ", ")
        click.echo("  " + _("contact %(person)s: %(details)s", person=person, details=reach))
    click.echo("  " + _preferences_line(detail["preferences"]))
    if detail.get("erasure"):
        erased = detail["erasure"]
        line = _(
            "erased %(at)s by %(by)s: %(reason)s",
            at=erased["at"][:10],
            by=erased["by"],
            reason=erased["reason"],
        )
        click.echo("  " + line)
    assignment_table(detail["assignments"])
    for p in detail["protocols"]:
        following = _("; next: %(step)s", step=p["next_step"]) if p["next_step"] else ""
        line = _(
            "protocol %(protocol)s: %(position)s (%(template)s, %(id)s, %(status)s)",
            protocol=p["protocol"],
            position=step_of(p["protocol_step"], p["protocol_steps"]),
            template=p["template"],
            id=p["assignment"][:8],
            status=p["status"],
        )
        click.echo(line + following)


def _preferences_line(prefs: dict[str, Any]) -> str:
    """The client's own clock and language, or what applies when they gave none."""
    return _(
        "time zone %(timezone)s, language %(language)s, reminders at %(remind_at)s, "
        "quiet hours %(quiet_hours)s",
        timezone=prefs["timezone"] or _("server local time"),
        language=prefs["language"],
        remind_at=prefs["remind_at"] or _("once due"),
        quiet_hours=prefs["quiet_hours"] or _("none"),
    )


@click.command("collaborator")
@click.argument("code")
@click.argument("name")
@click.option("--relationship", required=True, help="e.g. partner, parent, friend.")
@write_command
@click.pass_obj
def collaborator(
    session: Session,
    code: str,
    name: str,
    relationship: str,
    request_key: str | None,
    as_json: bool,
) -> None:
    """Let NAME (someone close to the client) record observations."""
    outcome = session.app().add_collaborator(
        code, name, relationship, actor=session.actor, request_key=request_key
    )
    report(
        outcome,
        as_json,
        _("%(name)s may now record observations for %(code)s", name=name, code=code),
    )


@click.command("contact")
@click.argument("code")
@PERSON
@click.option("--email")
@click.option("--phone")
@click.option("--webhook", help="A URL that receives this person's notifications.")
@preference_options
@write_command
@click.pass_obj
def contact(
    session: Session,
    code: str,
    person: str,
    request_key: str | None,
    as_json: bool,
    **channels: str | None,
) -> None:
    """Change how to reach the client or a collaborator, or the client's own clock and
    language (--timezone, --language, --remind-at, --quiet-hours)."""
    preferences = chosen(channels)
    contacts = {k: v for k, v in channels.items() if v is not None}
    outcome = session.app().change_contacts(
        code,
        person,
        contacts,
        actor=session.actor,
        request_key=request_key,
        preferences=preferences,
    )
    if contacts:
        changed = _("contact details of %(person)s (%(code)s) changed", person=person, code=code)
    else:
        changed = _("preferences of the client (%(code)s) changed", code=code)
    report(outcome, as_json, changed)


@click.command("consent")
@click.argument("code")
@click.option("--channel", required=True, help="e.g. console, email, webhook.")
@PERSON
@click.option("--withdraw", is_flag=True, help="Record that consent was withdrawn.")
@write_command
@click.pass_obj
def consent(
    session: Session,
    code: str,
    channel: str,
    person: str,
    withdraw: bool,
    request_key: str | None,
    as_json: bool,
) -> None:
    """Record that a person agrees (or no longer agrees) to hear on a channel."""
    outcome = session.app().record_consent(
        code,
        channel,
        person=person,
        granted=not withdraw,
        actor=session.actor,
        request_key=request_key,
    )
    values = {"person": person, "code": code, "channel": channel}
    if withdraw:
        said = _("%(person)s (%(code)s) withdrew consent to %(channel)s", **values)
    else:
        said = _("%(person)s (%(code)s) consented to %(channel)s", **values)
    report(outcome, as_json, said)


@click.command("discharge")
@click.argument("code")
@click.option("--reason", required=True)
@write_command
@click.pass_obj
def discharge(
    session: Session, code: str, reason: str, request_key: str | None, as_json: bool
) -> None:
    """Record that the client left therapy (no new homework after this)."""
    outcome = session.app().discharge(code, reason, actor=session.actor, request_key=request_key)
    report(outcome, as_json, _("discharged client %(code)s", code=code))


@click.command("erase")
@click.argument("client_ref", metavar="CODE")
@click.option("--reason", required=True, help="Why (e.g. the request's reference).")
@write_command
@click.pass_obj
def erase(
    session: Session, client_ref: str, reason: str, request_key: str | None, as_json: bool
) -> None:
    """Erase a discharged client's personal data by destroying their key.

    The erasure is recorded (who, when, why); event types, times, counts and ratings stay,
    and the log still verifies. CODE may also be the client's id.
    """
    outcome = session.app().erase_client(
        client_ref, reason=reason, actor=session.actor, request_key=request_key
    )
    erased = _("erased the personal data of client %(id)s", id=short(outcome.result))
    report(outcome, as_json, erased)


def register(cli: click.Group) -> None:
    @cli.group("client")
    def client() -> None:
        """Register clients and the people who help them."""

    for command in (add, list_clients, show, collaborator, contact, consent, discharge, erase):
        client.add_command(command)
