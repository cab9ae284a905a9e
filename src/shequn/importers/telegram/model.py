"""The shape of a Telegram Desktop ``result.json``, as msgspec structs.

Only the fields shequn reads are declared: msgspec skips every other field without
building Python objects for it, which is what makes a 100 MB export decode fast.
Structs are ``gc=False`` because half a million message objects would otherwise be
scanned by every garbage collection pass (they hold no reference cycles).
"""

from __future__ import annotations

import msgspec


class Entity(msgspec.Struct, gc=False):
    """One piece of a formatted text: ``{"type": "mention", "text": "@bob"}``."""

    type: str = "plain"
    text: str = ""
    # Set on `mention_name` (a mention of someone without a username).
    user_id: int | str | None = None


class Recent(msgspec.Struct, gc=False):
    """Someone who reacted (newer exports list the latest reactors)."""

    from_: str | None = msgspec.field(default=None, name="from")
    from_id: str | int | None = None
    # Local time of the exporting computer, without a zone.
    date: str | None = None


class Reaction(msgspec.Struct, gc=False):
    """One reaction on a message: an emoji, how many, and the latest who."""

    type: str = "emoji"
    count: int = 0
    emoji: str | None = None
    document_id: str | int | None = None
    recent: list[Recent] = []


class Message(msgspec.Struct, gc=False):
    """A message or a service action (``type`` is ``message`` or ``service``)."""

    id: int | None = None
    type: str = "message"
    date: str | None = None
    date_unixtime: str | int | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    from_id: str | int | None = None
    text: str | list[str | Entity] = ""
    reply_to_message_id: int | None = None
    forwarded_from: str | None = None
    media_type: str | None = None
    photo: str | None = None
    file: str | None = None
    reactions: list[Reaction] | None = None
    # Service actions.
    action: str | None = None
    actor: str | None = None
    actor_id: str | int | None = None
    members: list[str | None] | None = None
    inviter: str | None = None


class Chat(msgspec.Struct, gc=False):
    """One chat with its messages."""

    name: str | None = None
    type: str | None = None
    id: int | None = None
    messages: list[Message] = []


class ChatHead(msgspec.Struct, gc=False):
    """A chat without its messages: enough to decide whether to import it."""

    name: str | None = None
    type: str | None = None
    id: int | None = None


class ChatList(msgspec.Struct, gc=False):
    """``chats`` / ``left_chats`` of a full export; each chat kept raw, decoded one by one."""

    items: list[msgspec.Raw] = msgspec.field(default_factory=list, name="list")


class Person(msgspec.Struct, gc=False):
    """The exporting user (``personal_information`` of a full export)."""

    user_id: int | None = None
    first_name: str = ""
    last_name: str = ""

    @property
    def display_name(self) -> str:
        """How Telegram Desktop writes this user's name in ``from`` and ``members``."""
        return f"{self.first_name} {self.last_name}".strip()


class Export(msgspec.Struct, gc=False):
    """A whole ``result.json``: a single chat (top-level messages) or a full export."""

    name: str | None = None
    type: str | None = None
    id: int | None = None
    messages: list[Message] | None = None
    chats: ChatList | None = None
    left_chats: ChatList | None = None
    personal_information: Person | None = None


EXPORT_DECODER = msgspec.json.Decoder(Export)
CHAT_DECODER = msgspec.json.Decoder(Chat)
HEAD_DECODER = msgspec.json.Decoder(ChatHead)
