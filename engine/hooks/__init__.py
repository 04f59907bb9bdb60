"""Plugins: the hook specifications, the one hook caller, the registries the registration hooks
fill, and loading plugins from entry points and a folder."""
