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
            Field("situation"),
            Field(
                "emotions",
                "ratings",
                minimum=0,
                maximum=100,
                help="each emotion with its intensity, e.g. anxious:80,ashamed:40",
            ),
            Field("automatic_thought"),
            Field("evidence_for", required=False),
            Field("evidence_against", required=False),
            Field("balanced_thought"),
            Field(
                "rerated",
                "ratings",
                required=False,
                minimum=0,
                maximum=100,
                help="the same emotions re-rated afterwards",
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
