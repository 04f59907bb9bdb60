"""The bytes of an import (docs/import.md): a regular file, or a stream read once.

An import reads its input more than once: a first pass checks it as a whole (UTF-8 text, no
line over ``MAX_LINE``) and notes its digest and line count before anything is stored, then
the records are read. A regular file is read in place. Anything else — ``-`` (standard
input), a pipe, ``<(zcat f.gz)``, a device — can be read only once: the first pass copies it
to an unnamed temporary file (at most ``MAX_STREAM`` bytes), which the later passes read.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

from between.engine.errors import InvalidInput
from between.language import N_, Word

STDIN = "-"
MAX_LINE = 1 << 20  # bytes of one line (its newline aside)
MAX_STREAM = 256 << 20  # bytes of an input that is not a regular file
CHUNK = 1 << 20  # read at a time; not over MAX_LINE + 1 (see ``_Scan.feed``)


class Source:
    """An import's bytes, checked, and readable again as often as needed."""

    def __init__(self, name: str, path: str | None, spool: IO[bytes] | None) -> None:
        self.name = name  # as messages name it
        self._path, self._spool = path, spool
        self.digest = ""  # SHA-256 of the bytes
        self.lines = 0

    @classmethod
    def open(cls, given: str) -> Source:
        """Check the input ``given`` (a path, or ``-``); ``InvalidInput`` if it cannot be
        imported at all."""
        if not given:
            raise InvalidInput("import needs a file name (or - for standard input)")
        if given == STDIN:
            if sys.stdin is None:  # started with standard input closed
                raise InvalidInput("standard input is closed; give an import file, or pipe one in")
            source = cls(Word(N_("standard input")), None, _spool())
            try:
                source._take(sys.stdin.buffer)
            except OSError as e:
                raise InvalidInput(
                    "standard input cannot be read: %(reason)s", reason=e.strerror
                ) from None
            return source
        try:
            mode = os.stat(given).st_mode
            if stat.S_ISDIR(mode):
                raise InvalidInput("%(given)s is a folder; give an import file", given=given)
            regular = stat.S_ISREG(mode)
            with open(given, "rb") as f:
                source = cls(given, given if regular else None, None)
                if not regular:
                    source._spool = _spool()
                source._take(f)
        except FileNotFoundError:
            raise InvalidInput("%(given)s does not exist", given=given) from None
        except OSError as e:
            raise InvalidInput(
                "%(given)s cannot be read: %(reason)s", given=given, reason=e.strerror
            ) from None
        return source

    def close(self) -> None:
        """Remove the temporary copy of a stream (a regular file is left as it is)."""
        if self._spool is not None:
            self._spool.close()

    @contextmanager
    def binary(self) -> Iterator[IO[bytes]]:
        """The bytes, from the start."""
        with self._reopen(text=False) as f:
            yield f

    @contextmanager
    def text(self) -> Iterator[IO[str]]:
        """The text, from the start (a byte-order mark skipped, newlines as they are)."""
        with self._reopen(text=True) as f:
            yield f

    def _reopen(self, text: bool) -> IO[Any]:
        """The input opened again: the file, or a copy of the spool's descriptor (the copies
        share one position, set to the start here: passes are read one after another)."""
        spool, path = self._spool, self._path
        file: int | str = os.dup(spool.fileno()) if spool is not None else str(path)
        f = open(file, encoding="utf-8-sig", newline="") if text else open(file, "rb")  # noqa: SIM115
        if spool is not None:
            f.seek(0)
        return f

    def _take(self, f: BinaryIO) -> None:
        """Read the input once: check it, note its digest and lines, copy a stream."""
        scan, spool = _Scan(self.name), self._spool
        try:
            while chunk := f.read(CHUNK):
                scan.feed(chunk)
                if spool is not None:
                    if scan.size > MAX_STREAM:
                        raise InvalidInput(
                            "%(name)s is over %(most)s MiB, the most read from a pipe or "
                            "standard input; save it to a file and import that file — nothing "
                            "was imported",
                            name=self.name,
                            most=MAX_STREAM >> 20,
                        )
                    _copy(spool, chunk, self.name)
            scan.end()
        except BaseException:
            self.close()
            raise
        if spool is not None:
            spool.flush()
        self.digest, self.lines = scan.digest.hexdigest(), scan.lines


def _copy(spool: IO[bytes], chunk: bytes, name: str) -> None:
    try:
        spool.write(chunk)
    except OSError as e:
        raise InvalidInput(
            "%(name)s could not be copied to a temporary file (%(reason)s); set TMPDIR to a "
            "folder with room, or save the input to a file and import that — nothing was "
            "imported",
            name=name,
            reason=e.strerror,
        ) from None


def _spool() -> IO[bytes]:
    """An unnamed temporary file (removed when closed, or when the process ends)."""
    try:
        return tempfile.TemporaryFile()  # ``Source.close`` closes it
    except OSError as e:
        raise InvalidInput(
            "no temporary file for a copy of the input could be made (%(reason)s); set TMPDIR "
            "to a folder with room, or save the input to a file and import that",
            reason=e,
        ) from None


class _Scan:
    """The checks of the first pass, chunk by chunk: UTF-8 text, lines of at most
    ``MAX_LINE`` bytes; the digest, size and line count."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.digest = hashlib.sha256()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.size = self.lines = 0  # bytes; newlines
        self.run = 0  # bytes of the line not yet ended
        self.last = b"\n"

    def feed(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        try:
            self.decoder.decode(chunk)
        except UnicodeDecodeError as e:
            line = self.lines + e.object[: e.start].count(b"\n") + 1
            raise InvalidInput(
                "%(name)s is not UTF-8 text (line %(line)s has the byte %(byte)s); re-save it "
                "as UTF-8 — nothing was imported",
                name=self.name,
                line=line,
                byte=f"{e.object[e.start]:#04x}",
            ) from None
        # A line inside one chunk is shorter than CHUNK: only lines across chunks may be long.
        first = chunk.find(b"\n")
        if first < 0:
            self.run += len(chunk)
        else:
            self._check(self.run + first)
            self.run = len(chunk) - chunk.rfind(b"\n") - 1
            self.lines += chunk.count(b"\n")
        self._check(self.run)
        self.last = chunk[-1:]

    def end(self) -> None:
        try:
            self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(
                "%(name)s is not UTF-8 text (it ends inside a character)", name=self.name
            ) from None
        self.lines += self.last != b"\n"

    def _check(self, length: int) -> None:
        if length > MAX_LINE:
            raise InvalidInput(
                "%(name)s: line %(line)s is over %(most)s MiB, the most one line may hold (one "
                "record a line); nothing was imported",
                name=self.name,
                line=f"{self.lines + 1:,}",
                most=MAX_LINE >> 20,
            )
