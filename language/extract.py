"""Finding the words to translate in Python source, for Babel's ``pybabel extract``.

Besides ``gettext``/``ngettext``/``_`` calls (Babel's own Python extractor), this finds the
client-facing words a plugin writes as plain arguments — a field's question, help line and
choices, a task type's or template's title and summary, a template's instructions and
rationale, a report chart's title, axis labels, description and series labels (``Chart``,
``Series``; by keyword or in their positional places) — so plugin authors need not mark
them (``babel.cfg`` maps the files; its ``words`` option names the keyword arguments) — and
the message of each refusal the command line prints (``NotFound("no client %(code)s",
code=code)``: the first argument of a call to one of ``errors``, Between's error classes).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

#: The keyword arguments whose string (or tuple of strings) is shown to clients.
WORDS = "question help choices title summary instructions rationale"
#: The calls those keywords are read from.
CALLS = "Field TaskType Template"
#: A report chart's words (``engine.contracts.charts``), shown to the reader through ``_()``.
CHART_WORDS = "title x_label y_label description label"
#: The calls those are read from, each with its parameters in order: a word given by
#: position is found by its parameter's name (``Chart("Entries per day", [...])``).
CHARTS = {
    "Chart": "title series kind x x_label y_label y_min y_max description",
    "Series": "label points",
}
#: The errors (``engine.errors`` and its kin) whose first argument is a message to translate.
ERRORS = (
    "BetweenError InvalidInput InvalidEntry RuleViolation NotFound Conflict StoreError "
    "PluginError DispatcherBusy LeaseLost KeysUnavailable NotObserved DeliveryFailed BadRecord "
    "InvalidResource ServeError"
)


def extract_python(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, str]
) -> Iterator[tuple[Any, ...]]:
    """Babel's extractor for ``gettext`` calls, then the plain words (see the module)."""
    from babel.messages.extract import extract_python as marked

    yield from marked(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    fileobj.seek(0)
    words = set(options.get("words", WORDS).split())
    calls = set(options.get("calls", CALLS).split())
    source = fileobj.read().decode("utf-8")
    yield from plain_words(source, words, calls)
    yield from plain_words(source, set(CHART_WORDS.split()), set(CHARTS), CHARTS)
    yield from error_messages(source, set(options.get("errors", ERRORS).split()))


def error_messages(source: str, errors: set[str]) -> Iterator[tuple[int, None, str, list[str]]]:
    """(line, None, message, []) for each string given first to one of ``errors``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in errors and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value:
                yield first.lineno, None, first.value, []


def plain_words(
    source: str, words: set[str], calls: set[str], positional: dict[str, str] | None = None
) -> Iterator[tuple[int, None, str, list[str]]]:
    """(line, None, text, []) for each string given as one of ``words`` to one of ``calls`` —
    or to a subclass of one defined in the same file (``class Relaxation(TaskType)``), or to a
    function of the file that returns one (``def _exposure(...) -> Template``). A word given as
    a module-level name (``choices=TECHNIQUES``) is read from that name's tuple of strings.
    ``positional`` names a call's parameters in order, so its positional arguments count as
    those keywords."""
    tree = ast.parse(source)
    carriers = set(calls)
    constants: dict[str, ast.expr] = {}
    for statement in tree.body:
        if _carrier(statement, carriers):
            carriers.add(statement.name)  # type: ignore[attr-defined]
        elif isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            constants[statement.targets[0].id] = statement.value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in carriers:
            continue
        names = (positional or {}).get(_name(node.func), "").split()
        by_place = zip(names, node.args, strict=False)  # each argument given by place, named
        given = [*by_place, *((k.arg, k.value) for k in node.keywords)]
        for name, value in given:
            if name not in words:
                continue
            if isinstance(value, ast.Name) and value.id in constants:
                value = constants[value.id]
            found = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
            for item in found:
                if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value:
                    yield item.lineno, None, item.value, []


def _carrier(node: ast.stmt, carriers: set[str]) -> bool:
    """A class based on a carrier, or a function annotated to return one."""
    if isinstance(node, ast.ClassDef):
        return any(_name(base) in carriers for base in node.bases)
    return isinstance(node, ast.FunctionDef) and _name(node.returns) in carriers


def _name(func: ast.expr | None) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Constant) and isinstance(func.value, str):
        return func.value  # a quoted annotation
    return func.attr if isinstance(func, ast.Attribute) else ""
