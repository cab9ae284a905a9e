"""The web console: `create_app(workspace)` (FastAPI), thin routes, templates, static files.

Every route reads through the same functions the CLI calls and writes through
`shequn.services`. `shequn serve` runs it (`shequn.cli_web`).
"""

from shequn.web.app import create_app

__all__ = ["create_app"]
