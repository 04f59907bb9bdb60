"""A clinic's own plugin: a gratitude-list task type, its report chart and a ``between gratitude``
command."""

from collections.abc import Mapping, Sequence
from typing import Any

import click

from between import (
    Chart,
    Field,
    Schema,
    Series,
    TaskType,
    TaskTypeRegistry,
    hookimpl,
    mean_of,
    points_of,
)


class GratitudeList(TaskType):
    def summarise(
        self, entries: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {"entries": len(entries), "mean_items": mean_of(entries, "count")}

    def validate_entry(
        self, data: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> dict[str, Any]:
        clean = super().validate_entry(data, parameters)
        clean["count"] = len(clean["items"])
        return clean


GRATITUDE = GratitudeList(
    name="gratitude-list",
    title="Gratitude list",
    description="Each evening, write down things you were grateful for today.",
    category="practice",
    parameters=Schema((Field("items_per_day", "integer", required=False, minimum=1, maximum=10),)),
    entries=Schema(
        (
            Field("items", "list", help="what you were grateful for, comma-separated"),
            Field("count", "integer", required=False, minimum=0, help="filled in for you"),
        )
    ),
)


@hookimpl
def between_register_task_types(registry: TaskTypeRegistry) -> None:
    registry.add(GRATITUDE)


@hookimpl
def between_register_commands(cli: click.Group) -> None:
    @cli.command("gratitude")
    @click.option("--items", default=3, show_default=True, help="How many prompts.")
    def gratitude(items: int) -> None:
        """Print prompts for tonight's gratitude list."""
        for n in range(1, items + 1):
            click.echo(f"{n}. Something that went well today, however small")


@hookimpl
def between_report_charts(task_type: str, assignments: list[dict[str, Any]]) -> list[Chart] | None:
    if task_type != GRATITUDE.name:
        return None
    entries = [e for a in assignments for e in a["entry_list"]]
    items = Series("things noted", points_of(entries, "count"))
    return [Chart("Things noted each evening", [items], y_label="items", y_min=0)]
