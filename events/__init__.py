"""The event vocabulary of Between and the tools that read the log.

Event classes are a storage format: each has a stable topic (never a module path)
and a ``class_version``. See ``events.base`` for the rules. ``events.catalog`` (standard
library only) is the one place for each topic's facts: its record kind, personal fields and
version, and the constants every consumer keys on.
"""
