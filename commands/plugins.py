"""What plugins bring: ``between types [show NAME]`` and ``between plugins``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import own_words, print_json, table
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session

#: The heading of each part of a task type's schema in ``types show``.
SCHEMA_HEADINGS = {
    "parameters": N_("parameters (schema version %(version)s):"),
    "entries": N_("entries (schema version %(version)s):"),
}


def list_types(plugins: Any, as_json: bool) -> None:
    """Every task type with its plugin; definitions that were skipped go to standard error."""
    rows = [
        {**t.describe(), "plugin": plugins.task_type_owners[name]}
        for name, t in sorted(plugins.task_types.items())
    ]
    if as_json:
        print_json({"task_types": rows, "problems": plugins.problems})
        return
    titled = [{**row, "title": own_words(row["title"])} for row in rows]
    columns = [(N_("NAME"), "name"), (N_("CATEGORY"), "category"), (N_("TITLE"), "title")]
    table(titled, [*columns, (N_("PLUGIN"), "plugin")])
    for problem in plugins.problems:
        click.secho(_("skipped: %(problem)s", problem=problem), err=True, fg="yellow")


@click.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_type(session: Session, name: str, as_json: bool) -> None:
    """Show a task type's parameter and entry fields."""
    described = session.plugins().task_type(name).describe()
    if as_json:
        print_json(described)
        return
    title = own_words(described["title"])
    click.echo(f"{described['name']}: {title} ({described['category']})")
    click.echo(described["description"])
    for part in ("parameters", "entries"):
        schema = described[part]
        click.echo()
        click.echo(_(SCHEMA_HEADINGS[part], version=schema["version"]))
        for f in schema["fields"]:
            click.echo(f"  {f['name']:<26} {describe_field(f)}  {f.get('help', '')}".rstrip())


def describe_field(f: dict) -> str:
    """A field's type, whether it is required, its range and its choices."""
    bits = [f["type"], _("required") if f["required"] else _("optional")]
    if "minimum" in f or "maximum" in f:
        bits.append(f"{f.get('minimum', '')}–{f.get('maximum', '')}")
    if "choices" in f:
        bits.append("|".join(f["choices"]))
    return ", ".join(bits)


@click.command("plugins")
@json_option
@click.pass_obj
def list_plugins(session: Session, as_json: bool) -> None:
    """List loaded plugins, their versions and the hooks they implement."""
    rows = session.plugins().describe()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["hooks"] = ", ".join(h.removeprefix("between_") for h in row["hooks"])
    table(
        rows,
        [("PLUGIN", "name"), ("VERSION", "version"), ("SOURCE", "source"), ("HOOKS", "hooks")],
    )


def register(cli: click.Group) -> None:
    @cli.group("types", invoke_without_command=True)
    @json_option
    @click.pass_context
    def types(ctx: click.Context, as_json: bool) -> None:
        """List task types (the kinds of homework)."""
        if not ctx.invoked_subcommand:
            list_types(ctx.obj.plugins(), as_json)

    types.add_command(show_type)
    cli.add_command(list_plugins)
