"""Thought record: catch an automatic thought, weigh the evidence, find a balanced one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from between import (
    Chart,
    Field,
    Schema,
    Series,
    TaskType,
    TaskTypeRegistry,
    entries_of,
    hookimpl,
    mean,
)


class ThoughtRecord(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        before, after = [], []
        for e in entries:
            first, again = e["fields"].get("emotions", {}), e["fields"].get("rerated", {})
            for label, rating in first.items():
                if label in again:
                    before.append(rating)
                    after.append(again[label])
        return {
            "entries": len(entries),
            "mean_emotion_before": round(mean(before), 2) if before else None,
            "mean_emotion_after": round(mean(after), 2) if after else None,
            "mean_drop": round(mean(before) - mean(after), 2) if before else None,
        }


THOUGHT_RECORD = ThoughtRecord(
    name="thought-record",
    title="Thought record",
    description="For a moment your mood changed: the situation, the emotions (0–100), the "
    "automatic thought, evidence for and against, a balanced thought, and the emotions re-rated.",
    category="worksheet",
    parameters=Schema((Field("focus", required=False, help="the theme to watch for"),)),
    entries=Schema(
        (
            Field(
                "situation",
                question="What was happening when the feeling started?",
                help="Where you were, who was there and what you were doing.",
            ),
            Field(
                "emotions",
                "ratings",
                minimum=0,
                maximum=100,
                question="What did you feel, and how strongly?",
                help="Name each feeling and give it a number. 0 is not at all, 100 the "
                "strongest you can imagine.",
            ),
            Field(
                "automatic_thought",
                question="What went through your mind?",
                help="The thought that came by itself, in the words you heard it.",
            ),
            Field(
                "evidence_for",
                required=False,
                question="What makes that thought seem true?",
                help="Facts that support it, not how it feels.",
            ),
            Field(
                "evidence_against",
                required=False,
                question="What does not fit that thought?",
                help="Facts that do not fit it, or what you would tell a friend who thought it.",
            ),
            Field(
                "balanced_thought",
                question="What is a fairer way to see it?",
                help="A thought that takes in both sides.",
            ),
            Field(
                "rerated",
                "ratings",
                required=False,
                minimum=0,
                maximum=100,
                question="How strong are those feelings now?",
                help="The same feelings again, each with a new number. 0 is not at all, 100 "
                "the strongest.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(THOUGHT_RECORD)


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """The emotions' mean rating in each record, first and when re-rated."""
    if task_type != THOUGHT_RECORD.name:
        return None
    entries = entries_of(assignments)
    before, after = [], []
    for e in entries:
        first, again = e["fields"].get("emotions") or {}, e["fields"].get("rerated") or {}
        both = [label for label in first if label in again]
        if both:
            before.append((e["occurred_at"], round(mean(first[k] for k in both), 1)))
            after.append((e["occurred_at"], round(mean(again[k] for k in both), 1)))
    return [
        Chart(
            "Emotion ratings before and after",
            [Series("first rating", before), Series("re-rated", after)],
            y_label="intensity (0–100)",
            y_min=0,
            y_max=100,
            description="For each thought record, the mean intensity of the emotions that "
            "were re-rated: as first rated, and after the balanced thought.",
        )
    ]
