"""The Batch tab's upload, read as the batch CLI reads its inputs: photos and zip archives, in memory, within the caps."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import partial

from model.batch.inputs import ZIP_SEPARATOR, archive_members
from model.decode import ImageError, decode_data_url, refuse_oversize

MAX_PHOTOS = 100
"""Photos one batch of the dashboard takes; collections go to ``python -m model.batch``."""


class BatchRefused(ValueError):
    """A batch over the caps: the message says which and how to fit."""


def uploaded_photos(contents: list[str], filenames: list[str], max_bytes: int) -> list[tuple[str, Callable[[], bytes]]]:
    """(name, reader) of every photo of the upload, zip archives opened in memory; refused over the caps.

    ``max_bytes`` is ``Settings.batch_max_bytes``. A reader returns the photo's bytes or raises
    the API's ``ImageError`` (unreadable, over ``MAX_BYTES``), which ``photo_rows`` turns into an
    error row, as the batch CLI does.
    """
    total = sum(len(content.partition(",")[2]) * 3 // 4 for content in contents)  # base64 carries 3 bytes in 4 characters
    if total > max_bytes:
        raise BatchRefused(
            f"These files add up to {total / 2**20:.0f} MB; a batch takes up to {max_bytes / 2**20:.0f} MB (BATCH_MAX_MB). Send fewer or smaller photos."
        )
    photos = []
    for content, name in zip(contents, filenames, strict=True):
        read = partial(decode_data_url, content)
        archive = _zip_archive(name, read)
        photos += _members(name, archive) if archive else [(name, read)]
    if len(photos) > MAX_PHOTOS:
        raise BatchRefused(
            f"This batch holds {len(photos)} photos; a batch takes up to {MAX_PHOTOS}. Split it, or use `python -m model.batch` for collections."
        )
    return photos


def _zip_archive(name: str, read: Callable[[], bytes]) -> zipfile.ZipFile | None:
    """The upload as an open zip archive, if it is named and made like one."""
    if not name.lower().endswith(".zip"):
        return None
    try:
        data = io.BytesIO(read())
    except ImageError:
        return None
    return zipfile.ZipFile(data) if zipfile.is_zipfile(data) else None


def _members(name: str, archive: zipfile.ZipFile) -> list[tuple[str, Callable[[], bytes]]]:
    """A reader per photo of ``archive`` (``archive_members``: as the CLI reads it), refusing a member over ``MAX_BYTES`` before reading it."""

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            refuse_oversize(info.file_size)
            return archive.read(info)

        return read

    return [(f"{name}{ZIP_SEPARATOR}{info.filename}", reader(info)) for info in archive_members(archive)]
