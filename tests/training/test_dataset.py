import logging
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from model.preprocess import preprocess
from support import FIXTURES
from training import dataset
from training.dataset import FaceLabel, iter_images, load_splits, parse_name, read_split

MALFORMED = ["39_1_20170116174525125.jpg.chip.jpg", "61_1_20170109142408075.jpg.chip.jpg", "61_1_20170109150557335.jpg.chip.jpg"]


def test_parse_name_reads_age_gender_race():
    assert parse_name("26_1_0_20170103181112840.jpg.chip.jpg") == FaceLabel(age=26, gender=1, race=0)
    assert parse_name("some/folder/116_0_4_20170120134921760.jpg.chip.jpg") == FaceLabel(116, 0, 4)


@pytest.mark.parametrize("name", [*MALFORMED, "a_b_c_d.jpg", "30_2_0_2017.jpg", "30_0_5_2017.jpg", "200_0_0_2017.jpg", "notalabel.jpg"])
def test_parse_name_rejects_malformed_names(name):
    with pytest.raises(ValueError):
        parse_name(name)


@pytest.fixture
def tiny_utkface(tmp_path):
    """A folder of 6 real-format crops (labels in the names, 3 malformed) and its split CSV."""
    folder = tmp_path / "UTKFace"
    folder.mkdir()
    crop = Image.open(FIXTURES / "utkface_crop.jpg")
    rows = []
    for name, split in [
        ("20_0_0_1.jpg.chip.jpg", "train"),
        ("30_1_1_2.jpg.chip.jpg", "train"),
        ("40_0_2_3.jpg.chip.jpg", "val"),
        ("50_1_3_4.jpg.chip.jpg", "test"),
    ]:
        crop.save(folder / name)
        rows.append({"file": name, "split": split})
    for name in MALFORMED:
        crop.save(folder / name)
        rows.append({"file": name, "split": "excluded"})
    crop.save(folder / "60_0_4_5.jpg.chip.jpg")  # not listed in the split: must be ignored
    split_csv = tmp_path / "split.csv"
    pd.DataFrame(rows).to_csv(split_csv, index=False)
    return folder, split_csv


def test_load_splits_honours_the_csv_and_warns_once_for_malformed_names(tiny_utkface, caplog):
    folder, split_csv = tiny_utkface
    with caplog.at_level(logging.WARNING):
        splits = load_splits(folder, split_csv, size=32)
    warnings = [record for record in caplog.records if "malformed" in record.getMessage()]
    assert len(warnings) == 1 and all(name in warnings[0].getMessage() for name in MALFORMED)
    assert sorted(splits["train"].files) == ["20_0_0_1.jpg.chip.jpg", "30_1_1_2.jpg.chip.jpg"]
    assert list(splits["val"].files) == ["40_0_2_3.jpg.chip.jpg"]
    assert list(splits["test"].files) == ["50_1_3_4.jpg.chip.jpg"]
    assert splits["test"].age.tolist() == [50.0] and splits["test"].gender.tolist() == [1] and splits["test"].race.tolist() == [3]
    assert splits["train"].images.shape == (2, 32, 32, 3) and splits["train"].images.dtype == np.uint8


def test_archive_and_folder_give_the_same_images(tiny_utkface, tmp_path):
    folder, split_csv = tiny_utkface
    archive = tmp_path / "UTKFace.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="UTKFace")
    from_folder = dict(iter_images(folder))
    from_archive = dict(iter_images(archive))
    assert from_folder == from_archive and len(from_folder) == 8
    assert np.array_equal(load_splits(archive, split_csv, 24)["train"].images, load_splits(folder, split_csv, 24)["train"].images)


def test_iter_images_refuses_other_paths(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")
    with pytest.raises(ValueError):
        list(iter_images(text))


def test_read_split_rejects_unknown_split_names(tmp_path):
    bad = tmp_path / "split.csv"
    bad.write_text("file,split\na.jpg,holdout\n")
    with pytest.raises(ValueError, match="holdout"):
        read_split(bad)


def test_training_builds_its_arrays_with_the_serving_preprocess(tiny_utkface):
    folder, split_csv = tiny_utkface
    expected = preprocess(Image.open(folder / "40_0_2_3.jpg.chip.jpg"), 48)
    assert np.array_equal(load_splits(folder, split_csv, 48)["val"].images[0], expected)


def test_load_splits_cached_round_trips(tiny_utkface, tmp_path):
    folder, split_csv = tiny_utkface
    first = dataset.load_splits_cached(folder, split_csv, 16, tmp_path / "cache")
    shutil.rmtree(folder)  # the second call must not need the images any more
    second = dataset.load_splits_cached(folder, split_csv, 16, tmp_path / "cache")
    for split in ("train", "val", "test"):
        assert np.array_equal(first[split].images, second[split].images)
        assert list(first[split].files) == list(second[split].files)
