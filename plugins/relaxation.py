"""Breathing and relaxation practice, with tension rated before and after each session."""

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
    days_spanned,
    entries_of,
    hookimpl,
    mean,
    points_of,
)

TECHNIQUES = (
    "diaphragmatic-breathing",
    "paced-breathing",
    "progressive-muscle-relaxation",
    "guided-imagery",
    "mindfulness",
    "other",
)


class Relaxation(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        minutes = sum(e["fields"]["minutes"] for e in entries)
        weeks = max(days_spanned(entries) / 7, 1)
        drops = [e["fields"]["tension_before"] - e["fields"]["tension_after"] for e in entries]
        return {
            "entries": len(entries),
            "minutes": minutes,
            "minutes_per_week": round(minutes / weeks, 1),
            "mean_tension_drop": round(mean(drops), 2) if drops else None,
        }


RELAXATION = Relaxation(
    name="relaxation",
    title="Breathing and relaxation practice",
    description="Practise the technique regularly; rate your tension 0–10 before and after.",
    category="practice",
    parameters=Schema(
        (
            Field("technique", "choice", choices=TECHNIQUES),
            Field(
                "minutes",
                "integer",
                required=False,
                minimum=1,
                maximum=120,
                help="suggested minutes a session",
            ),
        )
    ),
    entries=Schema(
        (
            Field(
                "minutes",
                "integer",
                minimum=1,
                maximum=240,
                question="How many minutes did you practise?",
                help="Roughly is fine.",
            ),
            Field(
                "tension_before",
                "integer",
                minimum=0,
                maximum=10,
                question="How tense were you before you started?",
                help="0 is completely relaxed, 10 the most tense you can imagine.",
            ),
            Field(
                "tension_after",
                "integer",
                minimum=0,
                maximum=10,
                question="How tense were you afterwards?",
                help="The same scale: 0 is completely relaxed, 10 the most tense.",
            ),
            Field(
                "notes",
                required=False,
                question="Anything you noticed?",
                help="For example what helped, or what got in the way.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(RELAXATION)


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """Tension before and after each practice session."""
    if task_type != RELAXATION.name:
        return None
    entries = entries_of(assignments)
    return [
        Chart(
            "Tension before and after each practice",
            [
                Series("before", points_of(entries, "tension_before")),
                Series("after", points_of(entries, "tension_after")),
            ],
            y_label="tension (0–10)",
            y_min=0,
            y_max=10,
            description="Tension rated before and after each practice session.",
        )
    ]
