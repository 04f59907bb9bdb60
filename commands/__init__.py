"""The command groups of the ``between`` command line, one module each."""
