"""A built-in plugin: the client portal's ``serve`` command (docs/portal.md)."""
