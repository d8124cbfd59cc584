"""Screenshots of every dashboard tab, taken in headless Chromium against the running app.

Usage: ``python docs/screenshots.py`` (or ``make screenshots``); writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from benchmarks.browser import chromium, serve_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
TABS = {"training": "Training", "evaluation": "Evaluation", "dataset": "Dataset", "about": "About & API"}


def full_page(driver, path: Path) -> None:
    """Resize the window to the page's height so one PNG holds the whole tab."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height + 40, 4000))
    time.sleep(0.8)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with serve_app() as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 30).until(conditions.presence_of_element_located((By.ID, "upload-photo")))
        driver.find_element(By.XPATH, "//button[contains(., 'Group')]").click()
        WebDriverWait(driver, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".face-card .age-chart .js-plotly-plot")) == 6)
        full_page(driver, OUT / "predict.png")
        for name, label in TABS.items():
            driver.find_element(By.LINK_TEXT, label).click()
            time.sleep(1.5)
            full_page(driver, OUT / f"{name}.png")
    print("\n".join(str(path.relative_to(ROOT)) for path in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
