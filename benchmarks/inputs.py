"""The photos the benchmarks send, built from the committed fixtures (deterministic)."""

from __future__ import annotations

import io

from PIL import Image

from support import FIXTURES


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def benchmark_photos() -> dict[str, bytes]:
    """name -> JPEG bytes: a 200x200 crop, 1 MP with one face, 12 MP with one face, a 6-face group."""
    astronaut = Image.open(FIXTURES / "astronaut.png").convert("RGB")
    twelve = Image.new("RGB", (4000, 3000), (90, 100, 110))
    twelve.paste(astronaut.resize((3000, 3000)), (500, 0))
    return {
        "200x200 crop": (FIXTURES / "utkface_crop.jpg").read_bytes(),
        "1 MP, one face": _jpeg(astronaut.resize((1024, 1024))),
        "12 MP, one face": _jpeg(twelve),
        "group, 6 faces": (FIXTURES / "group.jpg").read_bytes(),
    }


def benchmark_face() -> Image.Image:
    """One UTKFace-style aligned crop, for timing the network alone."""
    return Image.open(FIXTURES / "utkface_crop.jpg").convert("RGB")
