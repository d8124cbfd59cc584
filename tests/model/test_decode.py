import io

import numpy as np
import pytest
from PIL import Image

from model.decode import EmptyImage, ImageTooLarge, UnreadableImage, UnsupportedImageType, decode_image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_exif_orientation_is_applied(fixture_bytes):
    upright = decode_image(fixture_bytes("astronaut.png"))
    turned = decode_image(fixture_bytes("astronaut_exif_rotated.jpg"))
    assert turned.size == upright.size
    difference = np.abs(np.asarray(turned, np.int16) - np.asarray(upright, np.int16)).mean()
    assert difference < 6, difference  # same picture up to JPEG loss, not a rotated one


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "1"])
def test_every_mode_becomes_rgb(fixture_bytes, mode):
    source = Image.open(io.BytesIO(fixture_bytes("astronaut.png"))).convert("RGB")
    converted = source.convert("I;16") if mode == "I;16" else source.convert(mode)
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    decoded = decode_image(encode(converted, fmt))
    assert decoded.mode == "RGB" and decoded.size == source.size


def test_rgba_transparency_is_flattened_onto_white(fixture_bytes):
    decoded = decode_image(fixture_bytes("astronaut_rgba.png"))
    assert decoded.mode == "RGB" and decoded.getpixel((10, 10)) == (255, 255, 255)


def test_first_frame_of_an_animation(fixture_bytes):
    source = Image.open(io.BytesIO(fixture_bytes("astronaut.png"))).convert("RGB")
    frames = [source, Image.new("RGB", source.size, (0, 0, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert np.asarray(decode_image(data)).mean() > 50  # not the black second frame


def test_heic_from_a_phone(fixture_bytes):
    decoded = decode_image(fixture_bytes("astronaut.heic"))
    assert decoded.mode == "RGB" and decoded.size == (256, 256)


@pytest.mark.parametrize("fmt", ["WEBP", "JPEG", "BMP", "TIFF"])
def test_common_formats(fixture_bytes, fmt):
    source = Image.open(io.BytesIO(fixture_bytes("astronaut.png"))).convert("RGB")
    assert decode_image(encode(source, fmt)).size == (512, 512)


def test_bad_inputs_get_typed_errors_with_http_statuses(fixture_bytes):
    cases = [
        (b"", EmptyImage, 400),
        (b"just some text pretending to be a photo", UnreadableImage, 400),
        (fixture_bytes("astronaut_exif_rotated.jpg")[:3000], UnreadableImage, 400),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', UnsupportedImageType, 415),
        (fixture_bytes("bomb.png"), ImageTooLarge, 413),
        (b"\xff\xd8" + b"\x00" * (16 * 1024 * 1024), ImageTooLarge, 413),
    ]
    for data, error_class, status in cases:
        with pytest.raises(error_class) as raised:
            decode_image(data)
        assert raised.value.status == status and str(raised.value)


def test_pixel_limit_is_checked_before_decoding():
    # 8000 x 6000 = 48 MP of a single colour compresses to a few kB but must be refused.
    data = encode(Image.new("L", (8000, 6000)), "PNG")
    assert len(data) < 200_000
    with pytest.raises(ImageTooLarge, match="40 megapixels"):
        decode_image(data)
