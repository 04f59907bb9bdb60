"""How commands print: JSON, write outcomes, aligned tables, assignments and progress."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any

import click

from between.language import N_
from between.language import gettext as _

#: A homework table's columns: (title, marked for translation and worded when printed; key).
ASSIGNMENT_COLUMNS = [
    (N_("ID"), "id"),
    (N_("CLIENT"), "client"),
    (N_("TYPE"), "task_type"),
    (N_("STAGE"), "stage"),
    (N_("STATUS"), "status"),
    (N_("DUE"), "due"),
    (N_("ENTRIES"), "progress"),
    (N_("DAYS LATE"), "days_late"),
]


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and ids as text)."""
    import json  # here, not at start-up (``--help`` needs no JSON)

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def short(record_id: str) -> str:
    """The first eight characters of an id: enough to name it on the command line."""
    return record_id[:8]


def report(outcome: Any, as_json: bool, what: str) -> None:
    """Print a write command's outcome."""
    if as_json:
        print_json(
            {"result": outcome.result, "repeated": outcome.repeated, "record": outcome.record}
        )
    elif outcome.repeated:
        click.echo(_("already recorded earlier with this idempotency key: %(what)s", what=what))
    else:
        click.echo(what)


#: Rows ``list`` and ``client list`` show unless given ``--limit N`` or ``--all``.
DEFAULT_LIMIT = 30
#: Rows a streamed table is aligned on: its columns are as wide as the widest of these.
ALIGNED_ROWS = 1000


def table(rows: Iterable[dict], columns: Sequence[tuple[str, str]]) -> None:
    """Print rows as an aligned text table (header, then one line per row); the column
    titles are worded in the current language.

    Rows are read as they are printed: the columns are as wide as the widest cell of the
    first ``ALIGNED_ROWS`` rows, and a longer cell further down widens only its own line — so
    a table of every row (``list --all``) streams in constant memory.
    """
    lines = ([cell(row.get(key)) for _title, key in columns] for row in rows)
    first = [[_(title) for title, _key in columns], *islice(lines, ALIGNED_ROWS)]
    if len(first) == 1:
        click.echo(_("(none)"))
        return
    widths = [max(len(r[i]) for r in first) for i in range(len(columns))]
    for r in chain(first, lines):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def paged(command: Callable) -> Callable:
    """``--limit N`` and ``--all`` for a listing command (its function takes both)."""
    command = click.option(
        "--all", "every", is_flag=True, help="Every row, printed as it is read."
    )(command)
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        help=f"At most this many rows (default {DEFAULT_LIMIT}).",
    )(command)


def listing(
    page: Callable[[int], list[dict]],
    count: Callable[[], int],
    every_row: Callable[[], Iterable[dict]],
    print_rows: Callable[[Iterable[dict]], None],
    *,
    limit: int | None,
    every: bool,
    as_json: bool,
) -> None:
    """Print a listing: its first ``limit`` rows (``DEFAULT_LIMIT`` unless given), saying on
    standard error how many there are when there are more; or, with ``every``, every row as
    it is read. JSON is a plain list either way."""
    if every and limit is not None:
        raise click.UsageError(_("give --limit N or --all, not both"))
    if every:
        (stream_json_array if as_json else print_rows)(every_row())
        return
    limit = limit or DEFAULT_LIMIT
    rows = page(limit + 1)  # one more than shown: whether there are more, without a count
    shown = rows[:limit]
    (print_json if as_json else print_rows)(shown)
    if len(rows) > limit:
        total = count()
        more = _(
            "showing %(shown)s of %(total)s; --limit N or --all for more",
            shown=format(limit, ","),
            total=format(total, ","),
        )
        click.echo(more, err=True)


def cell(value: Any) -> str:
    """One table cell: '-' for nothing, yes/no for flags, ids shortened."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return yes_no(value)
    text = str(value)
    return short(text) if len(text) == 36 and text.count("-") == 4 else text


def yes_no(flag: bool) -> str:
    """'yes' or 'no', in the current language."""
    return _("yes") if flag else _("no")


def step_of(step: Any, steps: Any) -> str:
    """A protocol position: 'step 2 of 4', or 'step 2' when the number of steps is unknown."""
    if steps:
        return _("step %(step)s of %(steps)s", step=step, steps=steps)
    return _("step %(step)s", step=step)


def assignment_table(rows: Iterable[dict]) -> None:
    """Homework rows as a table, entries shown as done/expected (streamed, as ``table``)."""
    table(_with_progress(rows), ASSIGNMENT_COLUMNS)


def _with_progress(rows: Iterable[dict]) -> Iterator[dict]:
    for r in rows:
        yield {**r, "progress": f"{r['entries']}/{r['expected_entries']}"}


def print_assignment(d: dict) -> None:
    """One assignment in full: what, why, agreement, entries, reviews and the summary."""
    click.echo(
        _(
            "%(id)s  %(task_type)s for %(client)s  [%(status)s]",
            id=d["id"],
            task_type=d["task_type"],
            client=d["client"],
            status=d["status"],
        )
    )
    overdue = _(" — OVERDUE by %(days)s day(s)", days=d["days_late"]) if d["overdue"] else ""
    click.echo(
        "  "
        + _(
            "stage %(stage)s, difficulty %(difficulty)s, due %(due)s",
            stage=d["stage"],
            difficulty=d["difficulty"],
            due=d["due"],
        )
        + overdue
    )
    click.echo("  " + _("instructions: %(text)s", text=d["instructions"]))
    click.echo("  " + _("rationale:    %(text)s", text=d["rationale"]))
    if d["parameters"]:
        given = pairs(d["parameters"], "{}={}", ", ")
        click.echo("  " + _("parameters:   %(parameters)s", parameters=given))
    if d["steps_up_from"]:
        click.echo("  " + _("steps up from %(id)s", id=short(d["steps_up_from"])))
    if d.get("template"):
        click.echo(
            "  "
            + _(
                "template:     %(template)s (version %(version)s)",
                template=d["template"],
                version=d.get("template_version"),
            )
        )
    if d.get("protocol"):
        click.echo("  " + _protocol_line(d))
    for agreed in d.get("agreements") or ([d["agreement"]] if d["agreement"] else []):
        click.echo("  " + _agreement_line(agreed))
    if d["decline_reason"]:
        click.echo("  " + _("declined: %(reason)s", reason=d["decline_reason"]))
    click.echo(
        "  "
        + _("entries: %(done)s of %(expected)s", done=d["entries"], expected=d["expected_entries"])
    )
    for e in d["entry_list"]:
        fields = pairs(e["fields"], "{}: {}", "; ")
        line = _(
            "%(at)s by %(by)s: %(fields)s", at=e["occurred_at"][:16], by=e["by"], fields=fields
        )
        click.echo("    " + line)
    for r in d["review_list"]:
        notes = f"; {r['notes']}" if r.get("notes") else ""
        click.echo("  " + _review_line(r) + notes)
    for n in d.get("client_notes_list") or ():
        by = _("the client") if n["by"] == "client" else n["by"]
        text = f": {n['text']}" if n["text"] else ""
        line = _(
            "note %(at)s from %(by)s (%(kind)s, via %(via)s)",
            at=n["at"][:10],
            by=by,
            kind=n["kind"],
            via=n["via"],
        )
        click.echo("  " + line + text)
    summary = d["summary"]
    unread = isinstance(summary, dict) and "unavailable" in summary
    shown = _("unavailable") if unread else plain(summary)
    click.echo("  " + _("summary: %(summary)s", summary=shown))
    done = d["completion"]
    state = {True: _("yes"), False: _("no")}.get(done.get("complete"), _("unknown"))
    click.echo("  " + _("complete: %(state)s (%(rule)s)", state=state, rule=done.get("rule")))
    for follow in d["follow_ups"]:
        click.echo("  " + _("stepped up to %(id)s", id=short(follow)))


def _protocol_line(d: dict) -> str:
    """'protocol: NAME, step 2 of 4; next: TEMPLATE' (or '; the last step')."""
    following = d.get("next_step")
    position = step_of(d["protocol_step"], d.get("protocol_steps"))
    line = _("protocol:     %(protocol)s, %(position)s", protocol=d["protocol"], position=position)
    return line + (_("; next: %(step)s", step=following) if following else _("; the last step"))


def _agreement_line(agreed: dict) -> str:
    """When the client agreed, how confident they were and what might get in the way."""
    confidence = agreed["confidence"]
    values = {
        "confidence": _("not given") if confidence is None else confidence,
        "obstacles": agreed["obstacles"] or "-",
    }
    if agreed.get("at"):
        return _(
            "agreed %(at)s: confidence %(confidence)s, obstacles: %(obstacles)s",
            at=agreed["at"][:10],
            **values,
        )
    return _("agreed: confidence %(confidence)s, obstacles: %(obstacles)s", **values)


def _review_line(r: dict) -> str:
    """One review's ratings and next step."""
    return _(
        "review %(at)s: quantity %(quantity)s, quality %(quality)s, difficulty %(difficulty)s, "
        "next step %(next_step)s",
        at=r["at"][:10],
        quantity=r["quantity"],
        quality=r["quality"],
        difficulty=r["difficulty"],
        next_step=r["next_step"] or _("not given"),
    )


def own_words(text: str | None) -> str:
    """A task type's or library's own words (a title, instructions) in the current language —
    ``make messages`` finds them where they are written — and nothing as ''."""
    return _(text) if text else ""


def library_heading(described: dict) -> None:
    """The first line of ``template show`` and ``protocol show``: name, version, source."""
    click.echo(
        _(
            "%(name)s  version %(version)s  (%(source)s)",
            name=described["name"],
            version=described["version"],
            source=described["source"],
        )
    )


def warn_problems(problems: Iterable[str]) -> None:
    """One warning line on standard error for each library entry that cannot be used."""
    for problem in problems:
        click.secho(_("problem: %(problem)s", problem=problem), err=True, fg="yellow")


def warn_unavailable(detail: dict) -> None:
    """One warning line for each part of ``show`` a plugin could not describe."""
    from between.engine.contracts.guarded import unavailable

    for line in unavailable(detail):
        warning = _("warning: %(line)s (shown as unavailable)", line=line)
        click.secho(warning, err=True, fg="yellow")


def pairs(value: Any, shape: str, sep: str) -> str:
    """A dict's items as plain text (``plain``), leaving out empty ones; a sealed value that
    did not open (a marker) as it is."""
    if not isinstance(value, dict):
        return str(value)
    return sep.join(shape.format(k, plain(v)) for k, v in value.items() if not _empty(v))


def plain(value: Any) -> str:
    """A value in plain words, never a Python representation: a mapping as ``client 2, ana 1``
    (names with spaces for underscores, empty values left out), a list joined by commas, a
    flag as yes/no, nothing as '-'."""
    if _empty(value):
        return "-"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dict):
        return pairs({str(k).replace("_", " "): v for k, v in value.items()}, "{} {}", ", ")
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(v) for v in value if not _empty(v))
    return str(value)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list | tuple | set | frozenset) and not value)


def stream_json_array(rows: Iterable[dict]) -> None:
    """Print a JSON array one element at a time (memory stays flat)."""
    import json

    click.echo("[", nl=False)
    for n, row in enumerate(rows):
        click.echo(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False), nl=False)
    click.echo("\n]")


def progress(total: int, label: str) -> Any:
    """A progress bar on standard error, only when it is a terminal and the run is long."""
    if total < 50_000 or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    return click.progressbar(length=total, label=label, file=sys.stderr)


class QuickContext(click.Context):
    """click's context, whose help is as wide as click makes it, found without importing
    ``shutil`` (which imports the compression modules: a tenth of ``--help``'s time)."""

    def make_formatter(self) -> click.HelpFormatter:
        from click import formatting

        width = self.terminal_width
        if width is None and formatting.FORCED_WIDTH is None:
            width = max(min(_terminal_columns(), self.max_content_width or 80) - 2, 50)
        return self.formatter_class(width=width, max_width=self.max_content_width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    import os
    import sys

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80
