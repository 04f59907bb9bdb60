"""Protocols: an ordered ladder of templates, proposed step by step (issue 25)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from helpers import library_clinic, run_installed

ROOT = Path(__file__).parent.parent
LIBRARY_DOC = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
SECTION = LIBRARY_DOC[LIBRARY_DOC.index("## Protocols") :]
#: The section's example files: (file name, text), from each block's first line.
FILES = [
    (block.splitlines()[0].removeprefix("# ").strip(), block)
    for block in re.findall(r"```toml\n(.*?)```", SECTION, re.S)
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = library_clinic(tmp_path)
    for name, text in FILES:
        (tmp_path / "library" / name).write_text(text, encoding="utf-8")
    return environment


def installed(env: dict[str, str], *args: str, code: int = 0) -> str:
    done = run_installed(env, *args)
    assert done.returncode == code, done.stderr
    return done.stdout if code == 0 else done.stderr


def as_json(env: dict[str, str], *args: str) -> dict:
    return json.loads(installed(env, *args, "--json"))  # type: ignore[no-any-return]


def step_through(env: dict[str, str], ident: str) -> None:
    """Agree, submit once and review with a step-up."""
    installed(env, "agree", ident, "--confidence", "7")
    installed(env, "submit", ident, "--field", "situation=at work")
    review = ["review", ident, "--quantity", "3", "--quality", "3", "--difficulty", "2"]
    installed(env, *review, "--next-step", "step-up")


def test_the_documented_protocol_is_proposed_and_stepped_up_twice(env):
    assert [name for name, _ in FILES] == [
        "worry-1-notice.toml",
        "worry-2-postpone.toml",
        "worry-3-keep-it-up.toml",
        "worry-ladder.toml",
    ]
    listed = as_json(env, "protocol", "list")
    assert listed["problems"] == []
    names = [p["name"] for p in listed["protocols"]]
    assert {"worry-ladder", "relaxation-ladder", "graded-exposure-ladder"} <= set(names)
    shown = as_json(env, "protocol", "show", "worry-ladder")
    assert shown["steps"] == ["worry-1-notice", "worry-2-postpone", "worry-3-keep-it-up"]
    assert len(shown["version"]) == 12 and shown["title"] == "Worry, step by step"

    first = as_json(env, "assign", "C-104", "--protocol", "worry-ladder")["result"]
    detail = as_json(env, "show", first)
    assert (detail["template"], detail["protocol"], detail["protocol_step"]) == (
        "worry-1-notice",
        "worry-ladder",
        1,
    )
    assert detail["next_step"] == "worry-2-postpone" and detail["protocol_steps"] == 3
    refused = installed(env, "assign", "C-104", "--next", first, code=2)
    assert len(refused.splitlines()) == 1 and "step-up" in refused

    installed(env, "agree", first)
    agenda = as_json(env, "agenda", "C-104")
    (row,) = agenda["to_review"]
    assert row["protocol"] == "worry-ladder" and row["next_step"] == "worry-2-postpone"
    assert "next in worry-ladder: step 2 worry-2-postpone" in installed(env, "agenda", "C-104")
    installed(env, "submit", first, "--field", "situation=at work")
    review = ["review", first, "--quantity", "3", "--quality", "3", "--difficulty", "2"]
    installed(env, *review, "--next-step", "step-up")
    (waiting,) = as_json(env, "agenda", "C-104")["next_in_protocol"]
    assert waiting["id"] == detail["id"] and waiting["next_step"] == "worry-2-postpone"
    said = (
        f"next in worry-ladder: step 2 worry-2-postpone ('between assign C-104 --next {first[:8]}')"
    )
    for record in ("C-104", first):  # history, of the client and of the homework
        (line,) = [
            x for x in installed(env, "history", record).splitlines() if "dr.lee reviewed" in x
        ]
        assert line.endswith(said)
    (told,) = [x for x in as_json(env, "history", "C-104") if "next_in_protocol" in x]
    assert told["type"] == "AssignmentReviewed" and told["next_in_protocol"] == waiting

    second = as_json(env, "assign", "C-104", "--next", first, "--difficulty", "5")["result"]
    detail2 = as_json(env, "show", second)
    assert detail2["steps_up_from"] == detail["id"] and detail2["difficulty"] == 5
    assert (detail2["template"], detail2["protocol_step"]) == ("worry-2-postpone", 2)
    assert as_json(env, "agenda", "C-104")["next_in_protocol"] == []
    step_through(env, second)
    third = as_json(env, "assign", "C-104", "--next", second)["result"]
    detail3 = as_json(env, "show", third)
    assert (detail3["template"], detail3["protocol_step"]) == ("worry-3-keep-it-up", 3)
    assert detail3["next_step"] is None
    assert "protocol:     worry-ladder, step 3 of 3; the last step" in installed(env, "show", third)

    step_through(env, third)
    last = installed(env, "assign", "C-104", "--next", third, code=2)
    assert len(last.splitlines()) == 1 and "last of 3 of worry-ladder" in last

    events = [json.loads(line) for line in installed(env, "log", "--json").splitlines()]
    proposed = [e["data"] for e in events if e["type"] == "AssignmentProposed"]
    assert [(e["protocol"], e["protocol_step"]) for e in proposed] == [
        ("worry-ladder", 1),
        ("worry-ladder", 2),
        ("worry-ladder", 3),
    ]
    client = as_json(env, "client", "show", "C-104")
    (position,) = client["protocols"]
    assert position["protocol"] == "worry-ladder" and position["protocol_step"] == 3
    assert position["status"] == "closed" and position["assignment"] == detail3["id"]
    assert "protocol worry-ladder: step 3 of 3" in installed(env, "client", "show", "C-104")
    report = as_json(env, "report", "C-104")
    steps = {
        h["id"]: (h["protocol"], h["protocol_step"], h["protocol_steps"])
        for h in report["homework"]
    }
    assert steps[detail["id"]] == ("worry-ladder", 1, 3)
    assert steps[detail3["id"]] == ("worry-ladder", 3, 3)
    html = installed(env, "report", "C-104", "-o", "-")
    assert "step 2 of 3 of worry-ladder" in html
    versions = {p["template"]: p["template_version"] for p in proposed}
    made = {h["id"]: (h["template"], h["template_version"]) for h in report["homework"]}
    assert made[detail2["id"]] == ("worry-2-postpone", versions["worry-2-postpone"])
    assert (
        f"<td>worry-2-postpone {versions['worry-2-postpone']}; step 2 of 3 of worry-ladder</td>"
        in html
    )
    assert (detail2["template_version"], detail3["template_version"]) == (
        versions["worry-2-postpone"],
        versions["worry-3-keep-it-up"],
    )

    clinic = {g["key"]: g for g in as_json(env, "report", "--clinic")["by_template"]}
    assert list(clinic) == ["worry-1-notice", "worry-2-postpone", "worry-3-keep-it-up"]
    for name, group in clinic.items():
        assert group["versions"] == [versions[name]] and group["homework"] == 1
        assert (group["reviews"], group["mean_quality"]) == (1, 3.0)
    assert "<caption>" in installed(env, "report", "--clinic", "-o", "-")

    bundle = json.loads(installed(env, "export", "fhir"))
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        found.setdefault(resource["resourceType"], []).append(resource)
    canonicals = {f"{r['url']}|{r['version']}" for r in found["ActivityDefinition"]}
    base = "https://between.invalid/fhir/ActivityDefinition"
    tasks = {t["identifier"][0]["value"]: t["instantiatesCanonical"] for t in found["Task"]}
    assert tasks == {
        d["id"]: f"{base}/{d['template']}|{d['template_version']}"
        for d in (detail, detail2, detail3)
    }
    assert set(tasks.values()) <= canonicals
    (ladder,) = [p for p in found["PlanDefinition"] if p["url"].endswith("/worry-ladder")]
    assert [a["definitionCanonical"] for a in ladder["action"]] == [
        f"{base}/{name}|{versions[name]}" for name in shown["steps"]
    ]

    broken = Path(env["BETWEEN_LIBRARY_DIR"]) / "worry-4-broken.toml"
    broken.write_text(FILES[0][1].replace('stage = "baseline"', 'stage = "someday"'))
    refused = installed(env, "assign", "C-104", "--template", "worry-4-broken", code=2)
    assert len(refused.strip().splitlines()) == 1 and "'stage'" in refused


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('"worry-2-postpone", ', '"no-such-template", '), "'no-such-template' is not a template"),
        (('steps = ["worry-1-notice", "worry-2-postpone", "worry-3-keep-it-up"]', "steps = []"), "'steps' is empty"),
        (('title = "Worry', 'colour = "red"\ntitle = "Worry'), "colour"),
    ],
)  # fmt: skip
def test_a_broken_protocol_is_refused_in_one_line(env, change, problem):
    path = Path(env["BETWEEN_LIBRARY_DIR"]) / "worry-ladder.toml"
    path.write_text(dict(FILES)["worry-ladder.toml"].replace(*change), encoding="utf-8")
    for args in (
        ("protocol", "show", "worry-ladder"),
        ("assign", "C-104", "--protocol", "worry-ladder"),
    ):
        (line,) = installed(env, *args, code=2).splitlines()
        assert "protocol worry-ladder" in line and str(path) in line and problem in line
    listed = as_json(env, "protocol", "list")
    (found,) = listed["problems"]
    assert problem in found and "worry-ladder" not in [p["name"] for p in listed["protocols"]]
    assert "AssignmentProposed" not in installed(env, "log", "--json")


def test_next_refuses_homework_not_from_a_protocol(env):
    ident = as_json(env, "assign", "C-104", "--template", "worry-1-notice")["result"]
    (line,) = installed(env, "assign", "C-104", "--next", ident, code=2).splitlines()
    assert "not from a protocol" in line
    assert as_json(env, "show", ident)["protocol"] is None


def test_the_starter_ladders_are_protocols(env):
    shown = as_json(env, "protocol", "show", "graded-exposure-ladder")
    assert len(shown["steps"]) == 6 and shown["steps"][0] == "graded-exposure-1-first-look"
    for name in ("relaxation-ladder", "assertiveness-ladder"):
        assert len(as_json(env, "protocol", "show", name)["steps"]) == 3


PLUGIN = """
from between import Protocol, hookimpl


@hookimpl
def between_register_templates(registry):
    registry.add_protocol(
        Protocol("short-worry", ["worry-1-notice", "worry-3-keep-it-up"], version="2")
    )
    registry.add_protocol(Protocol("empty", []))
"""


def test_a_plugin_registers_protocols_through_the_templates_hook(env):
    (Path(env["BETWEEN_PLUGINS_DIR"]) / "worry.py").write_text(PLUGIN, encoding="utf-8")
    shown = as_json(env, "protocol", "show", "short-worry")
    assert shown["version"] == "2" and shown["source"] == "local:worry.py"
    ident = as_json(env, "assign", "C-104", "--protocol", "short-worry")["result"]
    assert as_json(env, "show", ident)["next_step"] == "worry-3-keep-it-up"
    (problem,) = as_json(env, "protocol", "list")["problems"]
    assert "protocol empty (local:worry.py)" in problem and "'steps' is empty" in problem
