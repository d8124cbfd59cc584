"""Batch throughput: images per second of ``python -m model.batch`` on 1 and 2 local Dask workers.

Usage: ``python -m benchmarks.batch``

Two folders built from the committed fixtures: 48 photos of about 1 megapixel (portraits,
group photos, a selfie) and 24 of mixed sizes (200 px crops to 12 MP phone photos). Each is
run on a local cluster of 1, then 2 worker processes (one thread each); the rate counts from
the first task to the last result, after the workers have loaded the model. Writes
``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from benchmarks.common import publish
from model.batch.inputs import collect
from model.batch.runner import Totals, run_batch
from support.photos import CROP, GROUP, PHONE, PORTRAIT, SELFIE, benchmark_photos, jpeg


def one_megapixel(folder: Path, count: int) -> Path:
    """``count`` photos of about 1 MP, cycling through the portrait, the selfie and the group, mirrored every other time."""
    photos = benchmark_photos()
    sources = [Image.open(io.BytesIO(photos[name])) for name in (PORTRAIT, SELFIE, GROUP)]
    for index in range(count):
        image = sources[index % len(sources)]
        scale = (1_000_000 / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        (folder / f"{index:03d}.jpg").write_bytes(jpeg(ImageOps.mirror(image) if index % 2 else image))
    return folder


def mixed_sizes(folder: Path, count: int) -> Path:
    """``count`` photos cycling through all benchmark photos: a 200 px crop to a 12 MP phone photo."""
    photos = benchmark_photos()
    names = [CROP, PORTRAIT, SELFIE, GROUP, PHONE]
    for index in range(count):
        (folder / f"{index:03d}.jpg").write_bytes(photos[names[index % len(names)]])
    return folder


def images_per_second(folder: Path, workers: int, out: Path) -> float:
    items = collect([str(folder)])
    totals = Totals()
    seconds = run_batch(items, out, totals.add, workers=workers)
    assert totals.files == len(items) and totals.errors == 0
    return len(items) / seconds


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=48, help="photos in the 1 MP folder (half as many in the mixed one)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="face2data-batch-")).resolve()
    for name in ("1mp", "mixed"):
        (work / name).mkdir()
    folders = {
        f"{args.photos} photos of about 1 MP": one_megapixel(work / "1mp", args.photos),
        f"{args.photos // 2} photos of mixed sizes (0.04 to 12 MP)": mixed_sizes(work / "mixed", args.photos // 2),
    }
    lines = [
        "Local Dask cluster, one process per worker, one thread each.",
        "",
        "| folder | 1 worker | 2 workers | speed-up |",
        "|---|---|---|---|",
    ]
    for label, folder in folders.items():
        rates = [images_per_second(folder, workers, work / f"{folder.name}-{workers}.parquet") for workers in (1, 2)]
        lines.append(f"| {label} | {rates[0]:.1f} images/s | {rates[1]:.1f} images/s | {rates[1] / rates[0]:.2f}x |")
    return publish("Batch throughput", "python -m benchmarks.batch (make benchmark-batch)", lines)


if __name__ == "__main__":
    main()
