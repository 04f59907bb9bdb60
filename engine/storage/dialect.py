"""What differs between the store kinds in the SQL Between writes (each backend has one)."""

from __future__ import annotations


class Dialect:
    """A store kind's SQL: its parameter mark, its log position column, its row locking, how
    it takes some bytes of a column (``part``: an expression with {column}, {start} from 1 and
    {length}) and how it writes a bytes constant (``blob``, with {hex}). A plain class: each
    command's start-up defines it, and a dataclass or named tuple costs a millisecond."""

    __slots__ = ("blob", "for_update", "name", "param", "part", "position")

    def __init__(
        self, name: str, param: str, position: str, for_update: str, part: str, blob: str
    ) -> None:
        self.name, self.param, self.position, self.for_update = name, param, position, for_update
        self.part, self.blob = part, blob

    def __repr__(self) -> str:
        return f"Dialect({self.name!r})"

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
