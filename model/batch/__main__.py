"""python -m model.batch [INPUT...] --out OUT.parquet [--scheduler ADDRESS] [--workers N] [--report report.html] [--summary summary.json] [--faces all|largest]

INPUT: folders (searched recursively), .zip archives, image files, or .txt files listing
paths (one per line, relative to the list). OUT.parquet is a folder of Parquet parts, one row
per face. Files already in OUT are skipped, so an interrupted run resumes where it stopped.
With no INPUT, an existing OUT is only summarised (--report, --summary), nothing is predicted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from model.batch.inputs import collect
from model.batch.quantify import load_references
from model.batch.report import read_columns, write_report
from model.batch.runner import Totals, done_files, run_batch
from model.batch.summary import FACES_COUNTED, summarise
from model.config import MODEL_DIR, ModelConfig


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model.batch", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1])
    parser.add_argument("inputs", nargs="*", help="folders, .zip archives, image files, or .txt lists of paths; none: summarise OUT as it is")
    parser.add_argument("--out", type=Path, required=True, help="the Parquet dataset (a folder of parts) to write, or to resume")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786); default: a local cluster")
    parser.add_argument(
        "--workers", type=int, default=None, help="local cluster processes (default: one per core); 0 runs in this process, without Dask"
    )
    parser.add_argument("--report", type=Path, help="also write the collection summary as a self-contained HTML page")
    parser.add_argument("--summary", type=Path, help="also write the collection summary as JSON (shares as fractions, labels in the model's order)")
    parser.add_argument(
        "--faces", choices=FACES_COUNTED, default="all", help="count every face, or only the largest of each photo (a dataset of portraits)"
    )
    args = parser.parse_args(argv)
    if not args.inputs and not args.out.exists():
        parser.error(f"no INPUT and no table to summarise at {args.out}")
    if not args.inputs and not (args.report or args.summary):
        parser.error("with no INPUT, ask for --report or --summary")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.inputs:
        predict_into(args)
    if args.report or args.summary:
        config = ModelConfig.from_file(MODEL_DIR / "config.json")
        summary = summarise(read_columns(args.out), config, load_references(MODEL_DIR / "val_outputs.npz"), args.faces)
        if args.report:
            write_report(summary, args.report)
            print(f"report -> {args.report}")
        if args.summary:
            args.summary.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
            print(f"summary -> {args.summary}")
    return 0


def predict_into(args: argparse.Namespace) -> None:
    """Every photo of the inputs not yet in OUT, into OUT; a line of totals."""
    done = done_files(args.out) if args.out.exists() else set()
    items = [item for item in collect(args.inputs) if item.file not in done]
    totals = Totals()
    with tqdm(total=len(items), unit="photo", disable=None, file=sys.stderr) as progress:

        def on_done(chunk: Totals) -> None:
            totals.add(chunk)
            progress.update(chunk.files)

        seconds = run_batch(items, args.out, on_done, args.scheduler, args.workers) if items else 0.0
    rate = totals.files / seconds if seconds else 0.0
    skipped = f", {len(done)} already done" if done else ""
    print(f"{totals.files} files, {totals.faces} faces, {totals.errors} errors, {rate:.1f} images/s{skipped} -> {args.out}")


if __name__ == "__main__":
    sys.exit(main())
