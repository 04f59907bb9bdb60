"""The import file (docs/import.md): JSON Lines records, or CSV rows of one task type's entries.

``ImportFile.open`` checks the file as a whole before anything is stored — it exists, it is
UTF-8 text with no line over 1 MiB (``importing.source``, which also reads a stream once),
a CSV header names the task type's fields — and notes its digest and line count
(``InvalidInput`` otherwise: exit 2). ``records(after)`` then yields ``(line, record)`` for each
record that starts after line ``after``: a record is a dict checked against ``RECORD_TYPES``
by ``check_record``, or a ``BadRecord`` saying why its line is not one.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeGuard

from between.engine.errors import InvalidInput
from between.importing.source import MAX_LINE, Source
from between.language import N_, Word

#: What a change to homework may give, as ``between assign`` and ``between adjust`` name it.
HOMEWORK = ("instructions", "rationale", "stage", "difficulty", "due", "entries", "fields")
#: Each record type: the keys it must have, and the keys it may have (besides type and id).
RECORD_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "client": (("code", "name", "therapist"), ()),
    "collaborator": (("client", "name", "relationship"), ()),
    "contacts": (("client",), ("person", "email", "phone", "webhook")),
    "consent": (("client", "channel"), ("person", "withdraw")),
    "assignment": (
        ("client", "task_type", "stage", "difficulty", "due", "instructions", "rationale"),
        (
            *("entries", "fields", "steps_up_from", "observers", "allow_past_due"),
            *("adjustments", "agreed", "declined"),  # changes and the answer, in one record
        ),
    ),
    "adjust": (("assignment",), (*HOMEWORK, "observers", "allow_past_due")),
    "agree": (("assignment",), ("confidence", "obstacles")),
    "decline": (("assignment", "reason"), ()),
    "entry": (("assignment",), ("fields", "by", "occurred_at")),
    "review": (
        ("assignment", "quantity", "quality", "difficulty", "next_step"),
        ("obstacles", "notes", "due", "next_due", "allow_past_due"),
    ),
    "close": (("assignment",), ("reason",)),
    "cancel": (("assignment", "reason"), ()),
    "discharge": (("client", "reason"), ()),
}
#: The keys that hold numbers; every other key not in ``SHAPES`` holds text.
NUMBERS = ("difficulty", "entries", "confidence", "quantity", "quality")
#: The shapes of keys that are not text (their values are checked by the commands).
#: (Each a ``Word`` phrase: a refusal keeps the English, the command line words it.)
SHAPES: dict[str, tuple[type, str]] = {
    **{key: (int, Word(N_("a whole number"))) for key in NUMBERS},
    "fields": (dict, Word(N_("a JSON object of fields"))),
    "agreed": (dict, Word(N_('a JSON object such as {"confidence": 7, "obstacles": "…"}'))),
    "adjustments": (list, Word(N_("a list of JSON objects of changes"))),
    "observers": (list, Word(N_("a list of collaborators' names"))),
    "withdraw": (bool, Word(N_("true or false"))),
    "allow_past_due": (bool, Word(N_("true or false"))),
}
TEXT = Word(N_("text"))
#: What JSON calls a value that is not an object (``_json_kind``).
JSON_KINDS = {
    list: Word(N_("an array")),
    str: Word(N_("a string")),
    int: Word(N_("a number")),
    float: Word(N_("a number")),
}
NOT_AN_OBJECT = Word(N_("not an object"))
MAX_ID = 160  # characters of a record's id (with the key prefix, a request key)
MAX_ADJUSTMENTS = 20
RESUME_RULE = "resume-2"  # part of a checkpoint's name (see ``ImportFile.checkpoint_name``)
CSV_COLUMNS = ("id", "assignment", "by", "occurred_at")  # the columns that are not fields


class BadRecord(InvalidInput):
    """One line is not a record the import can run; the import goes on with the next.
    Its type and id, when the line has them, name it in the report."""

    def __init__(self, message: str, record: Any = None, **values: Any) -> None:
        super().__init__(message, **values)
        known = isinstance(record, dict) and _known(record.get("type"))
        self.record = {k: record.get(k) for k in ("type", "id")} if known else {}


def check_record(record: Any) -> dict[str, Any]:
    """The record, with its id as text, or ``BadRecord`` naming what is wrong with it."""
    if not isinstance(record, dict):
        raise BadRecord(
            'not a JSON object but %(kind)s; each line is one record: {"type": …, "id": …, …}',
            kind=_json_kind(record),
        )
    kind = record.get("type")
    if not _known(kind):
        known = ", ".join(RECORD_TYPES)
        raise BadRecord(
            "unknown record type %(kind)s; types: %(known)s", kind=repr(kind), known=known
        )
    required, optional = RECORD_TYPES[kind]
    record_id = record.get("id")
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    if not isinstance(record_id, str) or not record_id.strip() or len(record_id) > MAX_ID:
        raise BadRecord(
            '"id" must be text of 1–%(most)s characters: the record\'s import key', most=MAX_ID
        )
    missing = [k for k in required if record.get(k) is None]
    if missing:
        raise BadRecord("missing %(keys)s", keys=", ".join(missing))
    unknown = sorted(set(record) - {"type", "id", *required, *optional})
    if unknown:
        raise BadRecord(
            "unknown %(unknown)s; %(kind)s records have: %(keys)s",
            unknown=", ".join(unknown),
            kind=kind,
            keys=_keys(kind),
        )
    _check_values(record, "")
    if len(record.get("adjustments") or ()) > MAX_ADJUSTMENTS:
        raise BadRecord("at most %(most)s adjustments", most=MAX_ADJUSTMENTS)
    for n, change in enumerate(record.get("adjustments") or (), 1):
        extra = set(change) - set(RECORD_TYPES["adjust"][1]) if isinstance(change, dict) else {0}
        if extra:
            raise BadRecord(
                "each adjustment is an object of %(keys)s, observers", keys=", ".join(HOMEWORK)
            )
        _check_values(change, f"adjustment {n}: ")
    if set(record.get("agreed") or ()) - {"confidence", "obstacles"}:
        raise BadRecord("agreed may have confidence and obstacles only")
    _check_values(record.get("agreed") or {}, "agreed: ")
    for one, other in (("agreed", "declined"), ("due", "next_due")):
        if record.get(one) is not None and record.get(other) is not None:
            raise BadRecord("give %(one)s or %(other)s, not both", one=one, other=other)
    return {**record, "id": record_id}


def _json_kind(value: Any) -> str:
    """What JSON calls a value: an array, a string, a number, true, false or null."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return JSON_KINDS.get(type(value), NOT_AN_OBJECT)


def _known(kind: Any) -> TypeGuard[str]:
    return isinstance(kind, str) and kind in RECORD_TYPES


def _check_values(values: dict[str, Any], where: str) -> None:
    """Each value of the shape its key needs (text unless ``SHAPES`` says otherwise)."""
    for key, value in values.items():
        if key in ("type", "id") or value is None:
            continue
        shape, described = SHAPES.get(key, (str, TEXT))
        if not isinstance(value, shape) or (shape is int and isinstance(value, bool)):
            raise BadRecord(
                "%(where)s%(key)s must be %(described)s", where=where, key=key, described=described
            )


def _keys(kind: str) -> str:
    required, optional = RECORD_TYPES[kind]
    return ", ".join([*required, *(f"[{k}]" for k in optional)])


@dataclass
class ImportFile:
    """A checked import file: JSON Lines, or CSV entries of ``task_type`` (see module notes)."""

    source: Source  # its bytes: a file, or a stream read once (``importing.source``)
    task_type: str | None = None  # CSV: the entries' task type
    assignment: str | None = None  # CSV: the assignment of every row (else a column)
    columns: tuple[str, ...] = ()

    @classmethod
    def open(
        cls,
        given: str,
        task_type: str | None = None,
        fields: tuple[str, ...] = (),
        assignment: str | None = None,
    ) -> ImportFile:
        """Check the file (a path, or ``-`` for standard input); for CSV (``task_type``
        given), ``fields`` are its entry fields. Close it when done."""
        found = cls(Source.open(given), task_type, assignment)
        if task_type is not None:
            try:
                found.columns = found._check_header(fields)
            except BaseException:
                found.close()
                raise
        return found

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> ImportFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def name(self) -> str:
        """The file as messages name it."""
        return self.source.name

    @property
    def lines(self) -> int:
        return self.source.lines

    def checkpoint_name(self, key_prefix: str) -> str:
        """What names an import's checkpoint: the file's contents and what gives them meaning."""
        # "resume-2": the rule that a checkpoint never passes a refused line (an earlier rule's
        # checkpoints could, and are not used: their files are read again from the top).
        parts = [RESUME_RULE, self.source.digest, key_prefix]
        what = "\n".join([*parts, self.task_type or "", self.assignment or ""])
        return "import:" + hashlib.sha256(what.encode("utf-8")).hexdigest()[:32]

    def records(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any] | BadRecord]]:
        """Each record starting after line ``after``, with its line number."""
        reader = self._csv_rows if self.task_type else self._json_lines
        for line, record in reader(after):
            if not isinstance(record, BadRecord):
                try:
                    record = check_record(record)
                except BadRecord as e:
                    record = BadRecord(e.template, record, **e.values)
            yield line, record

    def _json_lines(self, after: int) -> Iterator[tuple[int, Any]]:
        with self.source.binary() as f:
            for line, raw in enumerate(_physical_lines(f), 1):
                if line <= after or not raw.strip():
                    continue
                if len(raw) > MAX_LINE:
                    yield line, BadRecord("the line is over %(most)s bytes", most=f"{MAX_LINE:,}")
                    continue
                try:
                    text = raw.decode("utf-8-sig" if line == 1 else "utf-8").strip()
                    yield line, json.loads(text)
                except json.JSONDecodeError as e:
                    yield (
                        line,
                        BadRecord(
                            "not a JSON object: %(reason)s (column %(column)s)",
                            reason=e.msg,
                            column=e.pos + 1,
                        ),
                    )
                except ValueError as e:
                    yield line, BadRecord("not a JSON object: %(reason)s", reason=e)
                except RecursionError:
                    yield line, BadRecord("nested too deeply")

    def _csv_rows(self, after: int) -> Iterator[tuple[int, Any]]:
        with self.source.text() as f:
            rows = csv.reader(f)
            next(rows)  # the header, checked by open
            line = rows.line_num + 1
            cells: list[str] | BadRecord
            while True:
                try:
                    cells = next(rows)
                except StopIteration:
                    return
                except csv.Error as e:
                    cells = BadRecord("not a CSV row: %(reason)s", reason=e)
                start, line = line, rows.line_num + 1
                if start <= after or cells == []:
                    continue
                yield start, cells if isinstance(cells, BadRecord) else self._entry(start, cells)

    def _entry(self, line: int, cells: list[str]) -> dict[str, Any] | BadRecord:
        if len(cells) != len(self.columns):
            return BadRecord(
                "has %(cells)s cells; the header has %(columns)s",
                cells=len(cells),
                columns=len(self.columns),
            )
        row = {k: v for k, v in zip(self.columns, cells, strict=True) if v.strip()}
        record: dict[str, Any] = {"type": "entry", "fields": {}}
        for name, value in row.items():
            if name in CSV_COLUMNS:
                record[name] = value
            else:
                record["fields"][name] = value
        record.setdefault("assignment", self.assignment)
        if record["assignment"] is None:
            return BadRecord("no assignment in its assignment cell")
        record.setdefault("id", f"{record['assignment']}:line-{line}")
        return record

    def _check_header(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        with self.source.text() as f:
            try:
                header = tuple(c.strip() for c in next(csv.reader(f), []))
            except csv.Error as e:
                raise InvalidInput(
                    "%(name)s: the header is not a CSV row: %(reason)s", name=self.name, reason=e
                ) from None
        if not header or not any(header):
            raise InvalidInput(
                "%(name)s: the header is empty; name the fields of %(type)s in it",
                name=self.name,
                type=self.task_type,
            )
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:
            raise InvalidInput(
                "%(name)s: the header names %(twice)s more than once",
                name=self.name,
                twice=", ".join(twice),
            )
        unknown = [c for c in header if c not in fields and c not in CSV_COLUMNS]
        if unknown:
            raise InvalidInput(
                "%(name)s: the header has %(unknown)s: not a field of %(type)s (%(fields)s) nor "
                "one of %(columns)s",
                name=self.name,
                unknown=", ".join(map(repr, unknown)),
                type=self.task_type,
                fields=", ".join(fields),
                columns=", ".join(CSV_COLUMNS),
            )
        if ("assignment" in header) == (self.assignment is not None):
            raise InvalidInput(
                "%(name)s: the header: say which assignment the entries are for, either with "
                "--assignment or with an 'assignment' column (not both)",
                name=self.name,
            )
        return header


def _physical_lines(f: IO[bytes]) -> Iterator[bytes]:
    """The file's lines as bytes; one over ``MAX_LINE`` is cut to ``MAX_LINE + 1`` bytes."""
    while raw := f.readline(MAX_LINE + 1):
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while (rest := f.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
        yield raw
