"""Photo bytes -> an upright RGB Pillow image, or a clear, typed refusal.

Uploads are untrusted: sizes are checked on the byte count and on the header's pixel
count *before* any pixel is decoded, Pillow may only use the formats we list (no EPS or
other formats that shell out), and every failure becomes an ``ImageError`` that carries
the HTTP status the API answers with.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

import pi_heif
from PIL import Image, ImageOps, UnidentifiedImageError

pi_heif.register_heif_opener()

MAX_BYTES = 15 * 1024 * 1024
DECODE_MAX_SIDE = 1920
"""JPEGs larger than this are decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling), never below it.

Detection reads far fewer pixels anyway (``model.detect.working_scale``: a 12 MP photo decoded
at 2016 px is read at a third of that), and the faces it promises to find keep at least the 200 px that
the aligned crop needs; a 12 MP phone photo decodes in a quarter of the time. Boxes are still reported in the photo's own pixels
(``photo_scale``)."""
SCALE_KEY = "face2data.photo_scale"
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "GIF", "BMP", "TIFF")
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own bomb guard, as a second line of defence


class ImageError(ValueError):
    """An upload we refuse; ``status`` is the HTTP status and ``code`` a stable machine name."""

    status = 400
    code = "invalid_image"


class EmptyImage(ImageError):
    code = "empty_image"


class UnreadableImage(ImageError):
    code = "unreadable_image"


class ImageTooLarge(ImageError):
    status = 413
    code = "image_too_large"


class UnsupportedImageType(ImageError):
    status = 415
    code = "unsupported_media_type"


def _looks_like_other_format(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"%pdf", b"<!doctype", b"<html")) or b"<svg" in head


def refuse_oversize(size: int) -> None:
    """``ImageTooLarge`` for a file of ``size`` bytes over ``MAX_BYTES``: checked before reading where the size is known first."""
    if size > MAX_BYTES:
        raise ImageTooLarge(f"The file is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")


def decode_data_url(url: str) -> bytes:
    """The bytes of a browser upload's data URL (``data:<type>;base64,<data>``), or ``UnreadableImage``."""
    try:
        return base64.b64decode(url.partition(",")[2], validate=True)
    except (binascii.Error, ValueError) as error:
        raise UnreadableImage("The upload could not be read: please try the file again.") from error


def photo_scale(image: Image.Image) -> float:
    """Photo pixels per pixel of a decoded image: 1, or 2, 4 or 8 for a large JPEG decoded reduced."""
    return image.info.get(SCALE_KEY, 1.0)


def photo_size(image: Image.Image) -> tuple[int, int]:
    """The photo's own size in pixels (width, height), upright, whatever scale it was decoded at."""
    scale = photo_scale(image)
    return round(image.width * scale), round(image.height * scale)


def decode_image(data: bytes, max_side: int | None = DECODE_MAX_SIDE) -> Image.Image:
    """Decode an uploaded photo: EXIF orientation applied, first frame, RGB.

    A JPEG larger than ``max_side`` is decoded reduced (see ``DECODE_MAX_SIDE``); ``None``
    decodes every pixel. Raises an ``ImageError`` subclass for empty, unreadable, too large
    or unsupported input.
    """
    if not data:
        raise EmptyImage("The upload is empty: send a JPEG, PNG, WebP or HEIC photo.")
    refuse_oversize(len(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise ImageTooLarge(f"The photo is {image.width}x{image.height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels.")
            image.seek(0)
            width = image.width
            if max_side and image.format == "JPEG" and max(image.size) > max_side:
                ratio = max_side / max(image.size)
                image.draft("RGB", (round(image.width * ratio), round(image.height * ratio)))
            image.load()
            scale = width / image.width
            ImageOps.exif_transpose(image, in_place=True)  # a 12 MP photo is 36 MB: no second copy
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge(f"The photo has too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels.") from error
    except UnidentifiedImageError as error:
        if _looks_like_other_format(data):
            raise UnsupportedImageType("This file type is not supported: send a JPEG, PNG, WebP or HEIC photo.") from error
        raise UnreadableImage("The file is not an image we can read: send a JPEG, PNG, WebP or HEIC photo.") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise UnreadableImage("The image is damaged or truncated and cannot be decoded.") from error
    rgb = _to_rgb(image)
    rgb.info[SCALE_KEY] = scale
    return rgb


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode to RGB; transparency is flattened onto white, 16-bit gray scaled to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")
