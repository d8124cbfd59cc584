"""Does detection find the faces of real photos? Recall per hard case, old and new detectors side by side.

Usage: ``python -m benchmarks.recall [--scenes-per-case 100] [--seed 0] [--mtcnn-commit 2763c60]``
(needs ../shared/datasets or $DATASETS)

The scenes come from ``support.hard_cases``: UTKFace val faces (never test) blended into real
photographs, cut by the frame, close up, rotated, turned, covered, small, dark or blurred, and
face-free photographs for false positives. Three detectors read the same photos:

- Face2Data's RetinaFace (``model.detect``, with its resolution policy);
- MTCNN as Face2Data served it until commit ``--mtcnn-commit`` (run from a git worktree of it);
- YuNet (libfacedetection, the ``yuface`` wheel), on the photo shrunk to its 960 px limit.

A true face is found when a detection, clipped to the photo, overlaps the face's clipped square
with IoU >= ``MATCH_IOU`` (the rule suits every detector's box convention: each puts its box
inside the square of a UTKFace crop). Detections that find no face are false positives.

A second table measures the resolution policy: at each photo size, recall for faces at the
size ``model.detect.smallest_face`` promises and at three quarters of it. A third compares the
landmarks: the new detector's against MTCNN's on the same frontal faces, and each detector's
against itself on the mirrored photo. Writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.common import publish
from model.decode import decode_image
from model.detect import LANDMARK_NAMES, FaceDetector, smallest_face
from support import FIXTURES, ROOT
from support.hard_cases import CASES, Scene, backgrounds, compose_scenes, face_free_photos
from support.photos import paste_face
from training.cli import DATASETS
from training.dataset import iter_images, read_split

MATCH_IOU = 0.4
SCENES_PER_CASE = 100
SCENE_FACES = 2000
"""The first val faces (in file-name order) that the scenes draw from, in turn."""
MTCNN_COMMIT = "2763c60"
"""The last commit whose serving detector was MTCNN."""
YUNET_MAX_SIDE = 960
POLICY_SIZES = {
    "200x200 crop": (200, 200),
    "VGA 640x480": (640, 480),
    "1 MP portrait": (1225, 817),
    "1080p frame": (1920, 1080),
    "12 MP JPEG as decoded": (2016, 1512),
}


@dataclass
class Detections:
    """One detector's answer on one photo: boxes ``(n, 4)`` as x, y, width, height, landmarks ``(n, 5, 2)`` (NaN if none), and its time."""

    boxes: np.ndarray
    landmarks: np.ndarray
    ms: float


def val_faces(count: int) -> list[Image.Image]:
    """The first ``count`` val-split crops in file-name order (200x200, as UTKFace ships them)."""
    split = read_split(DATASETS / "utkface_split.csv")
    wanted = sorted(name for name, part in split.items() if part == "val")[:count]
    found = {name: data for name, data in iter_images(DATASETS / "UTKFace.tar.gz") if name in set(wanted)}
    return [Image.open(io.BytesIO(found[name])).convert("RGB") for name in wanted]


def face2data(photos: list[Image.Image]) -> list[Detections]:
    detector = FaceDetector()
    answers = []
    for photo in photos:
        began = time.perf_counter()
        faces = detector.detect_faces(photo)
        ms = 1000 * (time.perf_counter() - began)
        boxes = np.array([face.box for face in faces], dtype=np.float64).reshape(-1, 4)
        answers.append(Detections(boxes, np.array([face.landmark_array() for face in faces]).reshape(-1, 5, 2), ms))
    return answers


OLD_PIPELINE = """
import json, sys, time
from pathlib import Path
from PIL import Image
from model.detect import FaceDetector
detector, answers = FaceDetector(), []
for path in sorted(Path(sys.argv[1]).glob("*.png"), key=lambda path: int(path.stem)):
    photo = Image.open(path).convert("RGB")
    began = time.perf_counter()
    faces = detector.detect_faces(photo)
    answers.append({"ms": 1000 * (time.perf_counter() - began), "boxes": [face.box for face in faces], "landmarks": [face.landmark_array().tolist() for face in faces]})
Path(sys.argv[2]).write_text(json.dumps(answers))
"""


def mtcnn_at(commit: str) -> Callable[[list[Image.Image]], list[Detections]]:
    """MTCNN as served at ``commit``: that commit's ``model.detect`` run from a git worktree in a subprocess, on the same photos."""

    def detect(photos: list[Image.Image]) -> list[Detections]:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            checkout, images = folder / "checkout", folder / "photos"
            images.mkdir()
            for index, photo in enumerate(photos):
                photo.save(images / f"{index}.png", compress_level=1)
            subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(checkout), commit], cwd=ROOT, check=True)
            try:
                subprocess.run([sys.executable, "-c", OLD_PIPELINE, str(images), str(folder / "answers.json")], cwd=checkout, check=True)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=True)
            answers = json.loads((folder / "answers.json").read_text())
        return [
            Detections(np.array(answer["boxes"], dtype=np.float64).reshape(-1, 4), np.array(answer["landmarks"]).reshape(-1, 5, 2), answer["ms"])
            for answer in answers
        ]

    return detect


def yunet(photos: list[Image.Image]) -> list[Detections]:
    import yuface

    answers = []
    for photo in photos:
        scale = min(1.0, YUNET_MAX_SIDE / max(photo.size))
        shrunk = photo if scale == 1.0 else photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BOX)
        began = time.perf_counter()
        _, boxes, landmarks = yuface.detect(np.ascontiguousarray(np.asarray(shrunk)[:, :, ::-1]), conf=0.5)
        ms = 1000 * (time.perf_counter() - began)
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / scale
        corners = np.clip(np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1), 0, [*photo.size, *photo.size])
        boxes = np.concatenate([corners[:, :2], corners[:, 2:] - corners[:, :2]], axis=1)
        answers.append(Detections(boxes, np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2) / scale, ms))
    return answers


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``(x, y, w, h)`` box with each of ``boxes``."""
    if not len(boxes):
        return np.zeros(0)
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y2 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return overlap / (box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - overlap)


def match(truth: np.ndarray, detected: np.ndarray) -> tuple[list[int | None], int]:
    """For each true face, the index of the detection that finds it (or None); and the detections that find none.

    Each face claims its best unclaimed detection with IoU >= ``MATCH_IOU``.
    """
    unclaimed, found = np.ones(len(detected), bool), []
    for box in truth:
        overlaps = np.where(unclaimed, iou(box, detected), 0.0)
        if len(overlaps) and overlaps.max() >= MATCH_IOU:
            unclaimed[overlaps.argmax()] = False
            found.append(int(overlaps.argmax()))
        else:
            found.append(None)
    return found, int(unclaimed.sum())


def detectors(commit: str) -> dict[str, Callable[[list[Image.Image]], list[Detections]]]:
    """The three detectors by the names the tables give them; MTCNN as served at ``commit``."""
    return {"Face2Data (RetinaFace)": face2data, f"MTCNN (until {commit})": mtcnn_at(commit), "YuNet (yuface)": yunet}


def run_detectors(photos: list[Image.Image], commit: str) -> dict[str, list[Detections]]:
    return {name: detect(photos) for name, detect in detectors(commit).items()}


def hard_case_table(scenes: list[Scene], free: dict[str, Image.Image], answers: dict[str, list[Detections]]) -> list[str]:
    names = list(answers)
    lines = [
        "| case | faces | " + " | ".join(f"{name}: recall / false per photo" for name in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for case in [*CASES, "no face"]:
        indices = (
            [index for index, scene in enumerate(scenes) if scene.case == case] if case != "no face" else range(len(scenes), len(scenes) + len(free))
        )
        faces = sum(len(scenes[index].faces) for index in indices) if case != "no face" else 0
        cells = []
        for name in names:
            found = false = 0
            for index in indices:
                truth = scenes[index].truth_boxes() if case != "no face" else np.empty((0, 4))
                hits, extra = match(truth, answers[name][index].boxes)
                found, false = found + sum(hit is not None for hit in hits), false + extra
            recall = f"{found / faces:.1%}" if faces else "-"
            cells.append(f"{recall} / {false / len(indices):.2f}")
        lines.append(f"| {case} | {faces or len(indices)} {'faces' if faces else 'photos'} | " + " | ".join(cells) + " |")
    speed = " / ".join(f"{statistics.median(answer.ms for answer in answers[name]):.0f}" for name in names)
    lines += ["", f"Median detection time per photo, in process (ms, {' / '.join(names)}): {speed}."]
    return lines


def policy_table(faces: list[Image.Image], seed: int) -> list[str]:
    """Recall at the promised smallest face, and at three quarters of it, for each photo size."""
    rng = np.random.default_rng(seed)
    detector, pictures = FaceDetector(), backgrounds()
    lines = ["| photo | smallest face promised | recall at it | at 3/4 of it |", "|---|---|---|---|"]
    for label, size in POLICY_SIZES.items():
        promise = smallest_face(*size)
        recalls = []
        for side in (promise, round(0.75 * promise)):
            found = total = 0
            for index, face in enumerate(faces[:60]):
                photo = pictures[index % len(pictures)].resize(size)
                x, y = int(rng.integers(0, max(1, size[0] - side))), int(rng.integers(0, max(1, size[1] - side)))
                paste_face(photo, face, x, y, min(side, *size))
                hits, _ = match(np.array([[x, y, min(side, *size), min(side, *size)]], dtype=np.float64), face2data_boxes(detector, photo))
                found, total = found + (hits[0] is not None), total + 1
            recalls.append(f"{found / total:.0%}")
        lines.append(f"| {label} ({size[0]}x{size[1]}) | {promise} px | {recalls[0]} | {recalls[1]} |")
    return lines


def face2data_boxes(detector: FaceDetector, photo: Image.Image) -> np.ndarray:
    return np.array([face.box for face in detector.detect_faces(photo)], dtype=np.float64).reshape(-1, 4)


def landmark_table(scenes: list[Scene], answers: dict[str, list[Detections]], commit: str) -> list[str]:
    """Landmark agreement on frontal faces found by every detector, in units of the eye distance."""
    names = list(answers)
    frontal = [index for index, scene in enumerate(scenes) if scene.case == "frontal"]
    mirrored = run_detectors([scenes[index].image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for index in frontal], commit)
    offsets, mirror_errors = [], {name: [] for name in names}
    for position, index in enumerate(frontal):
        scene = scenes[index]
        truth = scene.truth_boxes()
        width = scene.image.width
        flipped_truth = np.column_stack([width - truth[:, 0] - truth[:, 2], truth[:, 1:]])
        per_detector = {name: match(truth, answers[name][index].boxes)[0] for name in names}
        for face in range(len(truth)):
            points = {name: answers[name][index].landmarks[per_detector[name][face]] for name in names if per_detector[name][face] is not None}
            if len(points) < len(names):
                continue
            eyes = np.linalg.norm(points[names[1]][1] - points[names[1]][0])
            offsets.append((points[names[0]] - points[names[1]]) / eyes)
            for name in names:
                hit = match(flipped_truth[face : face + 1], mirrored[name][position].boxes)[0][0]
                if hit is not None:
                    back = mirrored[name][position].landmarks[hit][[1, 0, 2, 4, 3]] * [-1, 1] + [width, 0]
                    own_eyes = np.linalg.norm(points[name][1] - points[name][0])
                    mirror_errors[name].append(np.linalg.norm(back - points[name], axis=1).mean() / own_eyes)
    offsets = np.array(offsets)
    lines = [
        f"On {len(offsets)} frontal val faces that all three detectors found; eye distance = MTCNN's.",
        "",
        f"| landmark | {names[0]} minus {names[1]}: median x, y | mean distance |",
        "|---|---|---|",
    ]
    for point, name in enumerate(LANDMARK_NAMES):
        median = np.median(offsets[:, point], axis=0)
        lines.append(f"| {name} | {median[0]:+.3f}, {median[1]:+.3f} | {np.linalg.norm(offsets[:, point], axis=1).mean():.3f} |")
    lines += [
        "",
        "Mirror consistency (mean landmark distance between a photo and its mirror image, per eye distance; lower is steadier): "
        + ", ".join(f"{name} {np.mean(errors):.3f}" for name, errors in mirror_errors.items())
        + ".",
    ]
    return lines


def committed_photos(commit: str) -> list[str]:
    """The committed group photos: faces found by each detector."""
    photos = {"group_selfie.jpg (7 faces)": 7, "group.jpg (6 faces)": 6}
    images = [decode_image((FIXTURES / name.split(" ")[0]).read_bytes()) for name in photos]
    answers = run_detectors(images, commit)
    lines = ["| committed photo | " + " | ".join(answers) + " |", "|---|" + "---|" * len(answers)]
    for index, name in enumerate(photos):
        lines.append(f"| {name} | " + " | ".join(str(len(answers[detector][index].boxes)) for detector in answers) + " |")
    return lines


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recall", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes-per-case", type=int, default=SCENES_PER_CASE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mtcnn-commit", default=MTCNN_COMMIT)
    args = parser.parse_args(argv)
    faces = val_faces(SCENE_FACES)
    scenes = compose_scenes(faces, args.scenes_per_case, args.seed)
    free = face_free_photos()
    answers = run_detectors([scene.image for scene in scenes] + list(free.values()), args.mtcnn_commit)
    lines = [
        f"{args.scenes_per_case} composed photos per case ({len(scenes)} in all, {sum(len(scene.faces) for scene in scenes)} UTKFace val faces) "
        f"and {len(free)} face-free photographs; found = IoU >= {MATCH_IOU} with the face's square, both clipped to the photo.",
        "",
        *hard_case_table(scenes, free, answers),
        "",
        "Resolution policy (`model.detect.smallest_face`), Face2Data only, 60 val faces per photo size:",
        "",
        *policy_table(faces[-60:], args.seed),
        "",
        *landmark_table(scenes, answers, args.mtcnn_commit),
        "",
        *committed_photos(args.mtcnn_commit),
    ]
    return publish("Hard-case recall", "python -m benchmarks.recall (make benchmark-recall)", lines)


if __name__ == "__main__":
    main()
