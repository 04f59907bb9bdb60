"""The export format of the whole log (``between log --json``), straight from the stored rows.

``export_record`` (``audit.log``) describes a decoded event; here the same record is made from
the stored state without constructing the event: its JSON read without the transcoder's
object hook, ids and times turned into their export text as they are met, and the sealed
fields opened by the sealing mapper's own ``open_sealed``. A row this path does not cover —
another transcoding, an event class with upcasts, anything that fails — goes through the
mapper and ``export_record``, which say exactly what they always said (or raise as they do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from itertools import repeat
from json import JSONDecoder, JSONEncoder
from operator import is_
from typing import Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from between.audit.fanout import ordered, worker_app
from between.audit.log import ENVELOPE, decoded, export_record, kind_of_class, row_batches
from between.audit.log_source import LogSource
from between.engine.errors import BetweenError
from between.engine.storage.sealing_mapper import open_sealed
from between.events.base import short_name

_HEX = re.compile(r"[0-9a-f]{32}")


class _Uncovered(Exception):
    """A row the direct path leaves to the mapper."""


#: The ids and times the object hook gave their export text, for the row being read: its
#: time and its owner must be among them, as the mapper's event has them as objects.
_ids: list[str] = []
_times: list[str] = []


def _from_stored(obj: dict) -> Any:
    """The transcoder's object hook, giving each value its export text instead of its object
    (``uuid_hex`` and ``datetime_iso``; any other transcoding is the mapper's work)."""
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        name, data = obj["_type_"], obj["_data_"]
        if type(data) is str:
            if name == "uuid_hex":
                text = _uuid_text(data)
                _ids.append(text)
                return text
            if name == "datetime_iso":
                text = datetime.fromisoformat(data).isoformat()
                _times.append(text)
                return text
        raise _Uncovered
    return obj


def _made(text: Any, made: list[str]) -> bool:
    return any(map(is_, made, repeat(text)))  # no generator: quicker, for two or three


_LOADS = JSONDecoder(object_hook=_from_stored).decode


def export_records(app: LogSource) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every event on the log in order, as ``(position, export record)``."""
    classes: dict[str, tuple[Any, str, str] | None] = {}
    for rows in row_batches(app):
        yield from _records_of(app.mapper, rows, classes)


def export_lines(app: LogSource, workers: int = 1) -> Iterator[str]:
    """The JSON Lines export of the whole log (``between log --json``), a batch of lines at
    a time, in worker processes when ``workers`` > 1 (``audit.fanout``). A row that cannot
    be read ends it, after the lines before it."""
    if workers > 1:
        results = ordered(app, row_batches(app, batch=FANOUT_BATCH), _worker_lines, workers)
    else:
        classes: dict[str, tuple[Any, str, str] | None] = {}
        results = (_lines(app.mapper, rows, classes) for rows in row_batches(app))
    for text, failure in results:
        if text:
            yield text
        if failure is not None:
            raise failure


#: Rows handed to a worker at a time.
FANOUT_BATCH = 2000
_TO_JSON = JSONEncoder(ensure_ascii=False).encode  # json.dumps(record, ensure_ascii=False)
_worker_classes: dict[str, tuple[Any, str, str] | None] = {}


def _worker_lines(rows: list[tuple]) -> tuple[str, BetweenError | None]:
    return _lines(worker_app().mapper, rows, _worker_classes)


def _lines(
    mapper: Any, rows: list[tuple], classes: dict[str, tuple[Any, str, str] | None]
) -> tuple[str, BetweenError | None]:
    """One batch's lines, and the failure that stopped it early, if one did."""
    lines: list[str] = []
    try:
        for _, record in _records_of(mapper, rows, classes):
            lines.append(_TO_JSON(record))
    except BetweenError as e:
        return "\n".join(lines), e
    return "\n".join(lines), None


def _records_of(
    mapper: Any, rows: list[tuple], classes: dict[str, tuple[Any, str, str] | None]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The export records of one batch of stored rows, in order."""
    for position, _, _, oid, version, topic, state in rows:
        try:
            if topic not in classes:
                classes[topic] = _covered(topic)
            covered = classes[topic]
            if covered is None:
                raise _Uncovered
            record = _record(mapper, covered, position, oid, version, state)
        except Exception:  # the mapper's path, row by row, as ``entries`` takes it
            record = export_record(decoded(mapper, position, oid, version, topic, state))
        yield position, record


def _covered(topic: str) -> tuple[Any, str, str] | None:
    """The event class of a topic, its type and its kind, if the direct path reads it."""
    cls = resolve_topic(topic)
    if getattr(cls, "class_version", 1) != 1:
        return None  # its older events are upcast: the mapper's work
    return cls, short_name(cls), kind_of_class(cls)


def _record(
    mapper: Any, covered: tuple[Any, str, str], position: int, oid: Any, version: int, state: Any
) -> dict:
    cls, name, kind = covered
    raw = bytes(state)
    if mapper.cipher:
        raw = mapper.cipher.decrypt(raw)
    if mapper.compressor:
        raw = mapper.compressor.decompress(raw)
    _ids.clear()
    _times.clear()
    data = _LOADS(raw.decode("utf8"))
    data.pop("class_version", None)
    time, owner, actor = data["timestamp"], data.get("client_id"), data["actor"]
    if not _made(time, _times) or (owner and not _made(owner, _ids)):
        raise _Uncovered  # not a time, or not an id, in the mapper's event: it fails there
    if _made(actor, _ids) or _made(actor, _times):
        raise _Uncovered  # an object in the mapper's event, which the record keeps as it is
    aggregate = _uuid_text(oid) if isinstance(oid, str) else str(oid)
    open_sealed(data, cls, _uuid(owner or aggregate), mapper.keys)
    return {
        "position": position,
        "time": time,
        "actor": actor,
        "type": name,
        "aggregate": aggregate,
        "kind": kind,
        "version": version,
        "data": {k: v for k, v in data.items() if k not in ENVELOPE},
    }


@lru_cache(maxsize=4096)
def _uuid(text: str) -> UUID:
    return UUID(text)


@lru_cache(maxsize=4096)  # a client's id recurs in each of their events
def _uuid_text(text: str) -> str:
    """``str(UUID(text))``, without making the UUID when the text is already canonical hex."""
    if _HEX.fullmatch(text):
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return str(UUID(text))
