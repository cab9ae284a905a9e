"""WeChat chats exported as CSV by MemoTrace (留痕).

The importer is in ``importer.py``, the join and removal lines in ``system.py``; the
registry in ``shequn.importers`` finds the importer here as ``IMPORTER``.
"""

from shequn.importers.wechat.importer import HEADER, IMPORTER, WeChatImporter

__all__ = ["HEADER", "IMPORTER", "WeChatImporter"]
