"""A clinic's homework library: templates from files and plugins, assigning from them, and the
template's name and version on the homework (issue 25)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from helpers import cli_stdout, invoke, library_clinic, run_installed

from between.engine.contracts.templates import STAGES, Template
from between.engine.reading.views import STAGES as ENGINE_STAGES

ROOT = Path(__file__).parent.parent
LIBRARY_DOC = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
PLUGINS_DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def doc_block(text: str, language: str, after: str = "") -> str:
    """The first ``language`` code block of ``text`` after the line ``after``."""
    start = text.index(after) if after else 0
    found = re.search(rf"```{language}\n(.*?)```", text[start:], re.S)
    assert found, f"no {language} block after {after!r}"
    return found.group(1)


EXAMPLE = doc_block(LIBRARY_DOC, "toml", "## Writing a template")
PLUGIN_EXAMPLE = doc_block(
    PLUGINS_DOC, "python", "```python\nfrom between import Template, hookimpl"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return library_clinic(tmp_path)


def write(env: dict[str, str], name: str, text: str) -> Path:
    path = Path(env["BETWEEN_LIBRARY_DIR"]) / name
    path.write_text(text, encoding="utf-8")
    return path


def clinics(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The listed templates that are not the starter library's (tests/test_starter_library.py)."""
    return [row for row in rows if row["source"] != "between.starter_library"]


def installed(env: dict[str, str], *args: str, code: int = 0) -> str:
    done = run_installed(env, *args)
    assert done.returncode == code, done.stderr
    return done.stdout if code == 0 else done.stderr


def test_a_clinic_copies_the_documented_template_and_assigns_from_it(env):
    write(env, "nail-biting-baseline.toml", EXAMPLE)
    listed = json.loads(installed(env, "template", "list", "--json"))
    assert listed["problems"] == []
    (row,) = clinics(listed["templates"])
    assert row["name"] == "nail-biting-baseline" and row["task_type"] == "self-monitoring"
    shown = json.loads(installed(env, "template", "show", "nail-biting-baseline", "--json"))
    assert shown["version"] == row["version"] and len(shown["version"]) == 12
    assert shown["title"] == "Noticing the habit" and shown["due_days"] == 7
    assert "Noticing the habit" in installed(env, "template", "show", "nail-biting-baseline")

    proposed = installed(
        env, "assign", "C-104", "--template", "nail-biting-baseline",
        "--difficulty", "3", "--field", "per_day=2", "--json",
    )  # fmt: skip
    ident = json.loads(proposed)["result"]
    homework = json.loads(installed(env, "show", ident, "--json"))
    assert homework["template"] == "nail-biting-baseline"
    assert homework["template_version"] == shown["version"]
    assert homework["difficulty"] == 3  # the command line overrides
    assert homework["stage"] == "baseline" and homework["expected_entries"] == 5
    assert homework["parameters"] == {"target": "nail biting", "per_day": 2}
    assert f"template:     nail-biting-baseline (version {shown['version']})" in installed(
        env, "show", ident
    )
    events = [json.loads(line) for line in installed(env, "log", "--json").splitlines()]
    (event,) = [e for e in events if e["type"] == "AssignmentProposed"]
    assert event["data"]["template"] == "nail-biting-baseline"
    assert event["data"]["template_version"] == shown["version"]
    assert "from template nail-biting-baseline" in installed(env, "history", "C-104")


def test_homework_without_a_template_says_none(env):
    args = ["assign", "C-104", "relaxation", "--stage", "practice", "--difficulty", "1"]
    args += ["--due", "+3", "--instructions", "i", "--rationale", "r", "--json"]
    ident = json.loads(cli_stdout(env, *args, "--field", "technique=other"))["result"]
    shown = json.loads(cli_stdout(env, "show", ident, "--json"))
    assert shown["template"] is None and shown["template_version"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('stage = "baseline"', 'stage = "later"'), "'stage'"),
        (("difficulty = 2", "difficulty = 11"), "'difficulty'"),
        (('task_type = "self-monitoring"', 'task_type = "no-such-type"'), "'task_type'"),
        (('target = "nail biting"', 'targett = "nail biting"'), "'parameters'"),
        (("entries = 5", 'entries = 5\ncolour = "red"'), "colour"),
        (("[parameters]", "[parameters"), "cannot be read"),
    ],
)
def test_a_broken_template_is_refused_in_one_line(env, change, field):
    path = write(env, "nail-biting-baseline.toml", EXAMPLE.replace(*change))
    write(env, "fine.toml", EXAMPLE.replace("nail-biting-baseline", "fine"))
    for args in (
        ("template", "show", "nail-biting-baseline"),
        ("assign", "C-104", "--template", "nail-biting-baseline"),
    ):
        refused = invoke(env, *args, code=2)
        assert refused.stdout == ""
        (line,) = refused.stderr.splitlines()
        assert "template nail-biting-baseline" in line and str(path) in line and field in line
    listed = json.loads(cli_stdout(env, "template", "list", "--json"))
    assert [t["name"] for t in clinics(listed["templates"])] == ["fine"]
    (problem,) = listed["problems"]
    assert str(path) in problem and field in problem
    assert "AssignmentProposed" not in cli_stdout(env, "log", "--json")


def test_type_and_template_must_agree_and_type_alone_still_needs_its_options(env):
    write(env, "nail-biting-baseline.toml", EXAMPLE)
    refused = invoke(env, "assign", "C-104", "relaxation", "--template", "nail-biting-baseline")
    assert refused.exit_code == 2 and "differs from template" in refused.stderr
    same = ["assign", "C-104", "self-monitoring", "--template", "nail-biting-baseline", "--json"]
    assert json.loads(cli_stdout(env, *same))["record"]["task_type"] == "self-monitoring"
    assert "Missing option '--instructions'" in invoke(env, "assign", "C-104", "relaxation").stderr
    assert "unknown template 'nope'" in invoke(env, "assign", "C-104", "--template", "nope").stderr


def test_hook_between_register_templates(env):
    plugin = Path(env["BETWEEN_PLUGINS_DIR"]) / "breathing.py"
    plugin.write_text(PLUGIN_EXAMPLE, encoding="utf-8")
    shown = json.loads(installed(env, "template", "show", "breathing-week", "--json"))
    assert shown["version"] == "1" and shown["source"] == "local:breathing.py"
    ident = json.loads(
        installed(env, "assign", "C-104", "--template", "breathing-week", "--due", "+3", "--json")
    )["result"]
    homework = json.loads(installed(env, "show", ident, "--json"))
    assert (homework["template"], homework["template_version"]) == ("breathing-week", "1")
    assert homework["task_type"] == "relaxation" and homework["expected_entries"] == 7
    write(env, "clash.toml", EXAMPLE.replace('"nail-biting-baseline"', '"breathing-week"'))
    (problem,) = json.loads(cli_stdout(env, "template", "list", "--json"))["problems"]
    assert "already taken by local:breathing.py" in problem


def test_the_library_folder_can_come_from_the_configuration_file(env, tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "nail-biting-baseline.toml").write_text(EXAMPLE, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[library]\ndir = "{folder}"\n', encoding="utf-8")
    env = {**env, "BETWEEN_CONFIG": str(config)}
    del env["BETWEEN_LIBRARY_DIR"]
    assert "nail-biting-baseline" in cli_stdout(env, "template", "list")
    config.write_text("[library]\ndirectory = 1\n", encoding="utf-8")
    assert "[library] directory is not a setting" in invoke(env, "template", "list").stderr


def test_a_version_is_declared_or_a_digest_of_the_content():
    template = Template(
        "t", "relaxation", instructions="i", rationale="r", stage="practice", difficulty=2
    )
    canonical = json.dumps(template.content(), sort_keys=True, ensure_ascii=False)
    assert template.version == hashlib.sha256(canonical.encode()).hexdigest()[:12]
    template.difficulty = 3
    assert template.version != hashlib.sha256(canonical.encode()).hexdigest()[:12]
    declared = Template(
        "t", "relaxation", instructions="i", rationale="r", stage="practice", difficulty=2,
        version="2026-1",
    )  # fmt: skip
    assert declared.version == "2026-1"
    assert STAGES == ENGINE_STAGES


def test_a_broken_file_is_known_by_the_name_it_declares(env):
    broken = EXAMPLE.replace('stage = "baseline"', 'stage = "later"')
    path = write(env, "some-file.toml", broken)
    refused = invoke(env, "template", "show", "nail-biting-baseline", code=2)
    assert str(path) in refused.stderr and "'stage'" in refused.stderr
