"""The dashboard in real headless Chromium: upload, errors, tabs, console."""

from __future__ import annotations

import time

import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from support import FIXTURES
from support.browser import chromium, chromium_available, serve_app
from tests.conftest import require

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page():
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    with serve_app() as url, chromium() as driver:
        driver.get(url)
        WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.ID, "upload-photo")))
        yield driver, url


def upload(driver, path) -> None:
    driver.find_element(By.CSS_SELECTOR, "#upload-photo input[type=file]").send_keys(str(path))


def click(driver, by: str, selector: str) -> None:
    """Click through JavaScript: works wherever the page happens to be scrolled."""
    driver.execute_script("arguments[0].click();", driver.find_element(by, selector))


def severe_console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def trace_names(driver, selector: str) -> list[list[str]]:
    return driver.execute_script(f"return [...document.querySelectorAll('{selector} .js-plotly-plot')].map(g => g.data.map(t => t.name));")


def test_upload_a_photo_shows_boxes_and_three_charts(page, tmp_path):
    driver, _ = page
    photo = tmp_path / "astronaut_1mp.jpg"
    Image.open(FIXTURES / "astronaut.png").convert("RGB").resize((1024, 1024)).save(photo, quality=90)
    started = time.perf_counter()
    upload(driver, photo)
    WebDriverWait(driver, 60, poll_frequency=0.005).until(
        conditions.presence_of_element_located((By.CSS_SELECTOR, ".face-card .race-chart .js-plotly-plot"))
    )
    elapsed = time.perf_counter() - started
    print(f"\nbrowser: upload to result for a 1-megapixel photo: {elapsed * 1000:.0f} ms")
    assert "1 face found" in driver.find_element(By.ID, "prediction-summary").text
    shapes = driver.execute_script("return document.querySelector('#photo-graph .js-plotly-plot').layout.shapes.length;")
    assert shapes == 1
    card = driver.find_element(By.CSS_SELECTOR, ".face-card")
    for selector, labels in (
        (".gender-chart", {"male", "female"}),
        (".race-chart", {"White", "Black", "Asian", "Indian", "Others"}),
        (".age-chart", {"0-2", "70+"}),
    ):
        shown = set(driver.execute_script(f"return document.querySelector('.face-card {selector} .js-plotly-plot').data[0].y;"))
        assert labels <= shown, (selector, shown)
    assert "80% range" in card.text


def test_a_text_file_shows_an_error_alert(page, tmp_path):
    driver, _ = page
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo")
    upload(driver, text)
    alert = WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".upload-alert")))
    assert "not an image" in alert.text


def test_a_photo_without_a_face_and_a_too_large_file_get_friendly_alerts(page, tmp_path):
    driver, _ = page
    upload(driver, FIXTURES / "chelsea.png")
    WebDriverWait(driver, 60).until(lambda d: "no face found" in d.find_element(By.ID, "prediction-output").text)
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8\xff" + bytes(16 * 2**20))
    upload(driver, big)
    WebDriverWait(driver, 60).until(lambda d: "the limit is 15 MB" in d.find_element(By.ID, "prediction-output").text)


def test_a_group_sample_shows_every_face(page):
    driver, _ = page
    click(driver, By.XPATH, "//button[contains(., 'Group')]")
    WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".face-card")) == 6)


def test_explain_shows_an_overlay_for_the_chosen_output(page):
    driver, _ = page
    click(driver, By.XPATH, "//button[contains(., 'Astronaut')]")
    WebDriverWait(driver, 60).until(lambda d: "Astronaut" in d.find_element(By.ID, "prediction-output").text)
    Select(driver.find_element(By.CSS_SELECTOR, ".face-card select")).select_by_value("race")
    click(driver, By.CSS_SELECTOR, ".face-card .explain-button")
    overlay = WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".face-card .explain-overlay")))
    assert overlay.get_attribute("src").startswith("data:image/png;base64,")
    assert "probability of" in driver.find_element(By.CSS_SELECTOR, ".face-card").text


def show_the_astronaut_afresh(driver) -> None:
    """Predict the astronaut sample and wait for its own card, not one an earlier test left on the page."""
    previous = driver.find_elements(By.CSS_SELECTOR, ".face-card")
    click(driver, By.XPATH, "//button[contains(., 'Astronaut')]")
    if previous:
        WebDriverWait(driver, 60).until(conditions.staleness_of(previous[0]))
    WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".face-card select")))
    WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".face-card .explain-button")))


def test_a_new_explain_request_replaces_one_in_flight(page):
    """Asked for gender, then for age before the first map arrives: the spinner shows, and only the age map is drawn."""
    driver, _ = page
    show_the_astronaut_afresh(driver)
    target = Select(driver.find_element(By.CSS_SELECTOR, ".face-card select"))
    target.select_by_value("gender")
    click(driver, By.CSS_SELECTOR, ".face-card .explain-button")
    WebDriverWait(driver, 10, poll_frequency=0.01).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".face-card .dash-spinner, .face-card ._dash-loading")
    )
    target.select_by_value("age")
    click(driver, By.CSS_SELECTOR, ".face-card .explain-button")
    WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".face-card .explain-overlay")))
    time.sleep(1)  # long enough for the superseded gender map to arrive, were it going to be drawn
    text = driver.find_element(By.CSS_SELECTOR, ".face-card").text
    assert "pushed the predicted age up" in text and "probability of" not in text


def test_cancel_stops_an_explanation_and_hides_itself(page):
    """Cancel shows only while a map is computed, and stays in view (the results are not hidden
    behind the page's prediction spinner); clicking it leaves a message instead of a map."""
    driver, _ = page
    show_the_astronaut_afresh(driver)
    cancel = driver.find_element(By.CSS_SELECTOR, ".face-card .explain-cancel")
    assert not cancel.is_displayed()
    click(driver, By.CSS_SELECTOR, ".face-card .explain-button")
    WebDriverWait(driver, 10, poll_frequency=0.01).until(lambda _: cancel.is_displayed())
    time.sleep(0.3)  # past the prediction spinner's 100 ms delay, well before a map is ready
    assert cancel.is_displayed() and driver.find_element(By.CSS_SELECTOR, ".face-card select").is_displayed()
    click(driver, By.CSS_SELECTOR, ".face-card .explain-cancel")
    WebDriverWait(driver, 30).until(lambda d: "Explanation cancelled." in d.find_element(By.CSS_SELECTOR, ".face-card").text)
    assert not driver.find_elements(By.CSS_SELECTOR, ".face-card .explain-overlay")
    WebDriverWait(driver, 10).until(lambda _: not cancel.is_displayed())


def test_training_tab_draws_four_curves_from_history(page):
    driver, _ = page
    click(driver, By.ID, "tab-training")
    curves = 4
    WebDriverWait(driver, 60).until(lambda d: len(trace_names(d, ".training-graph")) == curves)
    for names in trace_names(driver, ".training-graph"):
        assert names[:2] == ["train", "validation"] and names[2].startswith("best")


@pytest.mark.parametrize(
    ("tab", "own_text"),
    [("evaluation", "Gender reliability"), ("dataset", "labelled faces, split"), ("about", "How it works")],
)
def test_tabs_open_without_console_errors(page, tab, own_text):
    driver, _ = page
    driver.get_log("browser")  # drop what came before
    click(driver, By.ID, f"tab-{tab}")
    # The clicked tab's own content, visible: not just any shown panel.
    WebDriverWait(driver, 60).until(lambda d: own_text in d.find_element(By.ID, f"panel-{tab}").text)
    assert [panel.get_attribute("id") for panel in driver.find_elements(By.CSS_SELECTOR, "[role=tabpanel]") if panel.is_displayed()] == [
        f"panel-{tab}"
    ]
    assert severe_console_errors(driver) == []
