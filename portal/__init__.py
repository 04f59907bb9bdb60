"""The client portal served by ``between serve`` (docs/portal.md)."""
