"""What the built-in commands are, without importing them: the module that adds each, and the
help line ``between --help`` shows for it.

``between --help`` lists every command; importing the ten modules that define them to read
their help would cost more than the rest of the listing. Each line here is the command's own
short help at any width (``click.Command.get_short_help_str``), which click shortens for the
terminal as it would the command's; a test keeps the two identical.
"""

from __future__ import annotations

#: The modules of ``between.commands`` that add the built-in commands, each with
#: ``register(cli)``, in the order they add them, with the names they add: a module is imported
#: when one of its commands runs.
COMMAND_MODULES = {
    "store": ("demo", "init", "rebuild", "rekey"),
    "clients": ("client",),
    "links": ("client",),  # adds ``client link`` to the group ``clients`` adds
    "operators": ("operators",),
    "homework": ("adjust", "agree", "assign", "cancel", "close", "decline", "review", "submit"),
    "importing": ("import",),
    "reading": ("agenda", "list", "show"),
    "auditing": ("checkpoint", "history", "log", "replay", "verify"),
    "notifications": ("notify",),
    "plugins": ("plugins", "types"),
    "templates": ("template",),
    "protocols": ("protocol",),
}

#: Each built-in command's short help, as ``between --help`` shows it.
SHORT_HELP = {
    "adjust": "Change a proposal together with the client, before they agree.",
    "agenda": "What to review at the start of this client's next session.",
    "agree": "Record that the client agreed to the homework.",
    "assign": (
        "Propose homework of TASK_TYPE (or --template) for client CODE (parameters as --field)."
    ),
    "cancel": "Withdraw homework that is proposed or agreed.",
    "checkpoint": "Verify the log, then print a digest of its head to keep somewhere else.",
    "client": "Register clients and the people who help them.",
    "close": "Close agreed homework; nothing more can be recorded on it.",
    "decline": "Record that the client declined the homework, and why.",
    "demo": "Walk one client through a week of homework on a fresh SQLite store.",
    "history": "One client's (by code) or assignment's (by id) timeline in plain language.",
    "import": (
        "Import clients, homework, entries and reviews from FILE (JSON Lines, or CSV entries)."
    ),
    "init": "Create the store (a SQLite file by default) and its tables.",
    "list": (
        "List homework (from the read model), by due date: the first 30 unless --limit N or "
        "--all (which prints every row as it is read); standard error says when there are more."
    ),
    "log": "Stream the log in order, read-only (a table, or the JSON Lines export).",
    "notify": "Send the notifications the log calls for (once, or --follow).",
    "operators": "Who may act on this store, and whether that is enforced.",
    "plugins": "List loaded plugins, their versions and the hooks they implement.",
    "protocol": "The clinic's protocols: ladders of templates (see docs/library.md).",
    "rebuild": "Delete the read model and rebuild it from the log.",
    "rekey": "Copy this store into a new one encrypted with a new key, and prove the copy.",
    "replay": "Rebuild state from events alone: at a moment (--at), or as a check (--check).",
    "review": "Review the homework at the start of a session.",
    "show": "Show one assignment: what, why, entries, reviews and the summary.",
    "submit": "Record an entry (fields as --field, a JSON file, or answered at prompts).",
    "template": "The clinic's homework templates (see docs/library.md).",
    "types": "List task types (the kinds of homework).",
    "verify": "Check the log's hash chain; exit 0 when intact, 1 when broken.",
}
