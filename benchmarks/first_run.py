"""A stranger's first run: a fresh clone, an empty pip cache, ``make run``, until the page is served.

Usage: ``python -m benchmarks.first_run`` (``make benchmark-first-run``)

Clones the committed repository into a temporary folder, runs ``make run`` there with a pip
cache of its own (empty), polls the dashboard until it answers 200, and reports the seconds
that took, the venv's size and whether it holds any of the development stack. Writes its
section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import publish
from support.server import free_port

ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT_ONLY = ("tensorflow", "tensorflow-cpu", "keras", "dlib", "dlib-bin", "selenium")


def serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        clone, cache = Path(work) / "face2data", Path(work) / "pip-cache"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        port = free_port()
        environment = {**os.environ, "PIP_CACHE_DIR": str(cache), "PORT": str(port)}
        started = time.perf_counter()
        run = subprocess.Popen(
            ["make", "run"], cwd=clone, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            while not serves(f"http://127.0.0.1:{port}/"):
                if run.poll() is not None or time.perf_counter() - started > args.timeout:
                    raise SystemExit("make run stopped or timed out before serving the page")
                time.sleep(0.5)
            seconds = time.perf_counter() - started
        finally:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=30)
        installed = subprocess.run(
            [str(clone / ".venv/bin/python"), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
        ).stdout
        names = {line.split("==")[0].lower() for line in installed.splitlines()}
        size = sum(path.stat().st_size for path in (clone / ".venv").rglob("*") if path.is_file() and not path.is_symlink())
    development = sorted(names.intersection(DEVELOPMENT_ONLY))
    lines = [
        "",
        f"- Fresh clone, empty pip cache, `make run` to the page answering 200: {seconds:.1f} s",
        f"- The venv: {size / 2**20:.0f} MiB, {len(names)} packages; development packages in it: {', '.join(development) or 'none'}",
    ]
    return publish("First run", "python -m benchmarks.first_run (make benchmark-first-run)", lines)


if __name__ == "__main__":
    main()
