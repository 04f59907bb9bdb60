"""Self-monitoring: how often something happens, and the thoughts and feelings around it.

A person close to the client may record observations too (e.g. nervous habits the client
does not notice); entries say who recorded them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from between import (
    Chart,
    Field,
    Schema,
    Series,
    TaskType,
    TaskTypeRegistry,
    by_person,
    days_spanned,
    hookimpl,
    mean_of,
)


class SelfMonitoring(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        days = days_spanned(entries)
        return {
            "entries": len(entries),
            "days": days,
            "per_day": round(len(entries) / days, 2) if days else 0,
            "mean_intensity": mean_of(entries, "intensity"),
            "by": by_person(entries),
        }


SELF_MONITORING = SelfMonitoring(
    name="self-monitoring",
    title="Self-monitoring log",
    description="Record each time the monitored event happens: the situation, the thought, "
    "the emotion and its intensity, and what you did.",
    category="self-monitoring",
    parameters=Schema(
        (
            Field("target", help="what is monitored, e.g. 'urges to check the door'"),
            Field(
                "per_day",
                "integer",
                required=False,
                minimum=1,
                maximum=50,
                help="how many entries a day are expected",
            ),
        )
    ),
    entries=Schema(
        (
            Field(
                "situation",
                question="Where were you, and what was happening?",
                help="Where, when and who was with you. A few words are enough.",
            ),
            Field(
                "thought",
                required=False,
                question="What went through your mind?",
                help="Write the thought as it came, even if it seems small or silly.",
            ),
            Field(
                "emotion",
                required=False,
                question="What did you feel?",
                help="One word is enough, like anxious, sad or angry.",
            ),
            Field(
                "intensity",
                "integer",
                required=False,
                minimum=0,
                maximum=100,
                question="How strong was that feeling?",
                help="0 is not at all, 100 the strongest you can imagine.",
            ),
            Field(
                "behaviour",
                required=False,
                question="What did you do?",
                help="What you did then, or just after.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(SELF_MONITORING)


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """Entries per day by who made them, and the mean intensity each day."""
    if task_type != SELF_MONITORING.name:
        return None
    entries = [e for a in assignments for e in a["entry_list"]]
    if not entries:
        return []
    days: dict[str, list[dict[str, Any]]] = {}
    first = date.fromisoformat(min(e["occurred_at"][:10] for e in entries))
    last = date.fromisoformat(max(e["occurred_at"][:10] for e in entries))
    for n in range((last - first).days + 1):
        days[(first + timedelta(days=n)).isoformat()] = []
    for e in entries:
        days[e["occurred_at"][:10]].append(e)
    people = sorted(by_person(entries), key=lambda who: (who != "client", who))
    counts = Chart(
        "Entries per day",
        [
            Series(who, [(day, sum(e["by"] == who for e in found)) for day, found in days.items()])
            for who in people
        ],
        kind="bar",
        y_label="entries",
        y_min=0,
        description="How many times a day the monitored event was recorded, and by whom.",
    )
    intensity = Chart(
        "Intensity per day",
        [
            Series(
                "mean intensity",
                [(day, mean_of(found, "intensity")) for day, found in days.items()],
            )
        ],
        y_label="intensity (0–100)",
        y_min=0,
        y_max=100,
        description="The mean intensity of the feeling on each day with rated entries.",
    )
    return [counts] if intensity.empty else [counts, intensity]
