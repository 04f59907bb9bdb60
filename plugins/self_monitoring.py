"""Self-monitoring: how often something happens, and the thoughts and feelings around it.

A person close to the client may record observations too (e.g. nervous habits the client
does not notice); entries say who recorded them.
"""

from __future__ import annotations

from between import Field, Schema, TaskType, by_person, days_spanned, hookimpl, mean_of


class SelfMonitoring(TaskType):
    def summarise(self, entries, parameters):
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
            Field("situation", help="where, when, with whom"),
            Field("thought", required=False, help="what went through your mind"),
            Field("emotion", required=False, help="the main feeling"),
            Field(
                "intensity",
                "integer",
                required=False,
                minimum=0,
                maximum=100,
                help="how strong the feeling was, 0–100",
            ),
            Field("behaviour", required=False, help="what you did"),
        )
    ),
)


@hookimpl
def between_register_task_types(registry):
    registry.add(SELF_MONITORING)
