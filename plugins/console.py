"""The console channel: prints each message (the demo uses it; handy for a first setup)."""

from __future__ import annotations

import click

from between import Delivery, hookimpl


class Console:
    name = "console"
    address_key = None

    def send(self, message, settings):
        to = message.role if message.recipient == message.role else message.recipient
        click.echo(f"[console → {to}] {message.subject}: {message.text} (key {message.key[:8]})")
        return Delivery("delivered")


@hookimpl
def between_register_channels(registry):
    registry.add(Console())
