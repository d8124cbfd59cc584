"""The batch CLI on a real collection: rows per face, error rows, resuming, and Dask against one process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest
from distributed import Client, LocalCluster

from model.batch.inputs import collect
from model.batch.runner import PredictorPlugin, chunks_of, part_names, run_chunk
from model.decode import ImageError, decode_image
from model.predictor import _predictor, get_predictor
from support import ROOT

pytestmark = pytest.mark.subprocesses
BAD = {"notes.txt", "empty.jpg", "truncated.jpg"}


def run_cli(*arguments: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.batch", *arguments], cwd=ROOT, capture_output=True, text=True, **kwargs)


def expected_faces(folder) -> dict[str, int]:
    """What the Predictor finds in each readable photo, in this process."""
    counts = {}
    for item in collect([str(folder)]):
        with contextlib.suppress(ImageError):
            counts[item.file] = len(get_predictor().predict(decode_image(item.read())))
    return counts


@pytest.fixture(scope="module")
def single(collection, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "faces.parquet"
    result = run_cli(str(collection), "--out", str(out), "--workers", "0")
    assert result.returncode == 0, result.stderr
    return out, result


def test_one_row_per_face_and_one_error_row_per_bad_file(collection, single):
    out, result = single
    table = pd.read_parquet(out)
    errors = table[table["error"].notna()]
    assert sorted(os.path.basename(file) for file in errors["file"]) == sorted(BAD)
    assert errors["face"].isna().all()
    faces = table[table["error"].isna()]
    counts = expected_faces(collection)
    assert faces.groupby("file")["face"].count().to_dict() == counts
    assert sum(count > 1 for count in counts.values()) >= 10  # the collection has group photos
    assert len(counts) + len(BAD) == table["file"].nunique() == 53
    assert np.allclose(faces.dropna(subset=["face"])[["p_male", "p_female"]].sum(axis=1), 1, atol=1e-4)
    assert "53 files" in result.stdout and "3 errors" in result.stdout and "images/s" in result.stdout


def test_a_second_run_with_the_same_out_does_nothing(collection, single):
    out, _ = single
    before = sorted(os.listdir(out))
    result = run_cli(str(collection), "--out", str(out), "--workers", "0")
    assert result.returncode == 0 and result.stdout.startswith("0 files") and "53 already done" in result.stdout
    assert sorted(os.listdir(out)) == before


def sorted_rows(out) -> pd.DataFrame:
    return pd.read_parquet(out).sort_values(["file", "face"], na_position="first").reset_index(drop=True)


def test_a_local_dask_cluster_writes_the_same_rows(collection, single, tmp_path):
    out = tmp_path / "dask.parquet"
    result = run_cli(str(collection), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert len(os.listdir(out)) > 2  # parts written by the workers
    dask, reference = sorted_rows(out), sorted_rows(single[0])
    numbers = [column for column in reference.columns if column.startswith(("p_", "age"))]
    others = [column for column in reference.columns if column not in numbers and column != "box"]
    pd.testing.assert_frame_equal(dask[others], reference[others])
    assert np.allclose(dask[numbers].astype(float), reference[numbers].astype(float), atol=1e-5, equal_nan=True)


def test_a_worker_killed_mid_run_loses_no_file(collection, tmp_path):
    out = tmp_path / "killed.parquet"
    process = subprocess.Popen(
        [sys.executable, "-m", "model.batch", str(collection), str(collection / "set0"), "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (out.exists() and any(name.startswith("part-") for name in os.listdir(out))):
        assert process.poll() is None and time.time() < deadline
        time.sleep(0.05)
    # The local cluster's nannies live in the CLI's process; each worker is a spawned child of it.
    workers = [child for child in psutil.Process(process.pid).children() if "spawn_main" in " ".join(child.cmdline())]
    assert len(workers) == 2, [child.cmdline() for child in psutil.Process(process.pid).children()]
    assert process.poll() is None  # still running: the kill lands mid-run
    os.kill(workers[0].pid, signal.SIGKILL)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    table = pd.read_parquet(out)
    assert table["file"].nunique() == 53 and not table.duplicated(["file", "face"]).any()


def test_each_worker_loads_the_predictor_once(collection, tmp_path):
    chunks = chunks_of(collect([str(collection / "set1")]), 4)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        client.register_plugin(PredictorPlugin())
        loaded_at_start = client.run(lambda: _predictor.cache_info().currsize)
        client.gather(client.map(run_chunk, chunks, [str(tmp_path)] * len(chunks), part_names(len(chunks))))
        loads = client.run(lambda: _predictor.cache_info().misses)
    assert set(loaded_at_start.values()) == {1} and set(loads.values()) == {1}


def test_an_existing_table_is_summarised_without_predicting(single, tmp_path):
    """No INPUT: the table under OUT is only summarised, as JSON and HTML; --faces largest counts one face per photo."""
    out, _ = single
    table = pd.read_parquet(out)
    before = sorted(os.listdir(out))
    every, largest = tmp_path / "every.json", tmp_path / "largest.json"
    assert run_cli("--out", str(out), "--summary", str(every)).returncode == 0
    result = run_cli("--out", str(out), "--summary", str(largest), "--faces", "largest", "--report", str(tmp_path / "report.html"))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == before and "files," not in result.stdout  # nothing was predicted
    every, largest = json.loads(every.read_text()), json.loads(largest.read_text())
    faces = table[table["face"].notna()]
    assert every["faces"] == len(faces) and every["faces_counted"] == "all" and every["errors"] == len(BAD)
    assert largest["faces"] == faces["file"].nunique() < every["faces"] and largest["faces_counted"] == "largest"
    assert every["photos"] == table["file"].nunique()
    race = largest["heads"]["race"]
    assert race["labels"] == list(get_predictor().config.races) and abs(sum(race["adjusted"]["share"]) - 1) < 1e-3
    assert "largest of each photo" in (tmp_path / "report.html").read_text()


def test_no_input_and_no_table_is_refused(tmp_path):
    result = run_cli("--out", str(tmp_path / "missing.parquet"), "--summary", str(tmp_path / "s.json"))
    assert result.returncode == 2 and "no table to summarise" in result.stderr
