"""What commands take in: shared options, domain choices, and fields (options, file, prompts)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import click

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
            self.fail(f"{value!r} is not a usable path ({e})", param, ctx)


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
            raise InvalidInput(f"--field {pair!r} must look like name=value")
        fields[key.strip()] = value
    return fields


def _read_fields_file(fields_file: str) -> dict[str, Any]:
    """A JSON object from a file, or standard input for '-', refused when too large."""
    from between.engine.errors import InvalidInput
    from between.engine.validate import MAX_PAYLOAD

    name = "standard input" if fields_file == "-" else f"fields file {shown(fields_file)}"
    if fields_file == "-":
        raw = sys.stdin.buffer.read(MAX_PAYLOAD + 1)
        if len(raw) > MAX_PAYLOAD:
            raise InvalidInput(f"fields on standard input exceed {MAX_PAYLOAD:,} bytes")
    else:
        raw = _read_limited(Path(fields_file), name, MAX_PAYLOAD)
    import json  # here, not at start-up (``--help`` needs no JSON)

    try:
        loaded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidInput(f"{name} is not UTF-8 JSON: {e}") from None
    except RecursionError:
        loaded = None
    if loaded is None or depth(loaded) > MAX_DEPTH:
        raise InvalidInput(f"{name} is nested more than {MAX_DEPTH} levels deep; fields are flat")
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{name} must hold a JSON object of fields")
    return loaded


def _read_limited(path: Path, name: str, limit: int) -> bytes:
    """A file's bytes, refused (one line) when missing, a folder, unreadable or too large."""
    from between.engine.errors import InvalidInput

    try:
        if path.is_dir():
            raise InvalidInput(f"{name} is a folder; give a JSON file")
        if not path.is_file():
            raise InvalidInput(f"{name} does not exist")
        size = path.stat().st_size
        if size > limit:
            raise InvalidInput(f"{name} is {size:,} bytes; the limit is {limit:,} bytes")
        return path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{name} cannot be read: {e.strerror}") from None


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
    click.echo(f"Entry for {kind.title} ({record['id'][:8]}); leave optional fields empty.")
    fields: dict[str, Any] = {}
    for f in kind.entries.fields:
        label = f"{f.name} ({f.type}{', optional' if not f.required else ''})"
        while True:
            value = click.prompt(label, default="", show_default=False)
            if not value.strip():
                if not f.required:
                    break
                click.echo(f"  {f.name} is required")
                continue
            try:
                f.coerce(value)
            except (FieldError, ValueError) as e:
                click.echo(f"  {f.name} {e}")
                continue
            fields[f.name] = value
            break
    return fields
