"""A photo collection like a user's: 50 photos of mixed sizes (some with several faces) and three bad files."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from support import FIXTURES


@pytest.fixture(scope="session")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("collection")
    sources = {
        name: Image.open(FIXTURES / name).convert("RGB")
        for name in ("astronaut.png", "group.jpg", "group_selfie.jpg", "utkface_crop.jpg", "camera.png", "chelsea.png")
    }
    for index in range(50):
        name, image = list(sources.items())[index % len(sources)]
        scale = 0.6 + 0.1 * (index % 7)
        variant = image.resize((round(image.width * scale), round(image.height * scale)))
        if index % 4 == 1:
            variant = ImageOps.mirror(variant)
        (folder / f"set{index % 3}").mkdir(exist_ok=True)
        variant.save(folder / f"set{index % 3}" / f"{index:02d}-{name.split('.')[0]}.jpg", quality=90)
    (folder / "notes.txt").write_text("not a photo\n")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes((FIXTURES / "astronaut_exif_rotated.jpg").read_bytes()[:4000])
    return folder
