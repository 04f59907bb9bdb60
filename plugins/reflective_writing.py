"""Reflective writing: introspection on a person, situation or event, in free text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from between import Field, InvalidInput, Schema, TaskType, TaskTypeRegistry, hookimpl


class ReflectiveWriting(TaskType):
    def validate_entry(
        self, data: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        clean = super().validate_entry(data, parameters)
        minimum = parameters.get("min_length") or 0
        if len(clean["text"].strip()) < minimum:
            raise InvalidInput(
                "invalid entry for %(kind)s: text is %(length)s "
                "characters; this assignment asks for at least %(minimum)s",
                kind=self.name,
                length=len(clean["text"].strip()),
                minimum=minimum,
            )
        return clean

    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        words = [len(e["fields"]["text"].split()) for e in entries]
        return {
            "entries": len(entries),
            "words": sum(words),
            "mean_words": round(sum(words) / len(words), 1) if words else None,
        }


REFLECTIVE_WRITING = ReflectiveWriting(
    name="reflective-writing",
    title="Reflective writing",
    description="Write about a person, situation or event: your impressions and feelings.",
    category="reflection",
    parameters=Schema(
        (
            Field("prompt", help="what to reflect on"),
            Field(
                "min_length",
                "integer",
                required=False,
                minimum=0,
                maximum=20000,
                help="fewest characters an entry should have",
            ),
        )
    ),
    entries=Schema(
        (
            Field(
                "text",
                question="What would you like to write?",
                help="Write freely about the question in your homework. There are no wrong "
                "answers.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(REFLECTIVE_WRITING)
