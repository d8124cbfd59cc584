"""The photos that benchmarks send and tests check, built from the committed fixtures (deterministic).

They stand for what people upload: a portrait whose face fills the frame, a phone's 12 MP
photo, a group selfie, a composite group and an already cropped face.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter

from support import FIXTURES

PORTRAIT = "1 MP portrait, face fills the frame"
PHONE = "12 MP phone photo, one face"
SELFIE = "group selfie, 7 faces"
GROUP = "composite group, 6 faces"
CROP = "200x200 UTKFace crop"


def paste_face(canvas: Image.Image, face: Image.Image, x: int, y: int, side: int) -> None:
    """Blend a square face crop into ``canvas`` at ``(x, y)``, ``side`` pixels wide, through a soft oval.

    The oval hides the crop's square edges, which a detector could otherwise key on.
    """
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((side * 0.08, 0, side * 0.92, side), fill=255)
    canvas.paste(face.resize((side, side), Image.Resampling.LANCZOS), (x, y), mask.filter(ImageFilter.GaussianBlur(max(1, side / 25))))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def benchmark_photos() -> dict[str, bytes]:
    """name -> JPEG bytes of each photo (see the module docstring), in the order reports list them."""
    astronaut = Image.open(FIXTURES / "astronaut.png").convert("RGB")
    portrait = astronaut.crop((80, 20, 380, 220)).resize((1225, 817), Image.Resampling.LANCZOS)
    phone = Image.open(FIXTURES / "chelsea.png").convert("RGB").resize((4032, 3024)).filter(ImageFilter.GaussianBlur(8))
    phone.paste(astronaut.resize((2400, 2400), Image.Resampling.LANCZOS), (1100, 400))
    return {
        PORTRAIT: jpeg(portrait),
        PHONE: jpeg(phone),
        SELFIE: (FIXTURES / "group_selfie.jpg").read_bytes(),
        GROUP: (FIXTURES / "group.jpg").read_bytes(),
        CROP: (FIXTURES / "utkface_crop.jpg").read_bytes(),
    }


def benchmark_face() -> Image.Image:
    """One UTKFace-style aligned crop, for timing the network alone."""
    return Image.open(FIXTURES / "utkface_crop.jpg").convert("RGB")
