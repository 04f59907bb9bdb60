"""The starter library (issue 25): a built-in plugin of homework templates in plain client words,
one for each kind of homework and three ladders, each valid against its task type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import cli, cli_stdout, invoke, run_installed

from between.engine.contracts.templates import STAGES
from between.plugins.starter_library import (
    ASSERTIVENESS_LADDER,
    EXPOSURE_LADDER,
    RELAXATION_LADDER,
    STARTER,
)

ROOT = Path(__file__).parent.parent
LIBRARY_DOC = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
NAMES = [t.name for t in STARTER]
SOURCE = "between.starter_library"

#: Words a client should not have to look up (in the title, summary and instructions).
JARGON = (
    "baseline", "relapse", "exposure", "hierarchy", "cognitive", "distortion", "behavioural",
    "behavioral", "psychoeducation", "diaphragmatic", "progressive muscle", "assertive",
    "bibliotherapy", "safety behaviour", "habituation", "intervention", "homework",
)  # fmt: skip
SUDS_EXPLAINED = "how anxious you feel, from 0 (calm) to 100 (the most anxious you can imagine)"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "library").mkdir()
    environment = {
        "BETWEEN_STORE": str(tmp_path / "t.db"),
        "BETWEEN_ACTOR": "dr.lee",
        "BETWEEN_LIBRARY_DIR": str(tmp_path / "library"),
        "BETWEEN_WORKSHEETS_DIR": str(tmp_path / "worksheets"),
        "BETWEEN_PLUGINS": "",
    }
    cli(environment, "init")
    cli(environment, "client", "add", "C-1", "--name", "Alex", "--therapist", "dr.lee")
    return environment


def test_the_starter_library_covers_every_kind_of_homework():
    kinds = {t.task_type for t in STARTER}
    assert kinds == {
        "self-monitoring", "thought-record", "reflective-writing", "bibliotherapy",
        "relaxation", "assertiveness", "graded-exposure",
    }  # fmt: skip
    assert len(NAMES) == len(set(NAMES)) == 16


def test_every_starter_template_is_listed_and_valid(env):
    done = run_installed(env, "template", "list", "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["problems"] == []
    rows = {row["name"]: row for row in listed["templates"] if row["source"] == SOURCE}
    assert sorted(rows) == sorted(NAMES)
    for template in STARTER:
        shown = json.loads(cli_stdout(env, "template", "show", template.name, "--json"))
        assert shown["version"] == rows[template.name]["version"] == template.version
        assert shown["task_type"] == template.task_type and shown["source"] == SOURCE


def test_assigning_a_starter_template_records_its_name_and_version(env):
    name = "graded-exposure-1-first-look"
    version = json.loads(cli_stdout(env, "template", "show", name, "--json"))["version"]
    done = run_installed(env, "assign", "C-1", "--template", name, "--json", check=True)
    ident = json.loads(done.stdout)["result"]
    shown = json.loads(run_installed(env, "show", ident, "--json", check=True).stdout)
    assert (shown["template"], shown["template_version"]) == (name, version)
    assert shown["task_type"] == "graded-exposure" and shown["stage"] == "baseline"


@pytest.mark.parametrize("template", STARTER, ids=NAMES)
def test_client_facing_words_are_short_and_plain(template):
    assert template.title and len(template.title) <= 60, template.title
    assert template.summary and len(template.summary) <= 200, template.summary
    for part in (template.title, template.summary, template.instructions):
        for word in JARGON:
            assert word not in part.lower(), f"{template.name}: {word!r} in {part!r}"
    for part in (template.title, template.summary, template.instructions, template.rationale):
        if "SUDS" in part:
            assert SUDS_EXPLAINED in part, f"{template.name}: SUDS without its explanation"
    assert "SUDS" not in template.title + template.summary


@pytest.mark.parametrize(
    ("ladder", "prefix", "steps"),
    [
        (RELAXATION_LADDER, "relaxation", 3),
        (ASSERTIVENESS_LADDER, "assertiveness", 3),
        (EXPOSURE_LADDER, "graded-exposure", 6),
    ],
)
def test_ladders_are_numbered_and_step_up(ladder, prefix, steps):
    assert len(ladder) == steps
    for number, template in enumerate(ladder, 1):
        assert template.name.startswith(f"{prefix}-{number}-")
    difficulties = [t.difficulty for t in ladder]
    assert difficulties == sorted(set(difficulties)), "difficulty must step up"
    stages = [STAGES.index(t.stage) for t in ladder]
    assert stages == sorted(stages) and ladder[0].stage == "baseline"
    if prefix == "graded-exposure":
        assert ladder[-1].stage == "relapse-prevention"


def test_the_documentation_lists_every_starter_template():
    section = LIBRARY_DOC[LIBRARY_DOC.index("## The starter library") :]
    for t in STARTER:
        row = re.search(rf"^\| `{re.escape(t.name)}` \|(.*)$", section, re.M)
        assert row, f"{t.name} is not in docs/library.md"
        cells = [c.strip() for c in row.group(1).split("|")]
        assert cells[:3] == [f"`{t.task_type}`", t.stage, str(t.difficulty)], t.name


def test_a_clinic_file_of_the_same_name_replaces_a_starter_template(env):
    path = Path(env["BETWEEN_LIBRARY_DIR"]) / "breathing.toml"
    path.write_text(
        'name = "relaxation-1-breathing"\ntask_type = "relaxation"\nstage = "practice"\n'
        'difficulty = 3\ninstructions = "Breathe out slowly"\nrationale = "Calm"\n'
        '[parameters]\ntechnique = "paced-breathing"\n',
        encoding="utf-8",
    )
    listed = json.loads(cli_stdout(env, "template", "list", "--json"))
    assert listed["problems"] == []
    (row,) = [r for r in listed["templates"] if r["name"] == "relaxation-1-breathing"]
    assert row["source"] == str(path) and row["instructions"] == "Breathe out slowly"
    # a second file of that name (read after it: files are read in name order) is a problem
    (path.parent / "z-again.toml").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (problem,) = json.loads(cli_stdout(env, "template", "list", "--json"))["problems"]
    assert f"already taken by {path}" in problem
    assert invoke(env, "template", "show", "relaxation-1-breathing").exit_code == 0
