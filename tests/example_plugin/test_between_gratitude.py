"""The plugin's own tests: the same contract every built-in task type passes."""

from between_gratitude import GRATITUDE

from between.testing import TaskTypeContract


class TestGratitude(TaskTypeContract):
    task_type = GRATITUDE
    parameters = {"items_per_day": "3"}
    entries = [{"items": "sun, tea, a call from Jo"}, {"items": ["a walk"]}]
    bad_entries = [({"items": ""}, "items")]
    bad_parameters = [({"items_per_day": "11"}, "items_per_day")]
    summary_keys = ("entries", "mean_items")
