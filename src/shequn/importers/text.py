"""Decoding exports whose encoding is not declared: UTF-8 (with or without BOM),
UTF-16 with a BOM, and GBK/GB18030 for older Chinese exports."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TextIO

from shequn.errors import InputError
from shequn.importers.source import Source

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(head: bytes, *, allow_gb18030: bool = True) -> str:
    """Pick the encoding from the first bytes of a file.

    UTF-8 is preferred; a head that is not valid UTF-8 is GB18030 (a superset of GBK
    and GB2312) when allowed, which is what Chinese Windows tools wrote.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" in head[:4096]:
        raise InputError(
            "the file holds NUL bytes: it is binary, or UTF-16 without a byte-order mark",
            hint="export the chat as text (UTF-8), or save the file as UTF-8",
        )
    # The head may end inside a multi-byte character (UTF-8, or GBK's two and GB18030's
    # four bytes): incremental decoders hold such a tail back instead of failing on it.
    if _decodes(head, "utf-8"):
        return "utf-8"
    if allow_gb18030 and _decodes(head, "gb18030"):
        return "gb18030"
    raise InputError(
        "the text is neither UTF-8 nor GBK/GB18030",
        hint="save the file as UTF-8 and import it again",
    )


def _decodes(head: bytes, encoding: str) -> bool:
    """Whether a file's first bytes are valid in an encoding, a cut last character aside."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes, path: str, *, allow_gb18030: bool = True) -> str:
    """Decode a whole file, naming the line of the first undecodable byte."""
    try:
        encoding = detect_encoding(data[:65536], allow_gb18030=allow_gb18030)
    except InputError as exc:
        raise InputError(exc.message, path=path, hint=exc.hint) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"byte {data[exc.start]:#04x} cannot be read as {encoding}",
            path=path,
            line=line,
            hint="the file mixes encodings or is damaged; save it as UTF-8 and import again",
        ) from None
    return text


class _Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it (for progress bars)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


@contextmanager
def open_text(
    raw: BinaryIO, path: str, *, allow_gb18030: bool = True
) -> Iterator[tuple[TextIO, Callable[[], int]]]:
    """A text stream over a binary file with its encoding detected from the head,
    and a function telling how many bytes have been read so far.

    For large files: memory stays bounded. A byte that the encoding cannot read
    later in the file raises InputError naming the file (callers add the line).
    """
    buffered = io.BufferedReader(_Counting(raw), buffer_size=1 << 20)
    try:
        encoding = detect_encoding(buffered.peek(65536)[:65536], allow_gb18030=allow_gb18030)
    except InputError as exc:
        raise InputError(exc.message, path=path, hint=exc.hint) from None
    counter = buffered.raw
    stream = io.TextIOWrapper(buffered, encoding=encoding, newline="")
    try:
        yield stream, lambda: counter.count  # type: ignore[attr-defined]
    except UnicodeDecodeError as exc:
        raise InputError(
            f"a byte cannot be read as {encoding} ({exc.reason})",
            path=path,
            hint="the file mixes encodings or is damaged; save it as UTF-8 and import again",
        ) from None
    finally:
        stream.detach()


def head_text(source: Source, size: int = 8192) -> str | None:
    """The decoded start of a one-file source, for `sniff`; None if it is not one
    file or not text. Characters cut at the end of the head are replaced, and a
    byte-order mark is dropped."""
    names = source.names()
    if len(names) != 1:
        return None
    head = source.head(names[0], size)
    try:
        decoder = codecs.getincrementaldecoder(detect_encoding(head))(errors="replace")
    except InputError:
        return None
    return decoder.decode(head, final=False).lstrip("\ufeff")
