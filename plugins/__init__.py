"""Built-in plugins: each a small module using only the public API (``from between import
...``), found through the ``between`` entry points in ``pyproject.toml`` exactly as a
clinic's installed plugins are."""
