"""Graded exposure: face one step of the fear hierarchy, rating distress (SUDS 0–100).

Peak SUDS falling across entries is the usual sign that the client is ready to step up.
"""

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
    mean_of,
    points_of,
    trend,
    values_of,
)
from between.language import N_

#: SUDS explained where it appears, in the client's words.
SUDS_HELP = "Your distress score (SUDS): 0 is calm, 100 the most anxious you can imagine."


def suds(name: str, question: str) -> Field:
    """A distress rating: Subjective Units of Distress, 0–100."""
    return Field(name, "integer", minimum=0, maximum=100, question=question, help=SUDS_HELP)


class GradedExposure(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        peaks = values_of(entries, "suds_peak")
        durations = values_of(entries, "minutes")
        falling = trend(peaks) == "falling"
        return {
            "entries": len(entries),
            "first_peak_suds": peaks[0] if peaks else None,
            "last_peak_suds": peaks[-1] if peaks else None,
            "peak_suds_trend": trend(peaks),
            "mean_minutes": round(mean(durations), 1) if durations else None,
            "ready_to_step_up": falling and len(peaks) >= 3,
        }


GRADED_EXPOSURE = GradedExposure(
    name="graded-exposure",
    title="Graded exposure",
    description="Stay with one step of your hierarchy; rate distress (SUDS 0–100) before, at "
    "the peak and after, and note the safety behaviours you dropped.",
    category="exposure",
    parameters=Schema(
        (
            Field("hierarchy_item", help="the step of the hierarchy to practise"),
            Field("target_minutes", "integer", required=False, minimum=1, maximum=600),
        )
    ),
    entries=Schema(
        (
            suds("suds_before", question="How anxious were you just before you started?"),
            suds("suds_peak", question="How anxious were you at the hardest moment?"),
            suds("suds_after", question="How anxious were you at the end?"),
            Field(
                "minutes",
                "integer",
                minimum=1,
                maximum=600,
                question="How many minutes did you stay?",
                help="From when you started until you stopped or left.",
            ),
            Field(
                "safety_behaviours_dropped",
                "list",
                required=False,
                question="What did you manage without this time?",
                help="Things you usually do to feel safer, like checking your phone or "
                "holding on to something, that you let go of. Leave it empty if none.",
            ),
            Field(
                "notes",
                required=False,
                question="Anything else you noticed?",
                help="For example what helped, or what you would try next time.",
            ),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(GRADED_EXPOSURE)


#: Each rating: its series' label in each chart (marked: a label made at run time is not found
#: by ``make messages``), and its field.
RATINGS = (
    (N_("before"), N_("mean before"), "suds_before"),
    (N_("peak"), N_("mean peak"), "suds_peak"),
    (N_("after"), N_("mean after"), "suds_after"),
)


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    """SUDS before, at the peak and after each session, and across the hierarchy's steps."""
    if task_type != GRADED_EXPOSURE.name:
        return None
    entries = entries_of(assignments)
    steps = [
        (f"{n}. {a['parameters'].get('hierarchy_item', '?')}", a["entry_list"])
        for n, a in enumerate(assignments, 1)
        if a["entry_list"]
    ]
    sessions = Chart(
        "SUDS in each exposure session",
        [Series(label, points_of(entries, name)) for label, _, name in RATINGS],
        y_label="SUDS (0–100)",
        y_min=0,
        y_max=100,
        description="Distress rated before, at the peak of and after each exposure session.",
    )
    ladder = Chart(
        "SUDS across the hierarchy",
        [
            Series(averaged, [(step, mean_of(done, name)) for step, done in steps])
            for _, averaged, name in RATINGS
        ],
        kind="bar",
        x="category",
        x_label="step of the hierarchy",
        y_label="SUDS (0–100)",
        y_min=0,
        y_max=100,
        description="Mean distress at each step of the hierarchy, in the order it was set.",
    )
    return [sessions, ladder] if steps else []
