"""Command line: age, gender and race of every face in images or folders of images.

Usage: ``python -m model.predict PATH... [--json] [--skip-detection]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from model.api import analyze
from model.decode import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff"}


def iter_paths(paths: list[Path]) -> Iterator[Path]:
    """Each file given, and the images inside each folder given (sorted)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(child for child in path.iterdir() if child.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def predict_file(path: Path, skip_detection: bool) -> dict:
    """``{"file", "faces"}`` for a readable image, ``{"file", "error"}`` otherwise."""
    try:
        faces = analyze(path, skip_detection=skip_detection)
    except (ImageError, OSError) as error:
        return {"file": str(path), "error": str(error)}
    return {"file": str(path), "faces": [face.to_dict() for face in faces]}


def _top(head: dict) -> str:
    label = head["label"]
    return f"{label} {head['probabilities'][label]:.0%}"


def format_table(result: dict) -> str:
    """Human-readable lines for one image."""
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    if not result["faces"]:
        return f"{result['file']}: no face found"
    lines = [
        f"{result['file']}: {len(result['faces'])} face(s)",
        f"  {'#':>2}  {'age':>5}  {'80% range':>9}  {'gender':<14}  {'race':<16}  box (x, y, w, h)",
    ]
    for number, face in enumerate(result["faces"], start=1):
        low, high = face["age_range"]
        gender = _top(face["gender"])
        race = _top(face["race"])
        lines.append(f"  {number:>2}  {face['age']:>5.1f}  {f'{low}-{high}':>9}  {gender:<14}  {race:<16}  {face['box']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="an image, or a folder of images")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image (JSON lines)")
    parser.add_argument(
        "--skip-detection",
        dest="skip_detection",
        action="store_true",
        help="images are already aligned face crops: read each whole",
    )
    args = parser.parse_args(argv)
    failures = 0
    for path in iter_paths(args.paths):
        result = predict_file(path, args.skip_detection)
        failures += "error" in result
        print(json.dumps(result) if args.json else format_table(result), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
