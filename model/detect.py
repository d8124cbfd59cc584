"""Find every face in a photo: MTCNN's three networks under LiteRT, the rest in numpy.

The networks come from the ``mtcnn`` package (exported by ``training.export_detector``);
the image pyramid, box regression and non-maximum suppression follow that package's own
pipeline, so the boxes and landmarks match it without importing TensorFlow.
"""

from __future__ import annotations

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from model.config import MODEL_DIR
from model.runtime import run_padded

DETECTION_MAX_SIDE = 960
"""Photos are downscaled so their longest side is at most this for detection; boxes are mapped back."""
MIN_FACE_SIZE = 20
"""Smallest face searched for, in pixels of the (downscaled) detection image."""
THRESHOLDS = (0.6, 0.7, 0.8)
"""Face-probability thresholds of P-Net, R-Net and O-Net (the ``mtcnn`` package's defaults)."""
VERIFY_THRESHOLD = 0.5
"""A face is kept only if O-Net, re-reading its final box as is and mirrored, gives both views a face probability above this.

A face is a face in the mirror too; the textures MTCNN mistakes for faces (a machine part, a
pattern) mostly are not, and the first re-read alone already doubts many of them. On the
recall benchmark this removes most false positives for about 0.3% of true faces (docs/detector.md).
"""
PYRAMID_FACTOR = 0.709
"""Ratio between successive pyramid levels (the ``mtcnn`` package's)."""
PNET_THREADS = 1
PYRAMID_WORKERS = 2
"""Pyramid levels run two at a time by default, each P-Net on one thread: both cores busy, resizing included."""
BAND_ROWS = 96
"""P-Net reads a pyramid level taller than this in bands of at most about this many rows, overlapping by 10.

P-Net is fully convolutional with one 2x2 pooling, so its output row r depends on input rows
2r..2r+11 only: bands that start on even rows give the very numbers the whole level gives
(tested). An interpreter holds memory in proportion to its input, so a level's costs a
quarter of what the whole 576x384 first level of a 1 MP photo held (44 MB); over the benchmark
photos a process's peak RSS fell from 316 MB to 232 MB (docs/detector.md). Detection is as
fast: a band's tensors stay in the caches, which pays for the overlap.
"""
NMS_BLOCK = 256
"""Rows of the pairwise overlaps that non-maximum suppression computes at a time (``_nms``)."""
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates (x to the right, y down, origin at the top-left).

    ``box`` is ``(x, y, width, height)``. In ``landmarks``, "left" means the image's left:
    ``left_eye`` is the eye with the smaller x, which is the person's right eye.
    """

    box: tuple[float, float, float, float]
    score: float | None
    landmarks: dict[str, tuple[float, float]]

    def scaled(self, factor: float) -> DetectedFace:
        """The same face in the coordinates of an image ``factor`` times larger."""
        if factor == 1.0:
            return self
        return DetectedFace(
            box=tuple(round(value * factor, 1) for value in self.box),
            score=self.score,
            landmarks={name: (round(x * factor, 1), round(y * factor, 1)) for name, (x, y) in self.landmarks.items()},
        )

    def landmark_array(self) -> np.ndarray:
        """The 5 landmarks as a ``(5, 2)`` array in ``LANDMARK_NAMES`` order."""
        return np.array([self.landmarks[name] for name in LANDMARK_NAMES], dtype=np.float64)


class _Network:
    """One MTCNN network under LiteRT, kept allocated for the input shape it last ran.

    Re-allocating LiteRT's tensors for a new shape costs about as much as running P-Net, so
    ``FaceDetector`` keeps one of these per pyramid level and per batch size: for a stream of
    photos of one size (a phone's, a webcam's), no call allocates.
    """

    def __init__(self, content: bytes, threads: int) -> None:
        self._interpreter = Interpreter(model_content=content, num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            if batch.shape != self._shape:
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._shape = batch.shape
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            outputs = [self._interpreter.get_tensor(detail["index"]) for detail in self._interpreter.get_output_details()]
        return sorted(outputs, key=lambda output: output.shape[-1])


class _Batched:
    """R-Net or O-Net over any number of patches, in a few fixed batch sizes (``run_padded``; the padding is grey patches), one interpreter each.

    Their cost is linear in the batch, padding included, so the sizes are close together:
    106 candidates run as 64 + 48, not as one padded batch of 256 (3 ms instead of 14).
    """

    def __init__(self, content: bytes, sizes: tuple[int, ...], threads: int = 1) -> None:
        self._networks = {size: _Network(content, threads) for size in sizes}
        self._sizes = sizes

    def __call__(self, patches: np.ndarray) -> list[np.ndarray]:
        return run_padded(lambda batch: self._networks[len(batch)](batch), patches, self._sizes)


def pyramid_scales(width: int, height: int) -> list[float]:
    """P-Net's scales for an image: from ``MIN_FACE_SIZE`` faces up to faces as big as the image."""
    scale, scales = 12 / MIN_FACE_SIZE, []
    while min(width, height) * scale >= 12:
        scales.append(scale)
        scale *= PYRAMID_FACTOR
    return scales


class FaceDetector:
    """MTCNN's three networks, built once (``Predictor`` builds it before gunicorn forks)."""

    def __init__(self, detector_dir: Path = MODEL_DIR / "detector", threads: int = PYRAMID_WORKERS) -> None:
        pnet, rnet, onet = ((Path(detector_dir) / f"{name}.tflite").read_bytes() for name in ("pnet", "rnet", "onet"))
        levels = len(pyramid_scales(DETECTION_MAX_SIDE, DETECTION_MAX_SIDE))
        self._pnets = [_Network(pnet, threads=PNET_THREADS) for _ in range(levels)]  # each at its level's band shape
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="pyramid")
        self._rnet = _Batched(rnet, (16, 32, 48, 64), threads=2)  # after the pyramid: both cores are free
        self._onet = _Batched(onet, (4, 16, 64))

    def detect_faces(self, image: Image.Image) -> list[DetectedFace]:
        """Every face in an RGB photo, most confident first, in the photo's own pixel coordinates.

        Large photos are searched at a reduced size (longest side ``DETECTION_MAX_SIDE``):
        MTCNN's cost grows with pixel count, and faces that matter are still tens of pixels there.
        """
        scale = min(1.0, DETECTION_MAX_SIDE / max(image.size))
        image.load()  # a lazily opened file decoded by two pyramid threads at once crashes Pillow
        image = image if image.mode == "RGB" else image.convert("RGB")
        small = image if scale == 1.0 else self._shrink(image, (round(image.width * scale), round(image.height * scale)))
        boxes, landmarks = self._detect_boxes(small)
        faces = []
        for box, points in zip(boxes / np.array([scale] * 4 + [1.0]), landmarks / scale, strict=True):
            x1, y1 = max(0.0, box[0]), max(0.0, box[1])
            x2, y2 = min(float(image.width), box[2]), min(float(image.height), box[3])
            faces.append(
                DetectedFace(
                    box=(round(float(x1), 1), round(float(y1), 1), round(float(x2 - x1), 1), round(float(y2 - y1), 1)),
                    score=float(box[4]),
                    landmarks={name: (round(float(x), 1), round(float(y), 1)) for name, (x, y) in zip(LANDMARK_NAMES, points, strict=True)},
                )
            )
        return faces

    def _shrink(self, image: Image.Image, size: tuple[int, int]) -> Image.Image:
        """``image.resize(size, BOX)`` to the pixel, on both cores: the slowest step before the pyramid.

        Pillow resizes in two passes, rows first, rounding to 8 bits between them; each pass is
        split here where it is independent (bands of rows, then of columns), so the halves are the
        very same pixels (tested).
        """
        width, height = size
        rows = Image.new("RGB", (width, image.height))
        out = Image.new("RGB", size)

        def shrink_rows(band: tuple[int, int]) -> None:
            top, bottom = band
            rows.paste(image.crop((0, top, image.width, bottom)).resize((width, bottom - top), Image.Resampling.BOX), (0, top))

        def shrink_columns(band: tuple[int, int]) -> None:
            left, right = band
            out.paste(rows.crop((left, 0, right, image.height)).resize((right - left, height), Image.Resampling.BOX), (left, 0))

        list(self._pool.map(shrink_rows, _halves(image.height)))
        list(self._pool.map(shrink_columns, _halves(width)))
        return out

    def _propose(self, image: Image.Image) -> np.ndarray:
        """P-Net over an image pyramid: candidate boxes ``(x1, y1, x2, y2, score)``.

        The levels run on ``PYRAMID_WORKERS`` threads (resizing and LiteRT release the GIL):
        the first level holds about half of the pixels, the others the rest, so two threads
        finish together. Results are gathered in level order, as one thread would.
        """
        width, height = image.size
        levels = list(enumerate(pyramid_scales(width, height)))
        candidates = [found for found in self._pool.map(lambda level: self._propose_level(image, *level), levels) if len(found)]
        if not candidates:
            return np.empty((0, 5))
        boxes = np.concatenate(candidates)
        return _square(boxes[_nms(boxes, 0.7)])

    def _propose_level(self, image: Image.Image, level: int, scale: float) -> np.ndarray:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        scores, offsets = _read_level(self._pnets[level], _normalize(np.asarray(image.resize(size, Image.Resampling.BOX))))
        rows, cols = np.nonzero(scores[0, :, :, 1] > THRESHOLDS[0])
        if not rows.size:
            return np.empty((0, 5))
        cells = np.stack([cols * 2 + 1, rows * 2 + 1, cols * 2 + 12, rows * 2 + 12], axis=1).astype(np.float64)
        regression = offsets[0, rows, cols] * 11
        found = np.column_stack([(cells + regression) / scale, scores[0, rows, cols, 1]])
        return found[_nms(found, 0.5)]

    def _detect_boxes(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        """All three stages on an RGB image: boxes ``(n, 5)`` and landmarks ``(n, 5, 2)``."""
        boxes = self._propose(image)
        if len(boxes):
            scores, offsets = self._rnet(_patches(image, boxes, 24))
            boxes[:, 4] = scores[:, 1]
            boxes = _refine(boxes, offsets)[scores[:, 1] > THRESHOLDS[1]]
            boxes = _square(boxes[_nms(boxes, 0.7)])
        if not len(boxes):
            return np.empty((0, 5)), np.empty((0, 5, 2))
        scores, offsets, points = self._onet(_patches(image, boxes, 48))
        width = boxes[:, 2:3] - boxes[:, 0:1] + 1
        height = boxes[:, 3:4] - boxes[:, 1:2] + 1
        landmarks = np.stack([width * points[:, 0:5] + boxes[:, 0:1] - 1, height * points[:, 5:10] + boxes[:, 1:2] - 1], axis=-1)
        boxes[:, 4] = scores[:, 1]
        boxes = _refine(boxes, offsets)
        keep = scores[:, 1] > THRESHOLDS[2]
        boxes, landmarks = boxes[keep], landmarks[keep]
        keep = _nms(boxes, 0.7, method="min")
        boxes, landmarks = boxes[keep], landmarks[keep]
        keep = self._verify(image, boxes)
        return boxes[keep], landmarks[keep]

    def _verify(self, image: Image.Image, boxes: np.ndarray) -> np.ndarray:
        """Which final boxes O-Net still calls a face, as is and mirrored (``VERIFY_THRESHOLD``)."""
        if not len(boxes):
            return np.zeros(0, bool)
        patches = _patches(image, _square(boxes), 48)
        scores = self._onet(np.concatenate([patches, patches[:, :, ::-1]]))[0][:, 1]
        return scores.reshape(2, -1).min(axis=0) > VERIFY_THRESHOLD


def _read_level(pnet: _Network, pixels: np.ndarray) -> list[np.ndarray]:
    """P-Net's scores and offsets for a whole normalised pyramid level ``(1, height, width, 3)``, read in ``_bands``."""
    bands = [[output[:, :kept] for output in pnet(pixels[:, start : start + rows])] for start, rows, kept in _bands(pixels.shape[1])]
    return [np.concatenate(maps, axis=1) for maps in zip(*bands, strict=True)]


def _bands(height: int) -> list[tuple[int, int, int]]:
    """How P-Net reads a level ``height`` rows tall: ``(first row, rows, output rows kept)`` per band, top to bottom.

    The fewest bands of at most about ``BAND_ROWS`` rows, spread evenly and all of one height,
    so the level's interpreter allocates once per photo size, as for the whole level. A band
    keeps the output rows up to where the next one starts; an output row needs 12 input rows,
    so bands overlap by at least 10. The last band ends on the level's last row, as the whole
    level does, because with an odd height P-Net's pooling reads a last half window there; with
    every band starting on an even row, a level of odd height gets bands of odd height.
    """
    outputs = (height - 1) // 2 - 4  # P-Net's output rows for the whole level
    count = max(1, math.ceil((height - 10) / (BAND_ROWS - 10)))
    if count == 1:
        return [(0, height, outputs)]
    rows = math.ceil((height - 10) / count) + 10
    rows += (rows - height) % 2
    while (count - 1) * 2 * ((rows - 10) // 2) < height - rows:
        rows += 2
    starts = [2 * round(index * (height - rows) / (2 * (count - 1))) for index in range(count)]
    kept = [(end - start) // 2 for start, end in itertools.pairwise(starts)]
    return [(start, rows, keep) for start, keep in zip(starts, [*kept, outputs - starts[-1] // 2], strict=True)]


def _halves(length: int) -> tuple[tuple[int, int], tuple[int, int]]:
    middle = length // 2
    return (0, middle), (middle, length)


def _normalize(pixels: np.ndarray) -> np.ndarray:
    """MTCNN's input scaling, ``(pixels - 127.5) / 128``, in one float32 array written twice in place.

    The same values as the three-temporary expression (1/128 is a power of two), at a fifth of
    its time on a pyramid level: fresh megabyte arrays cost more in page faults than in arithmetic.
    """
    scaled = np.subtract(pixels, np.float32(127.5), dtype=np.float32)
    scaled *= np.float32(1 / 128)
    return scaled[None]


def _nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    Which box would suppress which is computed for all pairs at once (rows in blocks of
    ``NMS_BLOCK``, so a few thousand candidates cost a few MB), and the greedy pass only reads
    it: the same boxes as suppressing one kept box at a time, where the portrait's pyramid spent
    4.6 ms in the numpy calls of ~200 small steps, holding the GIL the other thread needed.
    """
    x1, y1, x2, y2, scores = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    areas = (x2 - x1) * (y2 - y1)
    suppresses = np.empty((len(boxes), len(boxes)), dtype=bool)
    for start in range(0, len(boxes), NMS_BLOCK):
        rows = slice(start, start + NMS_BLOCK)
        width = np.maximum(0.0, np.minimum(x2[rows, None], x2) - np.maximum(x1[rows, None], x1))
        height = np.maximum(0.0, np.minimum(y2[rows, None], y2) - np.maximum(y1[rows, None], y1))
        overlap = width * height
        denominator = np.minimum(areas[rows, None], areas) if method == "min" else areas[rows, None] + areas - overlap
        suppresses[rows] = overlap / np.maximum(denominator, 1e-9) > threshold
    keep, suppressed = [], np.zeros(len(boxes), dtype=bool)
    for index in np.argsort(-scores):
        if not suppressed[index]:
            keep.append(index)
            suppressed |= suppresses[index]
    return np.array(keep, dtype=int)


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(width, height)
    boxes[:, 0] += (width - side) / 2
    boxes[:, 1] += (height - side) / 2
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    sizes = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1] * 2, axis=1)
    boxes[:, :4] += offsets * sizes
    return boxes


def _patches(image: Image.Image, boxes: np.ndarray, size: int) -> np.ndarray:
    """Crops of ``boxes`` resized to ``size`` (outside the image: mid-grey, i.e. 0 once normalised).

    The same bilinear resampling as ``image.transform(..., EXTENT, box, BILINEAR)`` per box,
    written into one tall canvas through Pillow's core, so a hundred patches cost one image and
    one array conversion instead of a hundred of each.
    """
    canvas = Image.new("RGB", (size, size * len(boxes)), (128, 128, 128))
    image.load()
    for index, (x1, y1, x2, y2) in enumerate(boxes[:, :4]):
        extent = ((x2 - x1) / size, 0, x1, 0, (y2 - y1) / size, y1)  # what Pillow turns an EXTENT into
        canvas.im.transform((0, index * size, size, (index + 1) * size), image.im, Image.Transform.AFFINE, extent, Image.Resampling.BILINEAR, 0)
    return _normalize(np.asarray(canvas).reshape(len(boxes), size, size, 3))[0]
