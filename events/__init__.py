"""The event vocabulary of Between and the tools that read the log.

Event classes are a storage format: each has a stable topic (never a module path)
and a ``class_version``. See ``events.base`` for the rules.
"""
