"""The Batch tab and the camera snapshot in real headless Chromium."""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from model.batch.report import report_html
from model.batch.summary import summarise
from model.predictor import get_predictor
from support import FIXTURES
from support.browser import chromium, chromium_available, serve_app
from tests.conftest import require
from training.contract import RACES

pytestmark = pytest.mark.browser


def y4m(image: Image.Image, path) -> None:
    """One frame of ``image`` as a YUV4MPEG2 file, the format Chromium's fake camera plays (BT.601, 4:2:0)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    v = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    planes = [y] + [plane.reshape(plane.shape[0] // 2, 2, plane.shape[1] // 2, 2).mean(axis=(1, 3)) for plane in (u, v)]
    header = f"YUV4MPEG2 W{image.width} H{image.height} F30:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + b"".join(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes() for plane in planes))


def grid_rows(driver) -> list[dict]:
    return driver.execute_script(
        "const api = dash_ag_grid.getApi('batch-grid'); const rows = []; api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows;"
    )


def test_a_batch_of_ten_files_gives_a_table_summary_charts_and_a_matching_csv(tmp_path):
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    photos = []
    for index, name in enumerate(["astronaut.png", "group.jpg", "utkface_crop.jpg", "camera.png", "group_selfie.jpg"] * 2):
        if index == 9:
            break
        path = tmp_path / f"{index}-{name.rsplit('.', 1)[0]}.jpg"
        Image.open(FIXTURES / name).convert("RGB").save(path, quality=90)
        photos.append(path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with serve_app() as url, chromium(downloads=str(downloads)) as driver:
        driver.get(url)
        WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "tabs")))
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "tab-batch"))
        driver.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").send_keys("\n".join(str(path) for path in [*photos, notes]))
        WebDriverWait(driver, 120).until(conditions.presence_of_element_located((By.ID, "batch-summary-line")))
        rows = grid_rows(driver)
        assert len(rows) >= 10
        assert "10 photos" in driver.find_element(By.ID, "batch-summary-line").text
        (error,) = [row for row in rows if row["error"]]
        assert error["file"] == "notes.txt" and "not an image" in error["error"]
        assert sum(row["face"] is not None for row in rows) >= 20  # the group photos' faces
        # The summary is drawn from the rows by its own callback, once they arrive.
        WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#batch-summary .js-plotly-plot")) == 5)
        assert driver.find_elements(By.CSS_SELECTOR, "#batch-grid img.batch-thumbnail")
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "batch-csv"))
        deadline = time.time() + 30
        while not list(downloads.glob("*.csv")) and time.time() < deadline:
            time.sleep(0.1)
        (download,) = downloads.glob("*.csv")
        with download.open(newline="", encoding="utf-8-sig") as stream:  # AG Grid writes a byte-order mark
            exported = list(csv.DictReader(stream))
    assert len(exported) == len(rows)
    assert [(row["file"], row["face"], row["gender"]) for row in exported] == [
        (row["file"], "" if row["face"] is None else str(row["face"]), row["gender"] or "") for row in rows
    ]


def test_the_camera_snapshot_gives_a_prediction(tmp_path):
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    video = tmp_path / "face.y4m"
    y4m(Image.open(FIXTURES / "astronaut.png"), video)
    flags = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}")
    with serve_app() as url, chromium(flags=flags) as driver:
        driver.get(url)
        WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "camera-open")))
        assert driver.find_element(By.ID, "camera-panel").value_of_css_property("display") == "none"
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "camera-open"))
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "camera-shutter").is_enabled())
        assert "Nothing is sent" in driver.find_element(By.ID, "camera-message").text
        driver.execute_script("arguments[0].click();", driver.find_element(By.ID, "camera-shutter"))
        summary = WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "prediction-summary")))
        assert "1 face found in camera snapshot" in summary.text
        assert driver.find_elements(By.CSS_SELECTOR, ".face-card .gender-chart .js-plotly-plot")


def test_the_collection_report_draws_its_charts_from_a_file(tmp_path):
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    groups = get_predictor().config.labels["age_group"]
    rows = [
        {"file": "a.jpg", "face": 0, "box": [0, 0, 50, 50], "age": 30.0, "error": None, "p_male": 0.3, "p_female": 0.7}
        | {f"p_{race}": 0.2 for race in RACES}
        | {f"p_{group}": 1 / len(groups) for group in groups}
    ]
    rows.append(
        {
            "file": "b.jpg",
            "face": None,
            "box": None,
            "age": None,
            "error": "The upload is empty.",
            **{key: None for key in rows[0] if key.startswith("p_")},
        }
    )
    page = tmp_path / "report.html"
    predictor = get_predictor()
    page.write_text(report_html(summarise({key: [row[key] for row in rows] for key in rows[0]}, predictor.config, predictor.artifacts.references)))
    with chromium() as driver:
        driver.get(page.as_uri())
        WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= 5)
        assert len(driver.find_elements(By.CSS_SELECTOR, "section .js-plotly-plot")) == 5
        assert "The upload is empty." in driver.find_element(By.ID, "errors").text
