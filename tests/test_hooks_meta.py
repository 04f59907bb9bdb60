"""Hooks, their tests and their documentation stay in step (as in datasette's test suite)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from between.engine.hooks import specs as hooks

ROOT = Path(__file__).parent.parent
GUIDE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
TEST_SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
HOOKS = [
    (name, func)
    for name, func in inspect.getmembers(hooks, inspect.isfunction)
    if name.startswith("between_") and hasattr(func, "between_spec")
]


def signature(func) -> str:
    sig = inspect.signature(func)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {func.__name__}({params}) -> {sig.return_annotation}"


def test_there_are_hooks():
    assert {name for name, _ in HOOKS} >= {
        "between_register_task_types",
        "between_register_commands",
    }


@pytest.mark.parametrize(("name", "func"), HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(name, func):
    assert f"### {name}\n" in GUIDE
    assert signature(func) in GUIDE, signature(func)


@pytest.mark.parametrize(("name", "func"), HOOKS)
def test_every_hook_has_a_test(name, func):
    assert f"def test_hook_{name}(" in TEST_SOURCES


@pytest.mark.parametrize(
    "name", ["pyproject.toml", "between_gratitude.py", "test_between_gratitude.py"]
)
def test_the_guide_shows_the_example_plugin_verbatim(name):
    assert (ROOT / "tests" / "example_plugin" / name).read_text(encoding="utf-8").rstrip() in GUIDE
