"""The house stays in shape: layers, no import cycles, small modules, a clean wheel, typed API.

The source is every ``.py`` file under the repository root except ``tests/``, ``bench/``,
``docs/``, ``build/`` and hidden folders; ``engine/app.py`` is the module ``between.engine.app``.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = {"tests", "bench", "docs", "build", "__pycache__"}
MAX_LINES = 400


def source_files(root: Path = ROOT) -> dict[str, Path]:
    """Each source module's dotted name and file."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if parts[0] in NOT_SOURCE or any(
            p.startswith(".") or p.endswith(".egg-info") for p in parts
        ):
            continue
        names = ["between", *parts[:-1], *([] if parts[-1] == "__init__.py" else [path.stem])]
        modules[".".join(names)] = path
    return modules


SOURCES = source_files()


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, typing_too: bool) -> Iterator[tuple[str, list[str]]]:
    """``(module, names)`` for every import, in functions too; ``if TYPE_CHECKING:`` optional."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node) and not typing_too:
            yield from (i for child in node.orelse for i in _imports_of(child, typing_too))
            continue
        yield from _imports_of(node, typing_too)


def _imports_of(node: ast.AST, typing_too: bool) -> Iterator[tuple[str, list[str]]]:
    if isinstance(node, ast.Import):
        yield from ((alias.name, []) for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        assert node.level == 0, "relative imports are banned (ruff TID252)"
        yield node.module or "", [alias.name for alias in node.names]
    else:
        yield from _imports(node, typing_too)


def _public_api() -> dict[str, str]:
    """Where each name ``from between import NAME`` is really loaded from (``_EXPORTS``)."""
    tree = ast.parse(SOURCES["between"].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_EXPORTS":
            exports = ast.literal_eval(node.value)
            return {name: module for module, names in exports.items() for name in names}
    raise AssertionError("the root __init__.py has no _EXPORTS table")


def import_graph(typing_too: bool) -> dict[str, set[str]]:
    """Each source module and the source modules it imports (``from X import sub`` → X.sub)."""
    api = _public_api()
    graph: dict[str, set[str]] = {}
    for module, path in SOURCES.items():
        targets = set()
        for imported, names in _imports(ast.parse(path.read_text(encoding="utf-8")), typing_too):
            if imported == "between" and module != "between":
                targets |= {api.get(n, f"between.{n}") for n in names}
            elif imported.startswith("between."):
                subs = {f"{imported}.{n}" for n in names} & SOURCES.keys()
                targets |= subs or {imported}
        graph[module] = {t for t in targets if t in SOURCES} - {module}
        unknown = {t for t in targets if t not in SOURCES and t.startswith("between")}
        assert not unknown, f"{module} imports {unknown}, which are not source modules"
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_source_is_found():
    assert {"between", "between.cli", "between.engine.hooks.loading", "between.events.base"} <= set(
        SOURCES
    )
    assert not any(".tests" in m or ".bench" in m for m in SOURCES)


def test_no_import_cycles():
    assert cycles(import_graph(typing_too=False)) == []


def test_no_import_cycles_not_even_through_type_hints():
    """Counting imports for type hints only (``if TYPE_CHECKING:``) and those in functions,
    still no circle — in ``engine/`` as everywhere: each module depends one way. (Once three
    did: hook specs and plugin loading, the light reader and its records, a store address
    and its backends.)"""
    assert cycles(import_graph(typing_too=True)) == []


def broken(rule, typing_too: bool = True) -> dict[str, set[str]]:
    graph = import_graph(typing_too)
    return {m: bad for m, targets in graph.items() if (bad := {t for t in targets if rule(m, t)})}


def test_events_import_only_events():
    assert (
        broken(lambda m, t: m.startswith("between.events") and not t.startswith("between.events"))
        == {}
    )


def test_the_language_room_stands_on_nothing_of_betweens():
    """``between.language`` (catalogs and locale formats) is used from every floor, the engine's
    checks of a language included, so it imports nothing of Between's but itself."""
    assert (
        broken(
            lambda m, t: (
                m.startswith("between.language")
                and t.startswith("between.")
                and not t.startswith("between.language")
            )
        )
        == {}
    )


FEATURES = (
    "between.audit",
    "between.notify",
    "between.importing",
    "between.portal",
    "between.reports",
    "between.fhir_r4",
)


def test_the_engine_imports_no_commands_features_or_plugins():
    """Feature packages (auditing, notification delivery, import, the portal, reports, FHIR)
    use the engine and the events; never the reverse."""
    outer = ("between.cli", "between.commands", "between.plugins", *FEATURES)
    assert broken(lambda m, t: m.startswith("between.engine") and t.startswith(outer)) == {}


def test_the_engine_is_a_few_rooms_that_say_what_they_are():
    """``engine/`` holds sub-packages and the few modules every room uses; no module name is
    another's with a suffix (``sealing``/``seals``, ``links``/``link_commands`` once)."""
    rooms = sorted(p.name for p in (ROOT / "engine").iterdir() if (p / "__init__.py").exists())
    assert rooms == ["aggregates", "contracts", "folds", "hooks", "reading", "storage", "work"]
    loose = sorted(p.stem for p in (ROOT / "engine").glob("*.py"))
    assert loose == ["__init__", "app", "configuration", "errors", "settings", "validate"]
    stems = sorted(
        {
            p.stem
            for p in ROOT.rglob("*.py")
            if p.parts[len(ROOT.parts)] in ("engine", "notify", "importing")
            and p.stem != "__init__"
        }
    )
    near = [
        (a, b) for a in stems for b in stems if a != b and b.startswith(a) and len(b) - len(a) <= 2
    ]
    assert near == []


CORE = ("between.engine", "between.audit", "between.events", "between.commands", "between.cli")


def test_built_in_plugins_use_the_public_api_only():
    """``from between import NAME`` for names of the public API, a sibling plugin, or the
    plugin's own feature package (``between.fhir_r4``, ``between.reports``) — as a clinic's
    distribution brings its own modules — but never Between's core packages directly."""
    api = _public_api()
    wrong = {}
    for module, path in SOURCES.items():
        if not module.startswith("between.plugins."):
            continue
        for imported, names in _imports(ast.parse(path.read_text(encoding="utf-8")), True):
            if imported == "between":
                bad = [f"between.{n}" for n in names if n not in api]
            elif imported.startswith(CORE):
                bad = [imported]
            else:
                bad = []
            wrong.setdefault(module, set()).update(bad)
    assert {m: bad for m, bad in wrong.items() if bad} == {}


def test_the_checks_see_imports_in_functions_but_not_type_checking_only_ones():
    tree = ast.parse(
        textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from between.commands.session import Session
        else:
            import between.engine.storage.store
        def later():
            from between.engine import app
        """)
    )
    assert [m for m, _ in _imports(tree, False)] == [
        "typing",
        "between.engine.storage.store",
        "between.engine",
    ]
    assert "between.commands.session" in [m for m, _ in _imports(tree, True)]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_over_400_lines():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in SOURCES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_only_the_storage_package_asks_which_kind_of_store_it_has():
    """Everything that differs between SQLite and PostgreSQL is a store backend's
    (``kinds.backend_for(store)``); no other module, benchmarks included, branches on
    ``is_sqlite``."""
    files = {**SOURCES, **{f"bench.{p.stem}": p for p in (ROOT / "bench").glob("*.py")}}
    asking = sorted(
        module
        for module, path in files.items()
        if not module.startswith("between.engine.storage.")
        and "is_sqlite" in path.read_text(encoding="utf-8")
    )
    assert asking == []


# -- packaging ------------------------------------------------------------------------------


def run(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """Between's wheel, built from a copy of the checkout (its build/ may hold stale files),
    and that copy."""
    work = tmp_path_factory.mktemp("wheel")
    checkout = work / "checkout"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "*.db*"),
    )
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", checkout)
    (wheel,) = (work / "dist").glob("between_homework-*.whl")
    return wheel, checkout


@pytest.mark.slow
def test_the_wheel_holds_between_and_every_source_module_only(built):
    wheel, checkout = built
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = {n.split("/")[0] for n in names} - {"between"}
    assert len(dist_info) == 1 and dist_info.pop().endswith(".dist-info"), names
    modules = {n for n in names if n.endswith(".py")}
    expected = {
        f"between/{p.relative_to(checkout).as_posix()}" for p in source_files(checkout).values()
    }
    assert sorted(expected - modules) == [], "source modules missing from the wheel"
    assert sorted(modules - expected) == [], "the wheel holds modules the checkout does not"
    assert "between/py.typed" in names


def squatter(folder: Path, name: str, packages: tuple[str, ...]) -> Path:
    """A wheel of a distribution whose top-level packages are named like Between's folders
    (written directly: no build back-end, no index)."""
    dist_info = f"{name.replace('-', '_')}-1.0.dist-info"
    files = {
        f"{package}/__init__.py": f"raise ImportError('{name} has a top-level {package}')\n"
        for package in packages
    }
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: test_house\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    wheel = folder / f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.slow
def test_between_runs_beside_distributions_with_its_folder_names(built, tmp_path):
    """Top-level ``plugins``, ``cli``, ``engine`` and ``events`` of other distributions neither
    shadow Between nor share files with it: removing them leaves Between whole."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)  # this pip installs into it
    python, between = venv / "bin" / "python", venv / "bin" / "between"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BETWEEN_", "PYTHON", "VIRTUAL"))
    }
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def sh(*args: str | Path) -> str:
        return run(*args, cwd=tmp_path, env=env)

    def pip(*args: str | Path) -> str:
        return sh(sys.executable, "-m", "pip", "--python", python, *args)

    pip("install", "--quiet", "--no-compile", built[0])
    others = [
        squatter(tmp_path, "clinic-tools", ("plugins", "cli")),
        squatter(tmp_path, "clinic-core", ("engine", "events")),
    ]
    pip("install", "--quiet", "--no-index", *others)
    origin = sh(python, "-c", "import importlib.util as u; print(u.find_spec('engine').origin)")
    assert origin.strip().endswith("site-packages/engine/__init__.py")

    assert "C-104" in sh(between, "demo")
    pip("uninstall", "--yes", "--quiet", "clinic-tools", "clinic-core")
    assert "C-104" in sh(between, "demo")
    pip("check")


def test_the_wheel_is_between_homework_with_the_between_command(built):
    """``between`` on the package index is an unrelated project: ours is ``between-homework``,
    its import package and command ``between``."""
    names = zipfile.ZipFile(built[0]).namelist()
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    headers = zipfile.ZipFile(built[0]).read(metadata).decode()
    assert "\nName: between-homework\n" in headers
    (points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "between = between.cli:main" in zipfile.ZipFile(built[0]).read(points).decode()


def _dependencies_top_level_names() -> dict[str, str]:
    """Each top-level import name of Between's dependencies (test extra included), with its
    distribution."""
    import re
    from importlib.metadata import distribution, packages_distributions

    wanted = set()
    for requirement in distribution("between-homework").requires or ():
        wanted.add(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower())
    canon = {name: re.sub(r"[-_.]+", "-", name).lower() for name in wanted}
    names = {}
    for top, dists in packages_distributions().items():
        for dist in dists:
            if re.sub(r"[-_.]+", "-", dist).lower() in canon.values():
                names[top] = dist
    return names


def test_no_folder_of_the_checkout_shadows_a_dependency():
    """Run from the checkout root (where ``python -m`` puts the folder first on ``sys.path``),
    every dependency's top-level package is still the installed one: no checkout folder or
    module bears its name (``fhir/`` once hid ``fhir.resources``)."""
    names = _dependencies_top_level_names()
    assert {"fhir", "flask", "eventsourcing", "click", "pluggy"} <= set(names), names
    at_root = {p.stem if p.suffix == ".py" else p.name for p in ROOT.iterdir()}
    assert sorted(at_root & set(names)) == []
    probe = "; ".join(
        [
            "import importlib, sys",
            "names = sys.argv[1:]",
            "found = [importlib.util.find_spec(n) for n in names]",
            "print('\\n'.join(f'{n} {s.origin or list(s.submodule_search_locations)}'"
            " for n, s in zip(names, found)))",
        ]
    )
    tops = sorted(n for n in names if n.isidentifier() and not n.startswith("_"))
    out = subprocess.run(
        [sys.executable, "-c", f"import importlib.util; {probe}", *tops],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    folders = [ROOT / p.name for p in ROOT.iterdir() if not p.name.startswith(".")]
    inside = [line for line in out.splitlines() if any(f"{f}" in line for f in folders)]
    assert inside == [], "checkout folders shadow installed dependencies"


# -- typing ---------------------------------------------------------------------------------


MISUSE = """
from between import Field, TaskTypeRegistry, hookimpl


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(Field("mood", "integer"))
"""


def test_the_example_plugin_passes_mypy_strict_against_the_installed_between(tmp_path):
    """mypy cannot follow the editable install's import hook, so it is shown the installed
    package (wherever Python finds it) as a package named ``between`` on PYTHONPATH."""
    assert importlib.util.find_spec("mypy"), "mypy is in the test extra: pip install -e '.[test]'"
    spec = importlib.util.find_spec("between")
    assert spec and spec.submodule_search_locations
    site = tmp_path / "site"
    site.mkdir()
    (site / "between").symlink_to(Path(spec.submodule_search_locations[0]), True)
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-namespace-packages",  # the example is the top-level module between_gratitude
            "--cache-dir",
            str(tmp_path / "cache"),
            str(ROOT / "tests" / "example_plugin" / "between_gratitude.py"),
            str(misuse),
        ],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    # the control proves mypy sees Between's real types: with Any it would say nothing
    assert errors == [
        f'{misuse}:7: error: Argument 1 to "add" of "TaskTypeRegistry" has incompatible type '
        '"Field"; expected "TaskType"  [arg-type]'
    ], done.stdout + done.stderr


#: Each feature takes a protocol of what it needs, not ``Homework``: the application must
#: still provide each (checked with the package, by mypy).
PROTOCOLS = """
from between.audit.log_source import AuditSource, LogSource, RecordSource
from between.engine.app import Homework
from between.portal.context import PortalHomework
from between.reports.source import ReportSource


def features(
    app: Homework,
) -> tuple[LogSource, RecordSource, AuditSource, ReportSource, PortalHomework]:
    return app, app, app, app, app
"""


def test_mypy_reports_no_error_over_the_installed_package(tmp_path):
    """The whole installed package type-checks with the project's [tool.mypy] table: strict on
    the public API and the built-in plugins; ``Homework`` provides each feature's protocol.
    mypy cannot follow the editable install, so it is shown a copy of the installed package's
    modules laid out as the package ``between``."""
    assert importlib.util.find_spec("mypy"), "mypy is in the test extra: pip install -e '.[test]'"
    spec = importlib.util.find_spec("between")
    assert spec and spec.submodule_search_locations
    installed = Path(spec.submodule_search_locations[0])
    package = tmp_path / "between"
    for path in [*source_files(installed).values(), installed / "py.typed"]:
        copy = package / path.relative_to(installed)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    (tmp_path / "protocols.py").write_text(PROTOCOLS)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "between",
            "protocols.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0 and ": error:" not in done.stdout, done.stdout + done.stderr
