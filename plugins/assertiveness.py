"""Assertiveness practice: use a technique learned in session in a real situation."""

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
    mean_of,
    points_of,
    trend,
    values_of,
)


class Assertiveness(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "entries": len(entries),
            "mean_self_rating": mean_of(entries, "self_rating"),
            "self_rating_trend": trend(values_of(entries, "self_rating")),
        }


ASSERTIVENESS = Assertiveness(
    name="assertiveness",
    title="Assertiveness practice",
    description="Put an assertive technique into practice; note the situation, what you did, "
    "how it went, and rate yourself 0–10.",
    category="practice",
    parameters=Schema(
        (
            Field("skill", help="e.g. 'saying no', 'broken record', 'I-statements'"),
            Field("situations", required=False, help="where to try it"),
        )
    ),
    entries=Schema(
        (
            Field(
                "situation",
                question="What was the situation?",
                help="Who you spoke to, and what it was about.",
            ),
            Field(
                "technique",
                question="What did you try?",
                help="For example saying no, or saying how you feel starting with “I”.",
            ),
            Field(
                "outcome",
                question="What happened?",
                help="How the other person reacted, and how it ended.",
            ),
            Field(
                "self_rating",
                "integer",
                minimum=0,
                maximum=10,
                question="How well do you think it went?",
                help="0 is not at all as you wanted, 10 just as you wanted.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(ASSERTIVENESS)


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """How the client rated themselves after each practice."""
    if task_type != ASSERTIVENESS.name:
        return None
    entries = entries_of(assignments)
    return [
        Chart(
            "Self-rating after each practice",
            [Series("self-rating", points_of(entries, "self_rating"))],
            y_label="self-rating (0–10)",
            y_min=0,
            y_max=10,
            description="How well the client felt each assertive practice went, 0–10.",
        )
    ]
