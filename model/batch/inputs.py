"""What a batch run reads: folders (recursive), zip archives, image files and text files listing paths.

Each photo becomes an ``Item`` that names where its bytes are, not the bytes: items travel to
Dask workers, which read the photos themselves from storage they share with the client.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from model.decode import refuse_oversize

LIST_SUFFIXES = (".txt", ".lst")
"""A file argument with one of these suffixes is a list of paths, one per line, not a photo."""
ZIP_SEPARATOR = "!"
"""A zip member's ``file`` is ``archive.zip!folder/photo.jpg``."""


@dataclass(frozen=True)
class Item:
    """One photo to read: a file, or a member of a zip archive."""

    file: str
    """What the table's ``file`` column says: the absolute path, or ``archive!member``."""
    path: str
    member: str | None = None

    def read(self) -> bytes:
        """The photo's bytes; ``ImageTooLarge`` before reading anything over the API's byte limit."""
        if self.member is None:
            size = Path(self.path).stat().st_size
        else:
            with zipfile.ZipFile(self.path) as archive:
                size = archive.getinfo(self.member).file_size
        refuse_oversize(size)
        if self.member is None:
            return Path(self.path).read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.member)


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def archive_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """An archive's photos to read: its files by name, hidden ones and those in hidden folders skipped (the CLI and the Batch tab alike)."""
    return sorted(
        (info for info in archive.infolist() if not info.is_dir() and _visible(Path(info.filename), Path())), key=lambda info: info.filename
    )


def items_of(argument: str | Path, base: Path | None = None) -> list[Item]:
    """The photos one argument names; a path that does not exist is one item, which will fail to read."""
    path = Path(argument) if base is None or Path(argument).is_absolute() else base / argument
    path = path.resolve()
    if path.is_dir():
        return [Item(str(file), str(file)) for file in sorted(path.rglob("*")) if file.is_file() and _visible(file, path)]
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = archive_members(archive)
        return [Item(f"{path}{ZIP_SEPARATOR}{info.filename}", str(path), info.filename) for info in members]
    if path.suffix.lower() in LIST_SUFFIXES and path.is_file():
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
        return [item for line in lines if line and not line.startswith("#") for item in items_of(line, path.parent)]
    return [Item(str(path), str(path))]


def collect(arguments: list[str]) -> list[Item]:
    """Every photo the arguments name, each once, in the order given (folders and archives sorted)."""
    seen: dict[str, Item] = {}
    for argument in arguments:
        for item in items_of(argument):
            seen.setdefault(item.file, item)
    return list(seen.values())
