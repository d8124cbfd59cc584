"""Two web processes as the Procfile starts them, a Celery worker and a real Redis: what several dynos share.

Each web process is the Procfile's gunicorn with ``REDIS_URL`` set; the Batch tab is driven in
headless Chromium through a router that sends the upload to web process A and what follows
(progress polls, cancel) to B, as a platform's router may.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from support import FIXTURES
from support.browser import chromium, chromium_available
from support.server import RunningServer, post, post_status, production_server
from support.services import RedisServer, Router, celery_worker, redis_available, redis_server
from tests.conftest import require

pytestmark = [pytest.mark.subprocesses, pytest.mark.browser]
LIMIT = 6


@dataclass
class Deployment:
    redis: RedisServer
    worker: subprocess.Popen
    web: list[RunningServer]

    def pool(self) -> list[psutil.Process]:
        """The Celery worker's pool processes: the one that runs a job."""
        return psutil.Process(self.worker.pid).children()


@contextmanager
def deployment(rate_limit: str = "") -> Iterator[Deployment]:
    """Redis, a Celery worker and two web processes, all on loopback, all with ``REDIS_URL``."""
    require(redis_available(), "Debian's redis-server (apt-get install redis-server)")
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server())
        environment = {"REDIS_URL": redis.url, "RATE_LIMIT": rate_limit, "BATCH_MAX_MB": "200"}
        worker = stack.enter_context(celery_worker(environment))
        web = [stack.enter_context(production_server(environment=environment)) for _ in range(2)]
        yield Deployment(redis, worker, web)


def photos(folder: Path, count: int, width: int = 0) -> list[Path]:
    """``count`` JPEGs of the fixtures' photos, each a file of its own, enlarged to ``width`` pixels if given (slower to read)."""
    names = ["astronaut.png", "group.jpg", "utkface_crop.jpg", "group_selfie.jpg"]
    paths = []
    for index in range(count):
        path = folder / f"{index:03d}.jpg"
        image = Image.open(FIXTURES / names[index % len(names)]).convert("RGB")
        if width:
            image = image.resize((width, round(width * image.height / image.width)))
        image.save(path, quality=75)
        paths.append(path)
    return paths


class UploadToAThenB:
    """The router's rule: every request goes to A until the batch job's start has gone there; from then on, to B."""

    def __init__(self) -> None:
        self.uploaded = False

    def __call__(self, method: str, path: str, body: bytes) -> int:
        if self.uploaded:
            return 1
        self.uploaded = method == "POST" and "cacheKey=" not in path and b"batch-grid.rowData" in body
        return 0


def open_batch_tab(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "tabs")))
    driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "tab-batch"))


def upload(driver, paths: list[Path]) -> None:
    driver.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").send_keys("\n".join(str(path) for path in paths))


def progress(driver) -> int:
    return int(driver.find_element(By.ID, "batch-progress").get_attribute("aria-valuenow") or 0)


def kill(server: RunningServer) -> None:
    for process in reversed(server.processes()):
        os.kill(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def chromium_ready() -> None:
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


def test_a_rate_limit_is_counted_once_across_both_web_processes(fixture_bytes):
    photo = fixture_bytes("utkface_crop.jpg")
    with deployment(rate_limit=f"{LIMIT}/minute") as deployed:
        statuses = [post_status(f"{deployed.web[index % 2].url}/api/v1/predict", photo)[0] for index in range(LIMIT + 2)]
    assert statuses == [200] * LIMIT + [429, 429]


def test_a_batch_sent_to_one_web_process_runs_on_the_worker_and_is_polled_on_the_other(chromium_ready, tmp_path):
    rule = UploadToAThenB()
    with deployment() as deployed, Router([server.url for server in deployed.web], rule) as router, chromium() as driver:
        open_batch_tab(driver, router.url)
        before_upload = router.counts[1]
        upload(driver, photos(tmp_path, 24, width=3000))  # several seconds of work: long enough to poll its progress
        seen = set()
        deadline = time.time() + 180
        while not driver.find_elements(By.ID, "batch-summary-line") and time.time() < deadline:
            seen.add(progress(driver))
            time.sleep(0.05)
        assert "24 photos" in driver.find_element(By.ID, "batch-summary-line").text
        assert rule.uploaded and router.counts[1] - before_upload >= 3  # B answered the polls
        assert any(0 < value < 100 for value in seen)  # progress came through B while the worker ran
        assert driver.execute_script("return dash_ag_grid.getApi('batch-grid').getDisplayedRowCount();") >= 24


def test_cancel_sent_to_the_other_web_process_stops_the_job_on_the_worker(chromium_ready, tmp_path):
    rule = UploadToAThenB()
    with deployment() as deployed, Router([server.url for server in deployed.web], rule) as router, chromium() as driver:
        open_batch_tab(driver, router.url)
        upload(driver, photos(tmp_path, 100, width=3000))  # some 20 s of work for the worker
        WebDriverWait(driver, 120).until(lambda d: progress(d) > 0)
        (running,) = deployed.pool()
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "batch-cancel"))
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").is_enabled())
        assert progress(driver) < 100 and router.counts[1] > 0
        # Cancel terminates the pool process that ran the job (the worker starts a fresh one), well before 100 photos are read.
        psutil.wait_procs([running], timeout=30)
        assert not running.is_running()
        assert not driver.find_elements(By.ID, "batch-summary-line")


def test_a_killed_web_process_loses_no_job(chromium_ready, tmp_path):
    rule = UploadToAThenB()
    with deployment() as deployed, Router([server.url for server in deployed.web], rule) as router, chromium() as driver:
        open_batch_tab(driver, router.url)
        upload(driver, photos(tmp_path, 24, width=3000))
        WebDriverWait(driver, 120).until(lambda d: progress(d) > 0)
        at_kill = progress(driver)
        kill(deployed.web[0])
        WebDriverWait(driver, 240).until(conditions.presence_of_element_located((By.ID, "batch-summary-line")))
        assert "24 photos" in driver.find_element(By.ID, "batch-summary-line").text
        assert at_kill < 100 and deployed.web[0].process.wait(timeout=10) == -signal.SIGKILL


def test_with_redis_gone_photos_are_still_read_and_the_batch_tab_says_why_it_cannot_run(chromium_ready, fixture_bytes, tmp_path):
    photo = fixture_bytes("utkface_crop.jpg")
    with deployment(rate_limit=f"{LIMIT}/minute") as deployed, chromium() as driver:
        url = deployed.web[0].url
        assert json.loads(post(f"{url}/api/v1/predict", photo))["faces"]
        deployed.redis.stop()
        # Limits fall back to each process's own memory: uploads are answered, and still limited, never a 500.
        statuses = [post_status(f"{url}/api/v1/predict", photo)[0] for _ in range(LIMIT + 1)]
        assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1) and set(statuses) <= {200, 429}
        open_batch_tab(driver, url)
        upload(driver, photos(tmp_path, 2))
        message = WebDriverWait(driver, 30).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, "#batch-queue-error .alert")))
        assert "cannot be reached" in message.text and "Predict tab still work" in message.text
        assert post_status(f"{deployed.web[1].url}/api/v1/predict", photo)[0] == 200
