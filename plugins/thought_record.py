"""Thought record: catch an automatic thought, weigh the evidence, find a balanced one."""

from __future__ import annotations

from statistics import fmean

from between import Field, Schema, TaskType, hookimpl


class ThoughtRecord(TaskType):
    def summarise(self, entries, parameters):
        before, after = [], []
        for e in entries:
            first, again = e["fields"].get("emotions", {}), e["fields"].get("rerated", {})
            for label, rating in first.items():
                if label in again:
                    before.append(rating)
                    after.append(again[label])
        return {
            "entries": len(entries),
            "mean_emotion_before": round(fmean(before), 2) if before else None,
            "mean_emotion_after": round(fmean(after), 2) if after else None,
            "mean_drop": round(fmean(before) - fmean(after), 2) if before else None,
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
def between_register_task_types(registry):
    registry.add(THOUGHT_RECORD)
