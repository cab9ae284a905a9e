"""WhatsApp chat exports (.txt, or the zip WhatsApp writes).

The importer itself is in ``importer.py``; the registry in ``shequn.importers`` finds it
here as ``IMPORTER``.
"""

from shequn.importers.whatsapp.importer import IMPORTER, WhatsAppImporter

__all__ = ["IMPORTER", "WhatsAppImporter"]
