"""What commands take in: shared options, domain choices, and fields (options, file, prompts)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import click

from between.language import gettext as _

F = TypeVar("F", bound=Callable[..., Any])

#: How deeply a fields file may nest lists and objects (fields are flat: a list is one level).
MAX_DEPTH = 16

#: ``--json`` on a reading command (write commands get theirs from ``write_command``).
json_option = click.option("--json", "as_json", is_flag=True)


class ChoiceOf(click.Choice):
    """A choice among a domain constant, imported only when a value or help needs it.

    ``ChoiceOf("between.engine.aggregates.assignments", "NEXT_STEPS")`` keeps the event machinery
    out
    of start-up while the choices stay defined once, in the engine.
    """

    def __init__(self, module: str, name: str) -> None:
        self.source = (module, name)
        self.case_sensitive = True

    @cached_property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        module, name = self.source
        return tuple(getattr(importlib.import_module(module), name))


class PathText(click.Path):
    """A path option: click's, but a value no file system can hold is a usage error, not a crash
    (``os.stat`` raises ``ValueError`` for a NUL character)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except ValueError as e:
            self.fail(
                _("%(value)s is not a usable path (%(error)s)", value=repr(value), error=e),
                param,
                ctx,
            )


def write_command(func: F) -> F:
    """Options every write command shares: --idempotency-key and --json."""
    func = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)
    return click.option(
        "--idempotency-key",
        "request_key",
        help="Repeat-safe key: running the command again with it records nothing new.",
    )(func)


def field_options(func: F) -> F:
    """``--field NAME=VALUE`` (repeatable) and ``--fields-file``; see ``parse_fields``."""
    func = click.option(
        "--fields-file", help="A JSON object of fields ('-' reads standard input)."
    )(func)
    return click.option(
        "--field", "pairs", multiple=True, metavar="NAME=VALUE", help="A field; repeatable."
    )(func)


def parse_fields(pairs: tuple[str, ...], fields_file: str | None) -> dict[str, Any]:
    """Fields from ``--fields-file`` (JSON object) then ``--field key=value`` options."""
    from between.engine.errors import InvalidInput

    fields: dict[str, Any] = _read_fields_file(fields_file) if fields_file else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("--field %(pair)s must look like name=value", pair=repr(pair))
        fields[key.strip()] = value
    return fields


def _read_fields_file(fields_file: str) -> dict[str, Any]:
    """A JSON object from a file, or standard input for '-', refused when too large."""
    from between.engine.errors import InvalidInput
    from between.engine.validate import MAX_PAYLOAD

    on_stdin = fields_file == "-"
    file = shown(fields_file)
    if on_stdin:
        raw = sys.stdin.buffer.read(MAX_PAYLOAD + 1)
        if len(raw) > MAX_PAYLOAD:
            limit = f"{MAX_PAYLOAD:,}"
            raise InvalidInput("fields on standard input exceed %(limit)s bytes", limit=limit)
    else:
        raw = _read_limited(Path(fields_file), file, MAX_PAYLOAD)
    import json  # here, not at start-up (``--help`` needs no JSON)

    try:
        loaded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        if on_stdin:
            raise InvalidInput("standard input is not UTF-8 JSON: %(error)s", error=e) from None
        raise InvalidInput(
            "fields file %(file)s is not UTF-8 JSON: %(error)s", file=file, error=e
        ) from None
    except RecursionError:
        loaded = None
    if loaded is None or depth(loaded) > MAX_DEPTH:
        if on_stdin:
            raise InvalidInput(
                "standard input is nested more than %(depth)s levels deep; fields are flat",
                depth=MAX_DEPTH,
            )
        raise InvalidInput(
            "fields file %(file)s is nested more than %(depth)s levels deep; fields are flat",
            file=file,
            depth=MAX_DEPTH,
        )
    if not isinstance(loaded, dict):
        if on_stdin:
            raise InvalidInput("standard input must hold a JSON object of fields")
        raise InvalidInput("fields file %(file)s must hold a JSON object of fields", file=file)
    return loaded


def _read_limited(path: Path, file: str, limit: int) -> bytes:
    """A fields file's bytes (``file`` names it), refused (one line) when missing, a folder,
    unreadable or too large."""
    from between.engine.errors import InvalidInput

    try:
        if path.is_dir():
            raise InvalidInput("fields file %(file)s is a folder; give a JSON file", file=file)
        if not path.is_file():
            raise InvalidInput("fields file %(file)s does not exist", file=file)
        size = path.stat().st_size
        if size > limit:
            raise InvalidInput(
                "fields file %(file)s is %(size)s bytes; the limit is %(limit)s bytes",
                file=file,
                size=f"{size:,}",
                limit=f"{limit:,}",
            )
        return path.read_bytes()
    except OSError as e:
        raise InvalidInput(
            "fields file %(file)s cannot be read: %(reason)s", file=file, reason=e.strerror
        ) from None


def shown(text: str, limit: int = 80) -> str:
    """A user's value for a message, shortened to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a JSON value (0 for a plain value)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                break
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((v, level + 1) for v in inner)
    return deepest


def prompt_fields(app: Any, assignment: str) -> dict[str, Any]:
    """Ask for each entry field, re-asking until the value is valid."""
    from between.engine.contracts.task_types import FieldError

    record = app.show(assignment)
    kind = app.plugins.task_type(record["task_type"])
    click.echo(
        _(
            "Entry for %(title)s (%(id)s); leave optional fields empty.",
            title=kind.title,
            id=record["id"][:8],
        )
    )
    fields: dict[str, Any] = {}
    for f in kind.entries.fields:
        label = f"{f.name} ({f.type})"
        if not f.required:
            label = _("%(name)s (%(type)s, optional)", name=f.name, type=f.type)
        while True:
            value = click.prompt(label, default="", show_default=False)
            if not value.strip():
                if not f.required:
                    break
                click.echo(_("  %(name)s is required", name=f.name))
                continue
            try:
                f.coerce(value)
            except (FieldError, ValueError) as e:
                click.echo(f"  {f.name} {e}")
                continue
            fields[f.name] = value
            break
    return fields
