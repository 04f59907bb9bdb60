"""Bibliotherapy and cinema therapy: read a book or chapter, watch a film, bring reactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from between import Field, Schema, TaskType, TaskTypeRegistry, hookimpl


class Bibliotherapy(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "entries": len(entries),
            "finished": any(e["fields"].get("finished") for e in entries),
        }

    def completion(
        self, entries: Sequence[Mapping[str, Any]], expected: int, parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        finished = any(e["fields"].get("finished") for e in entries)
        return {
            "complete": finished and len(entries) >= expected,
            "rule": f"the {parameters.get('medium', 'material')} finished, "
            f"with {expected} reflection(s)",
        }


BIBLIOTHERAPY = Bibliotherapy(
    name="bibliotherapy",
    title="Reading or film",
    description="Read a book or chapter, or watch a film, consciously; note your reactions "
    "and what you took from it to work on in the next session.",
    category="bibliotherapy",
    parameters=Schema(
        (
            Field("medium", "choice", choices=("book", "chapter", "film", "article", "audio")),
            Field("title"),
            Field("part", required=False, help="e.g. 'chapter 3' or 'first half'"),
            Field("author", required=False),
        )
    ),
    entries=Schema(
        (
            Field(
                "reactions",
                question="What did you feel and think while reading or watching?",
                help="Anything that moved, surprised or bothered you.",
            ),
            Field(
                "takeaways",
                question="What will you take away from it?",
                help="An idea, a sentence or a scene you want to remember.",
            ),
            Field(
                "finished",
                "boolean",
                required=False,
                question="Did you finish the part agreed?",
                help="It is fine if not: say what you managed in your answers above.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(BIBLIOTHERAPY)
