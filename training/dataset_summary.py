"""A small summary of UTKFace for the dashboard's Dataset tab, committed with the model.

Usage: ``python -m training.dataset_summary [--split PATH] [--out model/dataset.json]``

The dashboard must not need the dataset (users download it themselves), so the counts it
draws are computed once here from the canonical split CSV.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from model.config import MODEL_DIR
from training.cli import DATASETS
from training.contract import GENDERS, RACES


def summarize(split_csv: Path) -> dict:
    """Counts by age, gender, race, race x gender and split, over the labelled images."""
    table = pd.read_csv(split_csv)
    table = table[table["split"] != "excluded"].astype({"race": int, "gender": int, "age": int})
    table["gender_name"] = table["gender"].map(dict(enumerate(GENDERS)))
    table["race_name"] = table["race"].map(dict(enumerate(RACES)))
    race_by_gender = pd.crosstab(table["race_name"], table["gender_name"]).reindex(index=list(RACES), columns=list(GENDERS), fill_value=0)
    return {
        "source": "UTKFace (Zhang, Song and Qi, CVPR 2017), canonical split CSV",
        "n_images": len(table),
        "splits": table["split"].value_counts().reindex(["train", "val", "test"]).astype(int).to_dict(),
        "age": table["age"].value_counts().sort_index().astype(int).to_dict(),
        "gender": table["gender_name"].value_counts().reindex(list(GENDERS)).astype(int).to_dict(),
        "race": table["race_name"].value_counts().reindex(list(RACES)).astype(int).to_dict(),
        "race_by_gender": {race: race_by_gender.loc[race].astype(int).to_dict() for race in RACES},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.dataset_summary", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", type=Path, default=DATASETS / "utkface_split.csv")
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "dataset.json")
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(summarize(args.split), indent=1) + "\n")


if __name__ == "__main__":
    main()
