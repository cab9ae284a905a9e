"""The `shequn` command line, one module per command group; `app.py` puts them together.

`shequn.cli:main` is the entry point ([project.scripts] in pyproject.toml).
"""

from shequn.cli.app import app, main

__all__ = ["app", "main"]
