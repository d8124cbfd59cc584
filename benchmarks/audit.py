"""How well the batch summary reads a collection's make-up, on collections whose truth is known.

Usage: ``python -m benchmarks.audit [--collections 200] [--draws 200]`` (``make benchmark-audit``)

Collections are drawn from the UTKFace test split (its faces as served: the network on the
crops, calibrated): 200 of 100 faces and 200 of 1,000, each with a race mix from a flat
Dirichlet, a gender mix from a Beta(2, 2) and the age groups tilted towards the young or the
old; and 100 of 1,000 faces with val's own mix, where a correction should cost nothing. For
each head and estimator: the mean absolute error of the shares against the collection's true
shares, and how often the 95% interval holds the true share. The correction is fitted on val
only (``val_outputs.npz``), as in the product. Writes its section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import publish
from model.batch.quantify import adjusted_shares, expected_shares, load_references
from model.config import MODEL_DIR, ModelConfig
from model.runtime import load_network
from training.cli import DATASETS
from training.dataset import load_splits_cached
from training.evaluate import classified_heads, predict_arrays

ESTIMATORS = ("expected", "em", "bbse")


def served_test_faces(config: ModelConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per head, the served probabilities and true labels of every test face."""
    test = load_splits_cached(DATASETS / "UTKFace.tar.gz", DATASETS / "utkface_split.csv", config.input_size, ".cache")["test"]
    return classified_heads(predict_arrays(load_network(MODEL_DIR, config), test), test, config)


def draw_collection(faces: dict, size: int, shifted: bool, rng: np.random.Generator) -> np.ndarray:
    """Indices of one collection's faces: reweighted towards random race, gender and age mixes, or drawn as test is."""
    count = len(faces["race"][1])
    if not shifted:
        return rng.choice(count, size, replace=True)
    weights = np.ones(count)
    for head, mix in (("race", rng.dirichlet(np.ones(5))), ("gender", np.array([(share := rng.beta(2, 2)), 1 - share]))):
        labels = faces[head][1]
        weights *= mix[labels] / np.maximum(np.bincount(labels, minlength=len(mix)) / count, 1e-9)[labels]
    groups = faces["age_group"][1]
    weights *= np.exp(rng.uniform(-0.4, 0.4) * (groups - groups.mean()))
    return rng.choice(count, size, replace=True, p=weights / weights.sum())


def measure(faces: dict, references: dict, sizes_and_mixes: list[tuple[int, bool, int]], draws: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for size, shifted, collections in sizes_and_mixes:
        errors = {(head, name): [] for head in faces for name in ESTIMATORS}
        held = {(head, name): [] for head in faces for name in ESTIMATORS}
        for _ in range(collections):
            picked = draw_collection(faces, size, shifted, rng)
            for head, (probabilities, labels) in faces.items():
                truth = np.bincount(labels[picked], minlength=probabilities.shape[1]) / size
                estimates = {
                    "expected": expected_shares(probabilities[picked], rng, draws),
                    "em": adjusted_shares(probabilities[picked], references[head], rng, draws, "em"),
                    "bbse": adjusted_shares(probabilities[picked], references[head], rng, draws, "bbse"),
                }
                for name, estimate in estimates.items():
                    errors[head, name].append(np.abs(estimate.share - truth).mean())
                    held[head, name].append(((estimate.low <= truth) & (truth <= estimate.high)).mean())
        for head in faces:
            rows.append(
                {
                    "collections": f"{collections} of {size:,} faces, {'shifted mixes' if shifted else 'test as drawn (val mix)'}",
                    "head": head,
                    **{f"{name} error": float(np.mean(errors[head, name])) for name in ESTIMATORS},
                    **{f"{name} held": float(np.mean(held[head, name])) for name in ESTIMATORS},
                }
            )
    return rows


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", type=int, default=200, help="shifted collections of each size")
    parser.add_argument("--draws", type=int, default=200, help="bootstrap draws per estimate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = ModelConfig.from_file(MODEL_DIR / "config.json")
    faces = served_test_faces(config)
    references = load_references(MODEL_DIR / "val_outputs.npz")
    plan = [(100, True, args.collections), (1000, True, args.collections), (1000, False, args.collections // 2)]
    rows = measure(faces, references, plan, args.draws, args.seed)
    lines = [
        f"Collections drawn from the UTKFace test split ({len(faces['race'][1])} faces, as served); the correction is fitted on val only. "
        f"{args.draws} bootstrap draws per estimate. Error: mean absolute error of the shares (fractions); held: how often the 95% interval holds the true share.",
        "",
        "| collections | head | expected counts: error / held | adjusted, EM (shipped): error / held | adjusted, BBSE: error / held | EM error / expected error |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = " | ".join(f"{row[f'{name} error']:.3f} / {row[f'{name} held']:.0%}" for name in ESTIMATORS)
        lines.append(f"| {row['collections']} | {row['head']} | {cells} | {row['em error'] / row['expected error']:.2f} |")
    return publish("Collection audit", "python -m benchmarks.audit (make benchmark-audit)", lines)


if __name__ == "__main__":
    main()
