"""The project's split CSV against the real archive: no test image can reach training."""

import pandas as pd

from training.dataset import SPLITS, parse_name


def test_split_csv_partitions_the_dataset(datasets):
    table = pd.read_csv(datasets / "utkface_split.csv")
    counts = table["split"].value_counts().to_dict()
    assert counts == {"train": 18966, "val": 2369, "test": 2369, "excluded": 3}
    assert table["file"].is_unique
    train, test, val = (set(table.loc[table["split"] == split, "file"]) for split in ("train", "test", "val"))
    assert not train & test and not train & val and not val & test


def test_split_labels_agree_with_the_file_names(datasets):
    table = pd.read_csv(datasets / "utkface_split.csv")
    labelled = table[table["split"].isin(SPLITS)]
    for row in labelled.sample(500, random_state=0).itertuples():
        label = parse_name(row.file)
        assert (label.age, label.gender, label.race) == (row.age, row.gender, row.race)
