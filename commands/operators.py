"""``between operators …``: who may act on this store, in which role, and is it enforced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from between.commands.inputs import ChoiceOf, json_option
from between.commands.output import print_json, table, yes_no
from between.language import N_
from between.language import gettext as _

#: The operator list's columns: (title, marked for translation; key).
OPERATOR_COLUMNS = [(N_("NAME"), "name"), (N_("ROLE"), "role")]

if TYPE_CHECKING:
    from between.commands.session import Session


def list_operators(session: Session, as_json: bool) -> None:
    """Print the operator list and whether it is required."""
    listed = session.app().operators()
    if as_json:
        print_json(listed)
        return
    click.echo(_("operators required: %(required)s", required=yes_no(listed["required"])))
    table(listed["operators"], OPERATOR_COLUMNS)


@click.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=ChoiceOf("between.engine.aggregates.operators", "ROLES")
)
@click.pass_obj
def add(session: Session, name: str, role: str) -> None:
    """Let NAME act with ROLE (or change their role)."""
    session.app().set_operator(name, role, actor=session.actor)
    if role[:1] in "aeiou":
        click.echo(_("%(name)s is now an %(role)s", name=name, role=role))
    else:
        click.echo(_("%(name)s is now a %(role)s", name=name, role=role))


@click.command("remove")
@click.argument("name")
@click.pass_obj
def remove(session: Session, name: str) -> None:
    """Stop NAME acting on this store."""
    session.app().remove_operator(name, actor=session.actor)
    click.echo(_("%(name)s removed", name=name))


@click.command("require")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_obj
def require(session: Session, state: str) -> None:
    """Require (on) or stop requiring (off) that actors be listed operators."""
    session.app().require_operators(state == "on", actor=session.actor)
    if state == "on":
        click.echo(_("listed operators required"))
    else:
        click.echo(_("listed operators no longer required"))


def register(cli: click.Group) -> None:
    @cli.group("operators", invoke_without_command=True)
    @json_option
    @click.pass_context
    def operators(ctx: click.Context, as_json: bool) -> None:
        """Who may act on this store, and whether that is enforced."""
        if not ctx.invoked_subcommand:
            list_operators(ctx.obj, as_json)

    for command in (add, remove, require):
        operators.add_command(command)
