"""What a WhatsApp export says about its people, learnt in a first pass over the file.

Display names may hold ``": "`` (``~ Li Wei: Team Lead``), which is also what ends the
sender of a message: such names can only be told from a sender followed by text once
they are known from a line that certainly names them (a join by invite link, an iOS
system text). And the exporting user is "You" in system lines but their display name
on their own messages; their name is certain where they deleted a message of theirs
(``Name: You deleted this message``). Both need the whole file before any message is
read, so the importer reads it twice; this pass looks at a few lines per thousand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from shequn.importers.whatsapp.system import normalize_name, system_names

# The lines `system_names` trusts whose names hold ": " (so the body holds it too).
_NAMING_HINT = r": .* joined using |: .* joined from the community$|: \x{200e}"
# What the exporter's own deleted messages read as (others' read "This message was deleted").
_DELETED_BY_ME = r": \x{200e}?You deleted this message\.?$"


@dataclass
class KnownNames:
    """Names learnt from every chunk of one file.

    Attributes:
        chat: the chat's name (iOS prefixes some system lines with it).
        long_names: display names holding ``": "``, from lines that certainly name them.
        me: display names that deleted a message as "You" (one: the exporter).
    """

    chat: str
    long_names: set[str] = field(default_factory=set)
    me: set[str] = field(default_factory=set)

    def learn(self, bodies: pl.Series) -> None:
        """Learn from the bodies (what follows the date) of a chunk's header lines."""
        system = bodies.filter(bodies.str.contains(_NAMING_HINT))
        for body in system.to_list():
            self.long_names.update(n for n in system_names(body, self.chat) if ": " in n)
        for body in bodies.filter(bodies.str.contains(_DELETED_BY_ME)).to_list():
            self.me.add(normalize_name(body.rsplit(": ", 1)[0]))  # the text is fixed

    def exporter(self) -> str:
        """The exporter's display name when the file makes it certain, else ""."""
        return next(iter(self.me)) if len(self.me) == 1 else ""
