"""Running a batch: items in chunks, each chunk's rows written as its own Parquet part.

The output is a folder of Parquet parts (a partitioned dataset that pandas, pyarrow, Dask
or Spark read as one table). Each part is written under a temporary name and renamed into
place, so a part is either complete or absent: a re-run skips the files that complete parts
hold, and a chunk retried after a worker died rewrites its own part instead of adding a copy.

On Dask, every worker process loads the predictor once, when it joins (``PredictorPlugin``),
and runs one chunk at a time with one thread per prediction: the cluster's parallelism is its
processes, as many as cores by default.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from model.batch.inputs import Item
from model.batch.rows import photo_rows
from model.batch.table import schema
from model.config import MODEL_DIR
from model.predictor import get_predictor

CHUNK_SIZE = 8
"""Photos per task: large enough to amortise a task's overhead, small enough to balance and to lose little to a dead worker."""
WORKER_THREADS = 1
"""Cores per prediction on a Dask worker: the workers themselves fill the cores."""


@dataclass
class Totals:
    files: int = 0
    faces: int = 0
    errors: int = 0

    def add(self, other: Totals) -> None:
        self.files, self.faces, self.errors = self.files + other.files, self.faces + other.faces, self.errors + other.errors


def done_files(out: Path) -> set[str]:
    """The files that the complete parts under ``out`` already hold."""
    parts = sorted(Path(out).glob("part-*.parquet"))
    return {file for part in parts for file in pq.read_table(part, columns=["file"]).column("file").to_pylist()}


def chunks_of(items: list[Item], size: int = CHUNK_SIZE) -> list[list[Item]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def run_chunk(items: list[Item], out: str, name: str, threads: int = WORKER_THREADS) -> Totals:
    """Predict every photo of ``items`` and write their rows to ``out/name``; a Dask task, or a step of an in-process run."""
    predictor = get_predictor(MODEL_DIR, threads)
    rows = [row for item in items for row in photo_rows(item.file, item.read, predictor)[0]]
    table = pa.Table.from_pylist(rows, schema=schema(predictor.config))
    temporary = Path(out) / f".{name}.tmp"
    pq.write_table(table, temporary)
    os.replace(temporary, Path(out) / name)
    return Totals(files=len(items), faces=sum(row.get("face") is not None for row in rows), errors=sum(row.get("error") is not None for row in rows))


def part_names(count: int) -> list[str]:
    """Names for one run's parts: unique to the run, fixed per chunk (a retried chunk overwrites its own part)."""
    run = uuid.uuid4().hex[:8]
    return [f"part-{run}-{index:06d}.parquet" for index in range(count)]


def run_in_process(chunks: list[list[Item]], out: Path, on_done: Callable[[Totals], None]) -> float:
    """Every chunk in this process, predictions on two threads: the reference the Dask run must match. Returns the seconds spent."""
    get_predictor(MODEL_DIR, 2)
    started = time.perf_counter()
    for chunk, name in zip(chunks, part_names(len(chunks)), strict=True):
        on_done(run_chunk(chunk, str(out), name, threads=2))
    return time.perf_counter() - started


class PredictorPlugin(WorkerPlugin):
    """Loads the predictor in each Dask worker process as it starts, once, not once per task."""

    name = "face2data-predictor"

    def setup(self, worker) -> None:
        get_predictor(MODEL_DIR, WORKER_THREADS)


def run_on_dask(chunks: list[list[Item]], out: Path, on_done: Callable[[Totals], None], scheduler: str | None, workers: int) -> float:
    """Every chunk as a task on the cluster at ``scheduler``, or on a local cluster of ``workers`` processes.

    Returns the seconds from the first task submitted to the last result, once every worker
    has loaded the model: the cluster's start-up is not part of its throughput.
    """
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            client.register_plugin(PredictorPlugin())
            started = time.perf_counter()
            names = part_names(len(chunks))
            futures = client.map(run_chunk, chunks, [str(out)] * len(chunks), names, key=[f"face2data-{name}" for name in names], retries=2)
            for future in as_completed(futures):
                on_done(future.result())
            return time.perf_counter() - started
    finally:
        if cluster is not None:
            cluster.close()


def run_batch(items: Iterable[Item], out: Path, on_done: Callable[[Totals], None], scheduler: str | None = None, workers: int | None = None) -> float:
    """Run ``items`` into ``out``: on Dask unless ``workers == 0`` (this process); returns the seconds spent predicting."""
    Path(out).mkdir(parents=True, exist_ok=True)
    chunks = chunks_of(list(items))
    if workers == 0 and scheduler is None:
        return run_in_process(chunks, out, on_done)
    return run_on_dask(chunks, out, on_done, scheduler, workers or os.cpu_count() or 1)
