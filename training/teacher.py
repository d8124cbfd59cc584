"""Soft race and gender targets from a pretrained face-recognition network, for distillation.

No ImageNet weights can be had here, but the ``face_recognition_models`` wheel ships dlib's
face-recognition ResNet (CC0, trained on about 3 million faces). Its 128-number embedding
of a face already tells race and gender apart about as well as our own networks do, and it
errs on other faces, so its opinion is new knowledge for a network trained from scratch on
UTKFace alone. We never ship it (22 MB, and it needs dlib at serving): a probe on its
embeddings turns each train face into soft race and gender probabilities, and
``training.train --teacher`` (``training.pipeline.blend_with_teacher``) trains our own network towards a blend of those and the labels.

The probe's probabilities for a train face come from probes fitted on the other folds of
the train split, so they are honest guesses rather than the memorised label. Val and test
faces are never used to fit anything: val only reports how good the probe is.

    python -m training.teacher --data ../shared/datasets/UTKFace.tar.gz \
        --split ../shared/datasets/utkface_split.csv --out runs/teacher.npz
"""

import argparse
import io
import logging
from pathlib import Path

import dlib
import face_recognition_models
import numpy as np
from joblib import Parallel, delayed
from PIL import Image
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from model.labels import CLASSES
from training.dataset import iter_images, parse_name, read_split

log = logging.getLogger("face2data.teacher")

CHIP_SIZE = 150
"""dlib's face-recognition network reads 150x150 chips aligned on five landmarks."""
FALLBACK_BOX = (25, 25, 175, 175)
"""Where the face sits in a 200x200 UTKFace crop, for the few where dlib's detector finds none."""


class FaceEmbedder:
    """dlib's detector, five-landmark predictor and face-recognition ResNet, loaded once."""

    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
        self.network = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())

    def embed(self, rgb: np.ndarray) -> np.ndarray:
        """The 128-number embedding of the largest face in ``rgb`` (a UTKFace crop)."""
        found = self.detector(rgb, 0)
        box = max(found, key=lambda rect: rect.area()) if found else dlib.rectangle(*FALLBACK_BOX)
        chip = dlib.get_face_chip(rgb, self.landmarks(rgb, box), size=CHIP_SIZE, padding=0.25)
        return np.asarray(self.network.compute_face_descriptor(chip), dtype=np.float32)


def _embed_jpegs(jpegs: list[bytes]) -> np.ndarray:
    embedder = FaceEmbedder()
    return np.stack([embedder.embed(np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))) for data in jpegs])


def embed_split_faces(source: Path, split_csv: Path, splits: tuple[str, ...], jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """File names and embeddings of every well-named face in ``splits``; dlib runs on ``jobs`` cores."""
    split_of = read_split(split_csv)
    names, jpegs = [], []
    for name, data in iter_images(source):
        try:
            parse_name(name)
        except ValueError:
            continue
        if split_of.get(name) in splits:
            names.append(name)
            jpegs.append(data)
    chunks = np.array_split(np.arange(len(jpegs)), max(1, jobs * 8))
    parts = Parallel(n_jobs=jobs)(delayed(_embed_jpegs)([jpegs[i] for i in chunk]) for chunk in chunks if len(chunk))
    return np.array(names), np.concatenate(parts)


def make_probe(seed: int) -> Pipeline:
    """Standardised embeddings into a one-hidden-layer MLP: on val, a probe of this shape beat a linear one by 1-2 race points."""
    return make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, early_stopping=True, max_iter=200, random_state=seed))


def cross_fitted_probabilities(embeddings: np.ndarray, labels: np.ndarray, classes: int, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Each face's class probabilities from a probe that never saw it (``folds``-fold cross-fitting)."""
    probabilities = np.zeros((len(labels), classes), dtype=np.float32)
    for fit_rows, guess_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(embeddings, labels):
        probe = make_probe(seed).fit(embeddings[fit_rows], labels[fit_rows])
        probabilities[np.ix_(guess_rows, probe.classes_)] = probe.predict_proba(embeddings[guess_rows])
    return probabilities


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="UTKFace.tar.gz or its unpacked folder")
    parser.add_argument("--split", type=Path, required=True, help="canonical split CSV")
    parser.add_argument("--out", type=Path, required=True, help="where the .npz of train-face probabilities goes")
    parser.add_argument("--jobs", type=int, default=2, help="processes running dlib")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="where the embeddings are kept (dlib takes 13 min on 2 cores)")
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> None:
    cached = args.cache / "dlib-embeddings.npz"
    if cached.exists():
        stored = np.load(cached)
        names, embeddings = stored["files"], stored["embeddings"]
    else:
        names, embeddings = embed_split_faces(args.data, args.split, ("train", "val"), args.jobs)
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, files=names, embeddings=embeddings)
    split_of = read_split(args.split)
    in_train = np.array([split_of[name] == "train" for name in names])
    labels = {task: np.array([getattr(parse_name(name), task) for name in names]) for task in CLASSES}
    targets = {}
    for task, classes in CLASSES.items():
        targets[task] = cross_fitted_probabilities(embeddings[in_train], labels[task][in_train], classes, seed=args.seed)
        probe = make_probe(args.seed).fit(embeddings[in_train], labels[task][in_train])
        log.info(
            "%s probe: cross-fitted train accuracy %.4f, val accuracy %.4f",
            task,
            (targets[task].argmax(1) == labels[task][in_train]).mean(),
            probe.score(embeddings[~in_train], labels[task][~in_train]),
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, files=names[in_train], **targets)
    log.info("wrote %s: targets for %d train faces", args.out, in_train.sum())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    main(parse_args())
