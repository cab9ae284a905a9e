"""What an importer reads: a file, a folder or a zip, behind one interface."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from shequn.errors import InputError

HEAD_BYTES = 64 * 1024


@dataclass
class Source:
    """A user-given path seen as a set of named files.

    A plain file is a source with one file (its own name). A folder lists every file
    below it, a zip every member; names use ``/`` and are relative to the root.
    """

    path: Path
    _zip: zipfile.ZipFile | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: Path) -> Source:
        if not path.exists():
            raise InputError("no such file or folder", path=str(path), hint="check the path")
        if path.is_file() and zipfile.is_zipfile(path):
            try:
                archive = zipfile.ZipFile(path)
                bad = archive.testzip()
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(
                    f"the zip archive is damaged ({exc})",
                    path=str(path),
                    hint="export the chat again, or unzip it and import the folder",
                ) from exc
            if bad is not None:
                raise InputError(
                    f"the zip archive is damaged at member {bad!r}",
                    path=str(path),
                    hint="export the chat again, or unzip it and import the folder",
                )
            return cls(path, archive)
        if path.is_file() and path.suffix.lower() == ".zip":
            raise InputError(
                "this .zip file is truncated or not a zip archive",
                path=str(path),
                hint="download or export it again; a complete zip ends with its central directory",
            )
        return cls(path)

    @property
    def is_container(self) -> bool:
        """True for a folder or a zip."""
        return self._zip is not None or self.path.is_dir()

    def names(self) -> list[str]:
        """Every file in the source, sorted; a plain file lists its own name."""
        if self._zip is not None:
            return sorted(
                info.filename
                for info in self._zip.infolist()
                if not info.is_dir() and not _is_junk(info.filename)
            )
        if self.path.is_dir():
            return sorted(
                p.relative_to(self.path).as_posix()
                for p in self.path.rglob("*")
                if p.is_file() and not _is_junk(p.relative_to(self.path).as_posix())
            )
        return [self.path.name]

    def open_binary(self, name: str) -> IO[bytes]:
        if self._zip is not None:
            return self._zip.open(name)
        if self.path.is_dir():
            return (self.path / name).open("rb")
        return self.path.open("rb")

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        if self.path.is_dir():
            return (self.path / name).stat().st_size
        return self.path.stat().st_size

    def head(self, name: str, n: int = HEAD_BYTES) -> bytes:
        with self.open_binary(name) as fh:
            return fh.read(n)

    def read_bytes(self, name: str) -> bytes:
        with self.open_binary(name) as fh:
            return fh.read()

    def where(self, name: str) -> str:
        """How to name a file of this source in an error message."""
        if self._zip is not None or self.path.is_dir():
            return f"{self.path}/{name}" if self.path.is_dir() else f"{self.path}!{name}"
        return str(self.path)

    def sub(self, name: str) -> Source:
        """A one-file view of a member (for importing a folder file by file)."""
        return _Member(self.path, self._zip, name)

    def total_size(self) -> int:
        return sum(self.size(n) for n in self.names())

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


@dataclass
class _Member(Source):
    member: str = ""

    def __init__(self, path: Path, archive: zipfile.ZipFile | None, member: str) -> None:
        super().__init__(path, archive)
        self.member = member

    @property
    def is_container(self) -> bool:
        return False

    def names(self) -> list[str]:
        return [self.member]


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)
