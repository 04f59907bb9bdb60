"""The contract helper's own failures say what is wrong: a missing summary key by name."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from between.plugins.bibliotherapy import BIBLIOTHERAPY, Bibliotherapy
from between.testing import TaskTypeContract


class Forgetful(Bibliotherapy):
    """Bibliotherapy whose summary forgets ``finished``."""

    def summarise(self, entries: list[dict[str, Any]], parameters: dict[str, Any]) -> Any:
        summary = dict(super().summarise(entries, parameters))
        summary.pop("finished", None)
        return summary


class ForgetfulContract(TaskTypeContract):  # not collected: run by hand below
    task_type = Forgetful(
        **{f.name: getattr(BIBLIOTHERAPY, f.name) for f in fields(Forgetful)}
        | {"name": "forgetful-reading"}
    )
    parameters = {"medium": "film", "title": "Inside Out"}
    entries = [{"reactions": "cried", "takeaways": "sadness has a job", "finished": "yes"}]
    summary_keys = ("entries", "finished")


def test_a_missing_summary_key_is_named(tmp_path):
    contract = ForgetfulContract()
    for check in (
        contract.test_summary_and_completion_describe_the_entries,
        lambda: contract.test_assign_agree_submit_review_on_a_real_store(tmp_path),
    ):
        with pytest.raises(pytest.fail.Exception) as failed:
            check()
        message = str(failed.value)
        assert "lacks the key(s) 'finished'" in message and "'entries'" in message, message
