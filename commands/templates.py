"""The clinic's homework library: ``between template list|show``, and ``assign --template``.

Override rule for ``assign --template NAME``: the template fills every option; a scalar option
given on the command line replaces the template's value, ``--field k=v`` (and
``--fields-file``) replaces single parameters, ``--observer`` adds observers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from between.commands.inputs import json_option
from between.commands.output import library_heading, own_words, print_json, table, warn_problems
from between.language import N_
from between.language import gettext as _

if TYPE_CHECKING:
    from between.commands.session import Session

#: ``assign``'s options that must be given when no template fills them.
REQUIRED = ("instructions", "rationale", "stage", "difficulty", "due")


def fill_from_template(
    session: Session,
    name: str | None,
    task_type: str | None,
    options: dict[str, Any],
    parameters: dict[str, Any],
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Fill ``options`` in place from template ``name`` (command-line values win); the task
    type, the parameters, and the template's name and version for the event."""
    ctx = click.get_current_context()
    if name is None:
        if task_type is None:
            task_type_param = _param(ctx, "task_type")
            raise click.MissingParameter(ctx=ctx, param=task_type_param, param_hint="'TASK_TYPE'")
        for key in REQUIRED:
            if options[key] is None:
                raise click.MissingParameter(ctx=ctx, param=_param(ctx, key))
        if options["expected_entries"] is None:
            options["expected_entries"] = 1
        return task_type, parameters, {}
    from between.engine.errors import InvalidInput

    template = session.library().get(name)
    if task_type is not None and task_type != template.task_type:
        raise InvalidInput(
            "TASK_TYPE %(given)s differs from template %(template)s's task type "
            "%(quoted)s; leave TASK_TYPE out, or give %(task_type)s",
            given=repr(task_type),
            template=name,
            quoted=repr(template.task_type),
            task_type=template.task_type,
        )
    filled = {
        "instructions": template.instructions,
        "rationale": template.rationale,
        "stage": template.stage,
        "difficulty": template.difficulty,
        "due": f"+{template.due_days}",
        "expected_entries": template.expected_entries,
    }
    for key, value in filled.items():
        if options.get(key) is None:
            options[key] = value
    made = {"template": template.name, "template_version": template.version}
    return template.task_type, {**template.parameters, **parameters}, made


def _param(ctx: click.Context, name: str) -> click.Parameter | None:
    return next((p for p in ctx.command.params if p.name == name), None)


#: ``template list``'s columns: (title, marked for translation; key).
TEMPLATE_COLUMNS = [
    (N_("NAME"), "name"),
    (N_("TASK TYPE"), "task_type"),
    (N_("STAGE"), "stage"),
    (N_("VERSION"), "version"),
    (N_("TITLE"), "title"),
]
#: The fields of a template written in words (found by ``make messages``, so translated).
WORDED = ("title", "summary")
#: The fields ``template show`` prints when set, each with its label.
SHOWN_FIELDS = (
    ("title", N_("title:")),
    ("summary", N_("summary:")),
    ("task_type", N_("task type:")),
    ("stage", N_("stage:")),
    ("difficulty", N_("difficulty:")),
    ("expected_entries", N_("expected entries:")),
)


@click.command("list")
@json_option
@click.pass_obj
def list_templates(session: Session, as_json: bool) -> None:
    """List the clinic's homework templates, and the ones that cannot be used."""
    library = session.library()
    rows, problems = [], library.problems()
    for name in library.names():
        template = library.templates.get(name)
        if template is None or library.problem(name):
            continue
        rows.append({**template.describe(), "source": library.sources[name]})
    if as_json:
        print_json({"templates": rows, "problems": problems})
        return
    table([{**row, "title": own_words(row.get("title"))} for row in rows], TEMPLATE_COLUMNS)
    warn_problems(problems)


@click.command("show")
@click.argument("name")
@json_option
@click.pass_obj
def show_template(session: Session, name: str, as_json: bool) -> None:
    """Show one homework template: what it assigns, and its version."""
    library = session.library()
    described = {**library.get(name).describe(), "source": library.sources[name]}
    if as_json:
        print_json(described)
        return
    library_heading(described)
    for key, label in SHOWN_FIELDS:  # the library's own words are read in the current language
        if described[key] is not None:
            value = described[key]
            _show_field(_(label), own_words(value) if key in WORDED else value)
    due = _("+%(days)s days", days=described["due_days"])
    _show_field(_("due:"), due)
    _show_field(_("instructions:"), own_words(described["instructions"]))
    _show_field(_("rationale:"), own_words(described["rationale"]))
    for key, value in sorted(described["parameters"].items()):
        _show_field(_("parameter:"), f"{key}={value}")


def _show_field(label: str, value: Any) -> None:
    """One line of ``template show``: the label, padded (a longer one, as a translation may
    be, keeps a space before its value), then the value."""
    click.echo(f"  {label:<17} {value}")


def register(cli: click.Group) -> None:
    @cli.group("template")
    def template() -> None:
        """The clinic's homework templates (see docs/library.md)."""

    template.add_command(list_templates)
    template.add_command(show_template)
