"""DiscordChatExporter exports (JSON, and its CSV variant).

The importer itself is in ``importer.py``; the registry in ``shequn.importers`` finds it
here as ``IMPORTER``.
"""

from shequn.importers.discord.importer import IMPORTER, DiscordImporter

__all__ = ["IMPORTER", "DiscordImporter"]
