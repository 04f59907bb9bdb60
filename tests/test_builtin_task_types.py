"""Every built-in task type passes the same contract a clinic's task type must pass,
and its review summary shows the figures that matter for that kind of homework."""

from __future__ import annotations

from between.plugins.assertiveness import ASSERTIVENESS
from between.plugins.bibliotherapy import BIBLIOTHERAPY
from between.plugins.graded_exposure import GRADED_EXPOSURE
from between.plugins.reflective_writing import REFLECTIVE_WRITING
from between.plugins.relaxation import RELAXATION
from between.plugins.self_monitoring import SELF_MONITORING
from between.plugins.thought_record import THOUGHT_RECORD
from between.testing import TaskTypeContract


class TestSelfMonitoring(TaskTypeContract):
    task_type = SELF_MONITORING
    parameters = {"target": "urges to check the door", "per_day": "2"}
    entries = [
        {
            "situation": "leaving home",
            "thought": "what if",
            "emotion": "anxious",
            "intensity": "80",
            "behaviour": "checked twice",
        },
        {"situation": "at work", "intensity": 40},
    ]
    bad_entries = [({"intensity": "101"}, "intensity"), ({"situation": ""}, "situation")]
    bad_parameters = [({"per_day": "0"}, "per_day"), ({"target": None}, "target")]
    summary_keys = ("entries", "per_day", "mean_intensity", "by")


class TestThoughtRecord(TaskTypeContract):
    task_type = THOUGHT_RECORD
    entries = [
        {
            "situation": "email",
            "emotions": "anxious:80,ashamed:40",
            "automatic_thought": "I failed",
            "evidence_for": "a typo",
            "evidence_against": "praised last week",
            "balanced_thought": "one typo is not failure",
            "rerated": "anxious:40,ashamed:20",
        },
    ]
    bad_entries = [({"emotions": "anxious:120"}, "emotions"), ({"emotions": "anxious"}, "emotions")]
    summary_keys = ("entries", "mean_emotion_before", "mean_emotion_after", "mean_drop")


class TestReflectiveWriting(TaskTypeContract):
    task_type = REFLECTIVE_WRITING
    parameters = {"prompt": "Your father", "min_length": "10"}
    entries = [{"text": "I remember the summer we…"}]
    bad_entries = [({"text": "short"}, "text")]
    bad_parameters = [({"prompt": ""}, "prompt")]
    summary_keys = ("entries", "words", "mean_words")


class TestBibliotherapy(TaskTypeContract):
    task_type = BIBLIOTHERAPY
    parameters = {"medium": "film", "title": "Inside Out"}
    entries = [
        {"reactions": "cried at the end", "takeaways": "sadness has a job", "finished": "yes"}
    ]
    bad_entries = [({"finished": "maybe"}, "finished")]
    bad_parameters = [({"medium": "podcast"}, "medium")]
    summary_keys = ("entries", "finished")


class TestRelaxation(TaskTypeContract):
    task_type = RELAXATION
    parameters = {"technique": "progressive-muscle-relaxation", "minutes": "15"}
    entries = [
        {"minutes": "15", "tension_before": "7", "tension_after": "3"},
        {"minutes": 20, "tension_before": 6, "tension_after": 4},
    ]
    bad_entries = [({"tension_after": "11"}, "tension_after"), ({"minutes": "ten"}, "minutes")]
    summary_keys = ("entries", "minutes_per_week", "mean_tension_drop")


class TestAssertiveness(TaskTypeContract):
    task_type = ASSERTIVENESS
    parameters = {"skill": "saying no"}
    entries = [
        {
            "situation": "colleague asked for a favour",
            "technique": "broken record",
            "outcome": "declined politely",
            "self_rating": "6",
        }
    ]
    bad_entries = [({"self_rating": "-1"}, "self_rating")]
    summary_keys = ("entries", "mean_self_rating", "self_rating_trend")


class TestGradedExposure(TaskTypeContract):
    task_type = GRADED_EXPOSURE
    parameters = {"hierarchy_item": "two stops on the bus"}
    entries = [
        {"suds_before": "60", "suds_peak": "85", "suds_after": "40", "minutes": "20"},
        {
            "suds_before": 50,
            "suds_peak": 70,
            "suds_after": 30,
            "minutes": 25,
            "safety_behaviours_dropped": "headphones, water bottle",
        },
        {"suds_before": 40, "suds_peak": 55, "suds_after": 20, "minutes": 30},
    ]
    bad_entries = [({"suds_peak": "150"}, "suds_peak"), ({"minutes": "0"}, "minutes")]
    summary_keys = (
        "entries",
        "first_peak_suds",
        "last_peak_suds",
        "peak_suds_trend",
        "ready_to_step_up",
    )


def test_exposure_summary_shows_falling_peak_suds():
    params = GRADED_EXPOSURE.validate_parameters(TestGradedExposure.parameters)
    entries = [
        {
            "fields": GRADED_EXPOSURE.validate_entry(e, params),
            "by": "client",
            "occurred_at": "2026-03-02T10:00:00+00:00",
        }
        for e in TestGradedExposure.entries
    ]
    summary = GRADED_EXPOSURE.summarise(entries, params)
    assert summary["first_peak_suds"] == 85 and summary["last_peak_suds"] == 55
    assert summary["peak_suds_trend"] == "falling" and summary["ready_to_step_up"] is True


def test_relaxation_summary_gives_minutes_per_week_and_mean_drop():
    params = RELAXATION.validate_parameters(TestRelaxation.parameters)
    entries = [
        {
            "fields": RELAXATION.validate_entry(e, params),
            "by": "client",
            "occurred_at": f"2026-03-{d:02d}T10:00:00+00:00",
        }
        for e, d in zip(TestRelaxation.entries * 7, range(1, 15), strict=True)
    ]
    summary = RELAXATION.summarise(entries, params)
    assert summary["minutes"] == 7 * 35 and summary["minutes_per_week"] == 122.5
    assert summary["mean_tension_drop"] == 3.0


def test_self_monitoring_summary_gives_frequency_per_day_and_mean_intensity():
    params = SELF_MONITORING.validate_parameters({"target": "urges"})
    entries = [
        {
            "fields": {"situation": "s", "intensity": i},
            "by": by,
            "occurred_at": f"2026-03-0{d}T10:00:00+00:00",
        }
        for i, by, d in [(80, "client", 1), (60, "client", 1), (40, "Sam", 2), (20, "client", 4)]
    ]
    summary = SELF_MONITORING.summarise(entries, params)
    assert summary["days"] == 4 and summary["per_day"] == 1.0
    assert summary["mean_intensity"] == 50.0 and summary["by"] == {"client": 3, "Sam": 1}


BUILT_IN = (
    SELF_MONITORING,
    THOUGHT_RECORD,
    REFLECTIVE_WRITING,
    BIBLIOTHERAPY,
    RELAXATION,
    ASSERTIVENESS,
    GRADED_EXPOSURE,
)


def test_every_entry_field_asks_the_client_in_plain_words():
    """Each entry field has a question and one help line; terms are explained, and the help
    says nothing of a format (the form's hint does, by the field's type)."""
    for kind in BUILT_IN:
        for f in kind.entries.fields:
            where = f"{kind.name}.{f.name}"
            assert f.question.endswith("?") and f.question[0].isupper(), where
            assert f.help and f.help.endswith("."), where
            assert "_" not in f.question + f.help, where
            if "suds" in f.name:
                assert "SUDS" in f.help and "0 is calm, 100 the most anxious" in f.help, where
            if f.minimum == 0 and f.maximum is not None:  # a scale: its ends said in words
                assert "0 is " in f.help and f"{f.maximum:g}" in f.help, where
            described = f.describe()
            assert (described["question"], described["help"]) == (f.question, f.help)
    emotions = {f.name: f for f in THOUGHT_RECORD.entries.fields}["emotions"]
    assert ":" not in emotions.help  # the format is the form's hint alone (one per line)
