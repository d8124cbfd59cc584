"""Deploy smoke test: what a Heroku-style build gets, started the way the Procfile starts it.

Usage: ``python -m benchmarks.deploy_check`` (``make deploy-check``)

Builds a fresh venv from ``requirements.txt`` alone, starts the Procfile's ``web`` command
on a free port with that venv, waits for ``/api/v1/health``, fetches the dashboard page and
a prediction, sends 200 predictions and an explanation, and reports the venv's size, the time
to the first answer and the memory of every server process. Then the several-dynos mode: a
real ``redis-server``, the Procfile's ``worker`` and ``web`` with ``REDIS_URL`` from the same
venv, a prediction under a rate limit counted in Redis, and the worker's memory. Exits non-zero
if the app does not serve in either mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
from redis import Redis

from support.photos import PORTRAIT, benchmark_photos
from support.server import high_water_mark, post, production_server
from support.services import celery_worker, redis_server

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"
TARGETS = {"venv_mib": 300, "first_answer_s": 5.0, "total_pss_mib": 450, "worker_peak_rss_mib": 300}


def folder_bytes(folder: Path) -> int:
    """Apparent size of every file below ``folder`` (what the slug would hold)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() or path.is_symlink())


def build_venv() -> tuple[Path, int]:
    """A fresh venv with the serving requirements only, trimmed as the buildpack's hook trims it; returns it and the bytes they added."""
    venv = WORK / "deploy-venv"
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    empty = folder_bytes(venv)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt")], check=True)
    # What the buildpack runs next: bin/post_compile trims the slug.
    subprocess.run([str(ROOT / "bin" / "post_compile")], env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}, check=True)
    return venv, folder_bytes(venv) - empty


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def main() -> int:
    venv, added = build_venv()
    # The slug's own venv, and nothing from this checkout's (an empty PYTHONPATH is no path).
    with production_server(environment={"PYTHONPATH": ""}, bin_dir=str(venv / "bin")) as server:
        base = server.url
        status, _ = get(f"{base}/api/v1/health")
        first_answer = time.perf_counter() - server.started
        photo = benchmark_photos()[PORTRAIT]
        faces = json.loads(post(f"{base}/api/v1/predict", photo))["faces"]
        page_status, page = get(base + "/")
        if status != 200 or len(faces) != 1 or page_status != 200 or b"Face2Data" not in page:
            print("the health check, the prediction or the dashboard page is wrong", file=sys.stderr)
            return 1
        for _ in range(200):
            post(f"{base}/api/v1/predict", photo)
        explained = json.loads(post(f"{base}/api/v1/explain", photo))
        if explained["face"]["gender"]["label"] != faces[0]["gender"]["label"] or not explained["grid"]:
            print("the explanation is wrong", file=sys.stderr)
            return 1
        memory = [(process.pid, process.memory_full_info(), high_water_mark(process)) for process in server.processes()]
    total_pss = sum(info.pss for _, info, _ in memory) / 2**20
    worker_peak = max(peak for pid, _, peak in memory if pid != server.process.pid) / 2**20
    figures = {"venv_mib": added / 2**20, "first_answer_s": first_answer, "total_pss_mib": total_pss, "worker_peak_rss_mib": worker_peak}
    print(f"serving venv: {added / 2**20:.0f} MiB added by requirements.txt (target <= {TARGETS['venv_mib']} MiB)")
    print(f"first answer: {first_answer:.2f} s after start (target <= {TARGETS['first_answer_s']} s)")
    for pid, info, peak in memory:
        role = "master" if pid == server.process.pid else "worker"
        print(
            f"{role} {pid}: RSS {info.rss / 2**20:.0f} MiB, PSS {info.pss / 2**20:.0f} MiB (after 201 predictions and an explanation), peak RSS {peak / 2**20:.0f} MiB"
        )
    print(f"worker peak RSS: {worker_peak:.0f} MiB (target <= {TARGETS['worker_peak_rss_mib']} MiB)")
    print(f"whole app: {total_pss:.0f} MiB PSS (target <= {TARGETS['total_pss_mib']} MiB)")
    missed = [name for name, value in figures.items() if value > TARGETS[name]]
    print("targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return shared_mode(venv, photo)


def shared_mode(venv: Path, photo: bytes) -> int:
    """``REDIS_URL`` set: the web process counts its limits in Redis and a Celery worker (the Procfile's) is ready for batches."""
    with redis_server() as redis:
        environment = {"PYTHONPATH": "", "REDIS_URL": redis.url, "RATE_LIMIT": "1000/minute"}
        with (
            celery_worker(environment, bin_dir=str(venv / "bin")) as worker,
            production_server(environment=environment, bin_dir=str(venv / "bin")) as server,
        ):
            faces = json.loads(post(f"{server.url}/api/v1/predict", photo))["faces"]
            counted = Redis.from_url(redis.url).keys("LIMITS*")
            processes = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
            worker_pss = sum(process.memory_full_info().pss for process in processes) / 2**20
    print(f"with REDIS_URL: {len(faces)} face predicted, {len(counted)} limit counter(s) in Redis, Celery worker ready at {worker_pss:.0f} MiB PSS")
    if len(faces) != 1 or not counted:
        print("the several-dynos mode does not serve or does not count in Redis", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
