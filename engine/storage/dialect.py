"""What differs between the store kinds in the SQL Between writes (each backend has one)."""

from __future__ import annotations

from typing import NamedTuple


class Dialect(NamedTuple):
    """A store kind's SQL: its parameter mark, its log position column, its row locking, how
    it takes some bytes of a column and how it writes a bytes constant."""

    name: str
    param: str
    position: str
    for_update: str
    part: str  # an expression with {column}, {start} (from 1) and {length}: some of its bytes
    blob: str  # a bytes constant, with {hex}

    def sql(self, text: str) -> str:
        return text.replace("?", self.param) if self.param != "?" else text

    def first_bytes(self, column: str, length: int) -> str:
        """SQL for the first ``length`` bytes of ``column``."""
        return self.bytes_at(column, 1, length)

    def bytes_at(self, column: str, start: int, length: int) -> str:
        """SQL for ``length`` bytes of ``column`` from byte ``start`` (the first is 1)."""
        return self.part.format(column=column, start=int(start), length=int(length))

    def bytes_constant(self, value: bytes) -> str:
        """SQL for the constant ``value``, compared byte by byte with a column's bytes."""
        return self.blob.format(hex=value.hex())
