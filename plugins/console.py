"""The console channel: prints each message (the demo uses it; handy for a first setup)."""

from __future__ import annotations

from typing import Any

import click

from between import Delivery, Message, hookimpl


class Console:
    name = "console"
    address_key = None

    def send(self, message: Message, settings: Any) -> Delivery:
        to = message.role if message.recipient == message.role else message.recipient
        click.echo(f"[console → {to}] {message.subject}: {message.text} (key {message.key[:8]})")
        return Delivery("delivered")


@hookimpl
def between_register_channels(registry: Any) -> None:
    registry.add(Console())
