"""``between import``: a clinic's records in bulk, through the same commands as the CLI."""
