import json

import numpy as np
import pytest
import skimage.data
from PIL import Image

from model.align import FaceTemplate, align_face, similarity_transform
from model.config import MODEL_DIR
from model.decode import decode_image, photo_scale, photo_size
from model.detect import BAND_ROWS, LANDMARK_NAMES, NMS_BLOCK, FaceDetector, _bands, _Network, _nms, _patches, _read_level
from model.predictor import get_predictor
from support import FIXTURES
from support.photos import PHONE, benchmark_photos

DETECTOR = FaceDetector()
TEMPLATE = FaceTemplate.load()
detect_faces = DETECTOR.detect_faces


def photo(fixture_bytes, name):
    return decode_image(fixture_bytes(name))


def test_one_face_with_box_score_and_landmarks(fixture_bytes):
    (face,) = detect_faces(photo(fixture_bytes, "astronaut.png"))
    x, y, width, height = face.box
    # The astronaut's face lies around x 180-265, y 60-175 in the 512x512 picture.
    assert 160 < x < 200 and 40 < y < 90 and 70 < width < 110 and 90 < height < 135
    assert face.score > 0.95
    assert set(face.landmarks) == set(LANDMARK_NAMES)
    left, right = face.landmarks["left_eye"], face.landmarks["right_eye"]
    assert left[0] < right[0]  # "left" is the image's left
    assert left[1] < face.landmarks["mouth_left"][1]


def test_every_face_of_a_group(fixture_bytes):
    faces = detect_faces(photo(fixture_bytes, "group.jpg"))
    assert len(faces) == 6
    # make_fixtures.py pasted one face per tile at (60 + 480 * column, 60 + 430 * row).
    tiles = sorted((int((f.box[1] + f.box[3] / 2 - 60) // 430), int((f.box[0] + f.box[2] / 2 - 60) // 480)) for f in faces)
    assert tiles == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_no_face_in_a_cat(fixture_bytes):
    assert detect_faces(photo(fixture_bytes, "chelsea.png")) == []


def test_large_photos_are_detected_downscaled_and_mapped_back(fixture_bytes):
    small = photo(fixture_bytes, "astronaut.png")
    large = small.resize((3000, 3000))
    (face_small,) = detect_faces(small)
    (face_large,) = detect_faces(large)
    scale = 3000 / 512
    assert np.allclose(np.array(face_large.box) / scale, face_small.box, atol=6)


@pytest.mark.parametrize("enlarged", [2, 4])
def test_a_close_up_with_sensor_noise_aligns_like_the_clean_face(fixture_bytes, enlarged):
    """A face several times the crop's size is shrunk with a filter, not point-sampled: its noise averages out.

    Sampled one point per crop pixel, the noise (sigma 10) would stay at full strength (about
    7 grey levels off on average, measured); shrunk 2 or 4 times by a box filter first, it is
    halved or better.
    """
    face = photo(fixture_bytes, "utkface_crop.jpg").resize((200 * enlarged, 200 * enlarged), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", (face.width + 300, face.height + 200), (90, 90, 90))
    clean.paste(face, (150, 100))
    noise = np.random.default_rng(0).normal(0, 10, (clean.height, clean.width, 3))
    noisy = Image.fromarray(np.clip(np.asarray(clean, np.float32) + noise, 0, 255).astype(np.uint8))
    (found,) = detect_faces(clean)
    aligned_clean = np.asarray(align_face(clean, found, TEMPLATE), np.float32)
    aligned_noisy = np.asarray(align_face(noisy, found, TEMPLATE), np.float32)
    assert np.abs(aligned_noisy - aligned_clean).mean() < 4.5
    assert aligned_clean.std() > 20  # a face, not a blank crop


def test_similarity_transform_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = points @ (scale * rotation).T + shift
    matrix = similarity_transform(points, moved)
    assert np.allclose(matrix[:, :2], scale * rotation) and np.allclose(matrix[:, 2], shift)


def test_aligned_face_puts_landmarks_on_the_template(fixture_bytes):
    image = photo(fixture_bytes, "astronaut.png")
    (face,) = detect_faces(image)
    crop = align_face(image, face, TEMPLATE)
    assert crop.size == (TEMPLATE.size, TEMPLATE.size)
    (again,) = detect_faces(crop)
    assert np.abs(again.landmark_array() - TEMPLATE.landmarks).max() < 8  # pixels in a 200 px crop


@pytest.mark.parametrize("name", ["utkface_crop.jpg"])
def test_a_utkface_crop_aligns_onto_itself(fixture_bytes, name):
    image = photo(fixture_bytes, name)
    (face,) = detect_faces(image)
    crop = align_face(image, face, TEMPLATE)
    difference = np.abs(np.asarray(crop, np.int16) - np.asarray(image, np.int16)).mean()
    assert difference < 25, difference
    assert isinstance(crop, Image.Image)


RECORDED = json.loads((FIXTURES / "detections.json").read_text())
REJECTED = {"camera.png": {1}}
"""Recorded detections that the mirror check (``VERIFY_THRESHOLD``) now drops: the man's ear in camera.png, a false positive."""


def recorded_photo(name: str) -> bytes:
    return (FIXTURES / name).read_bytes() if (FIXTURES / name).exists() else benchmark_photos()[name]


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_detections_match_the_recorded_pipeline(name):
    """Speed-ups may not move a box: every photo gives the faces, boxes and landmarks recorded before them, less the known false positives."""
    faces = detect_faces(decode_image(recorded_photo(name), max_side=None))
    expected = [face for index, face in enumerate(RECORDED[name]) if index not in REJECTED.get(name, set())]
    assert len(faces) == len(expected)
    for face, recorded in zip(faces, expected, strict=True):
        assert np.allclose(face.box, recorded["box"], atol=0.11)
        assert face.score == pytest.approx(recorded["score"], abs=1e-3)
        assert np.allclose(face.landmark_array(), [recorded["landmarks"][name] for name in LANDMARK_NAMES], atol=0.11)


def test_a_machine_part_that_mtcnn_calls_a_face_is_rejected_by_the_mirror_check():
    """The recall benchmark's motorcycle background has no person, but O-Net alone scores a bracket in it 0.97."""
    motorcycle = Image.fromarray(skimage.data.stereo_motorcycle()[0]).resize((1280, 960))
    assert detect_faces(motorcycle) == []


@pytest.mark.parametrize("name", [PHONE])
def test_a_large_jpeg_decoded_reduced_finds_the_same_face_in_photo_pixels(name):
    """A 12 MP JPEG is decoded at half size; the Predictor still reports the recorded box, in full-size pixels."""
    (recorded,) = RECORDED[name]
    image = decode_image(recorded_photo(name))
    assert photo_scale(image) == 2.0 and photo_size(image) == (4032, 3024)
    (face,) = get_predictor().predict(image)
    size = recorded["box"][3]
    assert np.abs(np.array(face.box) - recorded["box"]).max() < 0.03 * size
    landmarks = np.array([face.landmarks[name] for name in LANDMARK_NAMES])
    assert np.abs(landmarks - [recorded["landmarks"][name] for name in LANDMARK_NAMES]).max() < 0.03 * size


def test_patches_are_pillows_extent_crops_box_by_box(fixture_bytes):
    """One canvas for all patches, yet each is what ``transform(EXTENT, BILINEAR)`` gives, outside the photo included (grey)."""
    image = photo(fixture_bytes, "group.jpg")
    boxes = np.array(
        [
            [10.3, 20.7, 60.2, 70.6, 0.9],
            [-15.0, -8.5, 30.0, 36.5, 0.8],
            [image.width - 40.5, image.height - 30.2, image.width + 9.5, image.height + 19.8, 0.7],
        ]
    )
    expected = [
        np.asarray(image.transform((24, 24), Image.Transform.EXTENT, tuple(box[:4]), Image.Resampling.BILINEAR, fillcolor=(128, 128, 128)))
        for box in boxes
    ]
    assert np.array_equal(_patches(image, boxes, 24), (np.stack(expected).astype(np.float32) - 127.5) / 128.0)


@pytest.mark.parametrize("size", [(1225, 817), (1600, 1000), (4032, 3024), (1001, 333), (961, 960)])
def test_the_two_core_downscale_is_pillows_box_resize_to_the_pixel(size):
    """Large photos are shrunk for detection in bands on two threads; the pixels must be Pillow's own BOX resize."""
    image = Image.fromarray(np.random.default_rng(sum(size)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    target = (round(size[0] * 960 / max(size)), round(size[1] * 960 / max(size)))
    assert np.array_equal(np.asarray(DETECTOR._shrink(image, target)), np.asarray(image.resize(target, Image.Resampling.BOX)))


@pytest.mark.parametrize("height", [12, 13, BAND_ROWS, BAND_ROWS + 1, 137, 272, 384, 385, 576, 577])
def test_pnet_bands_read_what_the_whole_level_reads(height):
    """P-Net reads tall levels in bands (one shape per level); its outputs must be the whole level's, to the bit."""
    level = np.random.default_rng(height).uniform(-1, 1, (1, height, 41, 3)).astype(np.float32)
    pnet = _Network((MODEL_DIR / "detector" / "pnet.tflite").read_bytes(), threads=1)
    whole = pnet(level)
    bands = _bands(height)
    assert len({rows for _, rows, _ in bands}) == 1 and all(start % 2 == 0 for start, _, _ in bands)
    assert height <= BAND_ROWS or max(rows for _, rows, _ in bands) <= BAND_ROWS + 1
    read = _read_level(pnet, level)
    for banded, output in zip(read, whole, strict=True):
        assert np.array_equal(banded, output)


def _overlap_ratio(box, other, method):
    (x1, y1, x2, y2), (ox1, oy1, ox2, oy2) = box[:4], other[:4]
    overlap = max(0.0, min(x2, ox2) - max(x1, ox1)) * max(0.0, min(y2, oy2) - max(y1, oy1))
    area, other_area = (x2 - x1) * (y2 - y1), (ox2 - ox1) * (oy2 - oy1)
    return overlap / max(min(area, other_area) if method == "min" else area + other_area - overlap, 1e-9)


def _greedy_nms(boxes, threshold, method):
    """The textbook loop, box by box: keep the best remaining box, drop what it overlaps too much."""
    remaining, keep = sorted(range(len(boxes)), key=lambda index: -boxes[index, 4]), []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [other for other in remaining if _overlap_ratio(boxes[best], boxes[other], method) <= threshold]
    return keep


@pytest.mark.parametrize(("threshold", "method"), [(0.5, "union"), (0.7, "union"), (0.7, "min")])
def test_nms_keeps_what_the_greedy_loop_keeps(threshold, method):
    rng = np.random.default_rng(7)
    for count in (0, 1, 5, 60, NMS_BLOCK + 45):
        corners = rng.uniform(0, 300, (count, 2))
        boxes = np.column_stack([corners, corners + rng.uniform(1, 90, (count, 2)), rng.permutation(count) / max(count, 1)])
        assert list(_nms(boxes, threshold, method)) == _greedy_nms(boxes, threshold, method)
