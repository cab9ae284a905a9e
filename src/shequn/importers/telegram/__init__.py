"""Telegram Desktop's JSON export (result.json).

The importer itself is in ``importer.py``; the registry in ``shequn.importers`` finds it
here as ``IMPORTER``.
"""

from shequn.importers.telegram.importer import IMPORTER, TelegramImporter

__all__ = ["IMPORTER", "TelegramImporter"]
