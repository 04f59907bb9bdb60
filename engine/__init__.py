"""The homework workflow: rules, commands, read models, plugins and store settings."""
