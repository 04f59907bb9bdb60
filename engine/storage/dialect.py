"""What differs between the store kinds in the SQL Between writes (each backend has one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """A store kind's SQL: its parameter mark, its log position column, its row locking and
    how it takes the first bytes of a column."""

    name: str
    param: str
    position: str
    for_update: str
    head: str  # an expression with {column} and {length}: the column's first bytes

    def sql(self, text: str) -> str:
        return text.replace("?", self.param) if self.param != "?" else text

    def first_bytes(self, column: str, length: int) -> str:
        """SQL for the first ``length`` bytes of ``column``."""
        return self.head.format(column=column, length=int(length))
