"""Screenshots of every dashboard tab, taken in headless Chromium against the running app.

Usage: ``python docs/screenshots.py`` (or ``make screenshots``); writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from support.browser import chromium, serve_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
TABS = ("training", "evaluation", "dataset", "about")


def full_page(driver, path: Path, width: int = 1280) -> None:
    """Resize the window to the page's height so one PNG holds the whole tab."""
    driver.set_window_size(width, 1000)
    time.sleep(0.5)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 40, 4000))
    time.sleep(0.8)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def click(driver, by: str, selector: str) -> None:
    driver.execute_script("arguments[0].click();", driver.find_element(by, selector))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with serve_app() as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 30).until(conditions.presence_of_element_located((By.ID, "upload-photo")))
        click(driver, By.XPATH, "//button[contains(., 'Astronaut')]")
        WebDriverWait(driver, 30).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".face-card .explain-button")))
        click(driver, By.CSS_SELECTOR, ".face-card .explain-button")
        WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".face-card .explain-overlay")))
        full_page(driver, OUT / "explain-page.png")
        box = driver.execute_script(
            "const r = document.querySelector('.face-card').getBoundingClientRect(); return [r.left, r.top + window.scrollY, r.right, r.bottom + window.scrollY];"
        )
        with Image.open(OUT / "explain-page.png") as page:
            page.crop(tuple(round(value) for value in box)).save(OUT / "explain.png")
        (OUT / "explain-page.png").unlink()
        full_page(driver, OUT / "predict-phone.png", width=400)
        click(driver, By.XPATH, "//button[contains(., 'Group')]")
        WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".face-card .age-chart .js-plotly-plot")) == 6)
        full_page(driver, OUT / "predict.png")
        click(driver, By.ID, "tab-batch")
        photos = [ROOT / "assets" / "samples" / name for name in ("group.jpg", "astronaut.png", "camera.png")]
        driver.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").send_keys("\n".join(str(path) for path in photos))
        WebDriverWait(driver, 120).until(conditions.presence_of_element_located((By.ID, "batch-summary-line")))
        time.sleep(1.5)
        full_page(driver, OUT / "batch.png")
        for name in TABS:
            click(driver, By.ID, f"tab-{name}")
            time.sleep(1.5)
            full_page(driver, OUT / f"{name}.png")
    print("\n".join(str(path.relative_to(ROOT)) for path in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
