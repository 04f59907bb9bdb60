"""Reports: a client's homework for the therapist before a session, and the clinic's figures.

``between report`` (contributed by the built-in plugin ``between.plugins.reports``) reads the
store read-only; ``docs/reports.md`` describes the pages and the JSON shape.
"""
