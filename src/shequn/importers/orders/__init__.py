"""Orders exported from shops as CSV.

The importer itself is in ``importer.py``; the registry in ``shequn.importers`` finds it
here as ``IMPORTER``.
"""

from shequn.importers.orders.importer import IMPORTER, OrdersImporter

__all__ = ["IMPORTER", "OrdersImporter"]
