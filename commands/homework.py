"""Homework through its life: assign, adjust, agree or decline, submit, review, cancel, close."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import (
    ChoiceOf,
    F,
    field_options,
    parse_fields,
    prompt_fields,
    write_command,
)
from between.commands.output import report, short
from between.engine.reading.views import STAGES
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session


ALLOW_PAST_DUE = click.option(
    "--allow-past-due",
    is_flag=True,
    help="Accept a due date before today (back-filling records of earlier homework).",
)


def homework_options(proposing: bool) -> Callable[[F], F]:
    """What describes homework: required when proposing (``assign`` checks, since a template
    may fill them), any subset when adjusting."""
    needed = " Required unless --template gives it." if proposing else ""
    options = [
        click.option("--instructions", help="What to do, in the client's words." + needed),
        click.option("--rationale", help="Why this homework, now." + needed),
        click.option("--stage", type=click.Choice(STAGES), help=needed.strip() or None),
        click.option("--difficulty", type=int, help="Step on the ladder, 1–10." + needed),
        click.option("--due", help="YYYY-MM-DD, or +N days from today." + needed),
        click.option(
            "--entries",
            "expected_entries",
            type=int,
            help="How many entries are expected" + (" [default: 1]." if proposing else "."),
        ),
    ]
    if proposing:
        options.append(
            click.option("--steps-up-from", help="The assignment this one steps up from.")
        )
        options.append(
            click.option(
                "--template",
                help="Fill the options from this template of the clinic's library; any option "
                "given overrides it.",
            )
        )
        options.append(click.option("--protocol", help="Propose the first step of this protocol."))
        options.append(
            click.option(
                "--next",
                "next_of",
                metavar="ID",
                help="Propose the next step of homework ID's protocol, as a step-up of ID.",
            )
        )
    options.append(
        click.option(
            "--observer",
            "observers",
            multiple=True,
            help="A collaborator asked to observe; repeatable.",
        )
    )
    options.append(ALLOW_PAST_DUE)

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


@click.command("assign")
@click.argument("code")
@click.argument("task_type", required=False)
@homework_options(proposing=True)
@field_options
@write_command
@click.pass_obj
def assign(
    session: Session,
    code: str,
    task_type: str | None,
    pairs: tuple[str, ...],
    fields_file: str | None,
    request_key: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Propose homework of TASK_TYPE (or --template) for client CODE (parameters as --field)."""
    from between.commands.templates import fill_from_template

    parameters = parse_fields(pairs, fields_file)
    name = options.pop("template")
    protocol, next_of = options.pop("protocol"), options.pop("next_of")
    recorded: dict[str, Any] = {}
    if protocol or next_of:
        from between.commands.protocols import protocol_next, protocol_start
        from between.engine.errors import InvalidInput

        if sum(bool(x) for x in (name, protocol, next_of)) > 1:
            raise InvalidInput("give one of --template, --protocol and --next")
        if protocol:
            name, recorded = protocol_start(session, protocol)
        else:
            if options["steps_up_from"]:
                raise InvalidInput("--next steps up from ID; leave out --steps-up-from")
            name, options["steps_up_from"], recorded = protocol_next(session, next_of)
    task_type, parameters, made = fill_from_template(session, name, task_type, options, parameters)
    outcome = session.app().propose(
        code,
        task_type,
        parameters=parameters,
        observers=list(options.pop("observers")),
        actor=session.actor,
        request_key=request_key,
        **made,
        **recorded,
        **options,
    )
    record = outcome.record
    proposed = _(
        "proposed %(id)s: %(task_type)s for %(client)s, due %(due)s",
        id=short(record["id"]),
        task_type=record["task_type"],
        client=record["client"],
        due=record["due"],
    )
    report(outcome, as_json, proposed)


@click.command("adjust")
@click.argument("assignment")
@homework_options(proposing=False)
@field_options
@write_command
@click.pass_obj
def adjust(
    session: Session,
    assignment: str,
    pairs: tuple[str, ...],
    fields_file: str | None,
    request_key: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Change a proposal together with the client, before they agree."""
    allow_past_due = options.pop("allow_past_due")
    changes = {k: v for k, v in options.items() if v not in (None, ())}
    if "observers" in changes:
        changes["observers"] = list(changes["observers"])
    parameters = parse_fields(pairs, fields_file)
    if parameters:
        changes["parameters"] = parameters
    outcome = session.app().adjust(
        assignment,
        changes,
        actor=session.actor,
        request_key=request_key,
        allow_past_due=allow_past_due,
    )
    changed = ", ".join(sorted(changes))
    adjusted = _("adjusted %(id)s: %(changed)s", id=short(outcome.record["id"]), changed=changed)
    report(outcome, as_json, adjusted)


@click.command("agree")
@click.argument("assignment")
@click.option("--confidence", type=int, help="The client's confidence they will do it, 0–10.")
@click.option("--obstacles", default="", help="What might get in the way.")
@write_command
@click.pass_obj
def agree(
    session: Session,
    assignment: str,
    confidence: int | None,
    obstacles: str,
    request_key: str | None,
    as_json: bool,
) -> None:
    """Record that the client agreed to the homework."""
    outcome = session.app().agree(
        assignment,
        confidence=confidence,
        obstacles=obstacles,
        actor=session.actor,
        request_key=request_key,
        via="cli",
    )
    record = outcome.record
    report(
        outcome, as_json, _("agreed %(id)s, due %(due)s", id=short(record["id"]), due=record["due"])
    )


@click.command("submit")
@click.argument("assignment")
@click.option(
    "--by", default="client", show_default=True, help="'client' or a collaborator's name."
)
@click.option("--occurred-at", help="When it happened (default: now), e.g. 2026-11-25T18:30.")
@click.option("--prompt", is_flag=True, help="Ask for each field (the default at a terminal).")
@field_options
@write_command
@click.pass_obj
def submit(
    session: Session,
    assignment: str,
    by: str,
    occurred_at: str | None,
    prompt: bool,
    pairs: tuple[str, ...],
    fields_file: str | None,
    request_key: str | None,
    as_json: bool,
) -> None:
    """Record an entry (fields as --field, a JSON file, or answered at prompts)."""
    app = session.app()
    fields = parse_fields(pairs, fields_file)
    if prompt or (not fields and sys.stdin.isatty()):
        if app.read_only:  # say so before asking for fields that cannot be recorded
            from between.engine.errors import StoreError

            raise StoreError(app.read_only_reason)
        fields = {**fields, **prompt_fields(app, assignment)}
    outcome = app.submit(
        assignment,
        fields,
        by=by,
        occurred_at=occurred_at,
        actor=session.actor,
        request_key=request_key,
    )
    record = outcome.record
    recorded = _(
        "entry %(entry)s recorded on %(id)s (%(done)s of %(expected)s)",
        entry=short(outcome.result),
        id=short(record["id"]),
        done=record["entries"],
        expected=record["expected_entries"],
    )
    report(outcome, as_json, recorded)


@click.command("review")
@click.argument("assignment")
@click.option("--quantity", required=True, type=int, help="How much was done, 0–4.")
@click.option("--quality", required=True, type=int, help="How well it was done, 0–4.")
@click.option("--difficulty", required=True, type=int, help="How hard it was for the client, 0–4.")
@click.option(
    "--next-step",
    required=True,
    type=ChoiceOf("between.engine.aggregates.assignments", "NEXT_STEPS"),
)
@click.option("--obstacles", default="", help="What got in the way.")
@click.option("--notes", default="")
@click.option("--due", "--next-due", "next_due", help="With 'continue': the new due date.")
@ALLOW_PAST_DUE
@write_command
@click.pass_obj
def review(
    session: Session, assignment: str, request_key: str | None, as_json: bool, **options: Any
) -> None:
    """Review the homework at the start of a session."""
    outcome = session.app().review(
        assignment, actor=session.actor, request_key=request_key, **options
    )
    record = outcome.record
    reviewed = _(
        "reviewed %(id)s: next step %(next_step)s (now %(status)s)",
        id=short(record["id"]),
        next_step=options["next_step"],
        status=record["status"],
    )
    report(outcome, as_json, reviewed)


def ending(name: str, method: str, done: str, summary: str, **reason: Any) -> click.Command:
    """A command that ends homework for a reason: ``between NAME ASSIGNMENT --reason …``;
    ``done`` is what it prints, a message (marked with ``N_``) with an ``%(id)s`` placeholder."""

    @click.command(name, help=summary)
    @click.argument("assignment")
    @click.option("--reason", **reason)
    @write_command
    @click.pass_obj
    def command(
        session: Session, assignment: str, reason: str, request_key: str | None, as_json: bool
    ) -> None:
        way = {"via": "cli"} if name == "decline" else {}  # the client's word: its way in
        outcome = getattr(session.app(), method)(
            assignment, reason=reason, actor=session.actor, request_key=request_key, **way
        )
        report(outcome, as_json, _(done, id=short(outcome.record["id"])))

    return command


decline = ending(
    "decline",
    "decline",
    N_("declined %(id)s"),
    "Record that the client declined the homework, and why.",
    required=True,
    help="The client's reason.",
)
cancel = ending(
    "cancel",
    "cancel",
    N_("cancelled %(id)s"),
    "Withdraw homework that is proposed or agreed.",
    required=True,
)
close = ending(
    "close",
    "close_assignment",
    N_("closed %(id)s"),
    "Close agreed homework; nothing more can be recorded on it.",
    default="done",
    show_default=True,
)


def register(cli: click.Group) -> None:
    for command in (assign, adjust, agree, decline, submit, review, cancel, close):
        cli.add_command(command)
