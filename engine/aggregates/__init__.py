"""Aggregates: the records and the rules of their lives (assignment, client, notification, operator
list) and the personal-link token."""
