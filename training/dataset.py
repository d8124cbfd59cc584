"""UTKFace on disk -> labelled uint8 arrays, one set per canonical split.

Labels come from the file names (``age_gender_race_date.jpg.chip.jpg``); which split a file
belongs to comes only from the project's split CSV, matched by file name, so no test image
can ever leak into training through a re-split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from model.preprocess import preprocess
from training.contract import GENDERS, MAX_AGE, RACES

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class FaceLabel:
    """Ground truth read from one UTKFace file name (indices follow ``training.contract``)."""

    age: int
    gender: int
    race: int


@dataclass
class SplitArrays:
    """One split, preprocessed: ``images`` is ``(n, size, size, 3)`` uint8."""

    files: np.ndarray
    images: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    race: np.ndarray

    def __len__(self) -> int:
        return len(self.files)


FIELDS = tuple(field.name for field in dataclasses.fields(SplitArrays))
"""``SplitArrays``' arrays by name, in order: how the caches store them and how splits are cut and joined."""


def parse_name(name: str) -> FaceLabel:
    """Read the labels of a UTKFace file name; raise ``ValueError`` for a malformed one."""
    fields = Path(name).name.split("_")
    if len(fields) < 4:
        raise ValueError(f"{name!r} does not have the form age_gender_race_date")
    try:
        age, gender, race = (int(field) for field in fields[:3])
    except ValueError as error:
        raise ValueError(f"{name!r} has a non-numeric label field") from error
    if not (0 <= age <= MAX_AGE and 0 <= gender < len(GENDERS) and 0 <= race < len(RACES)):
        raise ValueError(f"{name!r} has a label out of range")
    return FaceLabel(age, gender, race)


def iter_images(source: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(file name, JPEG bytes)`` from the official ``.tar.gz`` or an unpacked folder."""
    source = Path(source)
    if source.is_dir():
        for path in sorted(source.rglob("*.jpg")):
            yield path.name, path.read_bytes()
    elif source.is_file() and tarfile.is_tarfile(source):
        with tarfile.open(source, "r:*") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".jpg"):
                    yield Path(member.name).name, archive.extractfile(member).read()
    else:
        raise ValueError(f"{source} is neither a folder nor a tar archive of UTKFace")


def read_split(split_csv: Path) -> pd.Series:
    """Map file name -> split name, from the canonical CSV."""
    table = pd.read_csv(split_csv, usecols=["file", "split"])
    unknown = set(table["split"]) - {*SPLITS, "excluded"}
    if unknown:
        raise ValueError(f"{split_csv} has unknown split names {sorted(unknown)}")
    return table.set_index("file")["split"]


def sha256_of(path: Path) -> str:
    """Fingerprint of the dataset, recorded in config.json so a run can be traced to its data."""
    path = Path(path)
    if path.is_dir():
        return "folder:" + hashlib.sha256("\n".join(sorted(p.name for p in path.rglob("*.jpg"))).encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_splits(
    source: Path,
    split_csv: Path,
    size: int,
    splits: tuple[str, ...] = SPLITS,
    corrupt: Callable[[Image.Image], Image.Image] | None = None,
) -> dict[str, SplitArrays]:
    """Decode, label and preprocess every image of ``splits`` once, grouped by split.

    Malformed names are skipped with a single warning; files the CSV does not list, or
    marks ``excluded``, never enter any split. ``corrupt`` degrades each decoded photo
    before preprocessing, to measure robustness to real-world uploads.
    """
    split_of = read_split(split_csv)
    rows: dict[str, list] = {split: [] for split in splits}
    malformed: list[str] = []
    for name, data in iter_images(source):
        try:
            label = parse_name(name)
        except ValueError:
            malformed.append(name)
            continue
        split = split_of.get(name)
        if split not in rows:
            continue
        with Image.open(io.BytesIO(data)) as image:
            rows[split].append((name, preprocess(corrupt(image) if corrupt else image, size), label))
    if malformed:
        log.warning("skipped %d malformed UTKFace names: %s", len(malformed), ", ".join(malformed))
    return {split: _stack(items, size) for split, items in rows.items()}


def _stack(items: list, size: int) -> SplitArrays:
    return SplitArrays(
        files=np.array([name for name, _, _ in items], dtype=str),
        images=np.stack([pixels for _, pixels, _ in items]) if items else np.zeros((0, size, size, 3), np.uint8),
        age=np.array([label.age for _, _, label in items], dtype=np.float32),
        gender=np.array([label.gender for _, _, label in items], dtype=np.int32),
        race=np.array([label.race for _, _, label in items], dtype=np.int32),
    )


def load_splits_cached(source: Path, split_csv: Path, size: int, cache_dir: Path | None) -> dict[str, SplitArrays]:
    """:func:`load_splits`, memoised in an ``.npz`` per split so later runs skip decoding."""
    if cache_dir is None:
        return load_splits(source, split_csv, size)
    cache = Path(cache_dir) / f"utkface-{size}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            return {split: SplitArrays(*(stored[f"{split}_{field}"] for field in FIELDS)) for split in SPLITS}
    splits = load_splits(source, split_csv, size)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache,
        **{f"{split}_{field}": getattr(arrays, field) for split, arrays in splits.items() for field in FIELDS},
    )
    return splits
