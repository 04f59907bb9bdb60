"""Plugins: the hook specifications, the one hook caller, and loading plugins from entry points and
a folder."""
