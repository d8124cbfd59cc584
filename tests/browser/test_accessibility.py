"""Everyone can use the dashboard: no critical or serious axe-core violation in any state, a keyboard path, words for every chart."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from support import FIXTURES
from support.browser import SEVERE, axe_available, axe_violations, chromium, chromium_available, serve_app
from tests.conftest import require

pytestmark = pytest.mark.browser
TABS = ("predict", "batch", "training", "evaluation", "dataset", "about")


@pytest.fixture(scope="module")
def app_url():
    require(chromium_available(), "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    require(axe_available(), "axe-core from npm: `npm ci` (make test runs it)")
    with serve_app() as url:
        yield url


def open_page(driver, url: str) -> None:
    """The page, once its lazily loaded components (the drop zone's file input among them) are drawn."""
    driver.get(url)
    WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, "#upload-photo input[type=file][aria-labelledby]")))


def show_tab(driver, key: str) -> None:
    driver.execute_script("arguments[0].click();", driver.find_element(By.ID, f"tab-{key}"))
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, f"panel-{key}").is_displayed())


def severe(driver) -> list[dict]:
    return [violation for violation in axe_violations(driver) if violation["impact"] in SEVERE]


def predict_sample(driver) -> None:
    driver.execute_script("arguments[0].click();", driver.find_element(By.XPATH, "//button[contains(., 'Astronaut')]"))
    WebDriverWait(driver, 60).until(conditions.presence_of_element_located((By.CSS_SELECTOR, ".face-card .explain-button")))


def run_batch(driver) -> None:
    show_tab(driver, "batch")
    photos = [FIXTURES / "group.jpg", FIXTURES / "astronaut.png"]
    driver.find_element(By.CSS_SELECTOR, "#batch-upload input[type=file]").send_keys("\n".join(str(path) for path in photos))
    WebDriverWait(driver, 120).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#batch-summary .js-plotly-plot")) == 5)


def test_no_critical_or_serious_violation_on_any_tab_in_any_state(app_url):
    found: dict[str, list[dict]] = {}
    with chromium() as driver:
        open_page(driver, app_url)
        for key in TABS:
            show_tab(driver, key)
            found[f"{key}, empty"] = severe(driver)
        show_tab(driver, "predict")
        predict_sample(driver)
        found["predict, after a prediction"] = severe(driver)
        driver.execute_script("arguments[0].click();", driver.find_element(By.CSS_SELECTOR, ".face-card .explain-button"))
        WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".explain-overlay")))
        found["predict, with an explanation"] = severe(driver)
        run_batch(driver)
        found["batch, after a batch"] = severe(driver)
    with chromium(width=400, height=850) as phone:
        open_page(phone, app_url)
        predict_sample(phone)
        for key in TABS:
            show_tab(phone, key)
            found[f"{key}, phone-sized, after a prediction"] = severe(phone)
    print("\naxe-core critical and serious violations per tab and state:")
    for state, violations in found.items():
        print(f"  {state}: {len(violations)}" + "".join(f"\n    {v['impact']} {v['rule']} x{v['nodes']} ({v['first']})" for v in violations))
    assert {state: violations for state, violations in found.items() if violations} == {}


def focused(driver) -> dict:
    """What has the keyboard's focus, and whether it shows: an outline or a focus ring on it, or on the drop zone around it."""
    return driver.execute_script(
        "const el = document.activeElement;"
        "const ring = s => s.boxShadow !== 'none' && !s.boxShadow.startsWith('rgba(0, 0, 0, 0)');"
        "const shows = e => { const s = getComputedStyle(e); return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || ring(s); };"
        "const zone = el.closest('.upload-zone');"
        "return {id: el.id, text: el.textContent.trim().slice(0, 40), tag: el.tagName, role: el.getAttribute('role'),"
        " visible: shows(el) || (zone !== null && shows(zone)), label: el.getAttribute('aria-labelledby')};"
    )


def tab_to(driver, matches, limit: int = 80) -> dict:
    """Press Tab until the focused element ``matches``; every stop on the way must show its focus."""
    path = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        now = focused(driver)
        path.append(now["id"] or now["text"] or now["tag"])
        if now["tag"] == "BODY":  # past the page's last stop: a browser's own controls come next, then the page again
            continue
        assert now["visible"], f"focus is not visible on {now}, after {path}"
        if matches(now):
            return now
    raise AssertionError(f"not reachable with the Tab key: {path}")


def press(driver, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def test_the_predict_flow_with_the_keyboard_alone(app_url):
    with chromium() as driver:
        # Without motion, focus rings are drawn at once rather than faded in: what is read is what shows.
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        open_page(driver, app_url)
        skip = tab_to(driver, lambda now: True)
        assert skip["text"] == "Skip to the content"
        upload = tab_to(driver, lambda now: now["tag"] == "INPUT")
        assert upload["label"] == "upload-photo-prompt"  # Enter or Space on it opens the file picker
        tab_to(driver, lambda now: now["text"] == "Use camera")
        tab_to(driver, lambda now: now["text"].startswith("Astronaut"))
        press(driver, Keys.ENTER)
        announcement = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "prediction-announcement").text)
        assert announcement.startswith("1 face found: about ") and "%" in announcement
        tab_to(driver, lambda now: "explain-target" in now["id"])
        press(driver, Keys.ARROW_DOWN)  # "Explain race"
        assert driver.execute_script("return document.activeElement.value") == "race"
        tab_to(driver, lambda now: now["text"] == "Explain")
        press(driver, Keys.SPACE)
        overlay = WebDriverWait(driver, 60).until(conditions.visibility_of_element_located((By.CSS_SELECTOR, ".explain-overlay")))
        assert "probability of" in overlay.get_attribute("alt")
        tab_to(driver, lambda now: now["id"] == "tab-predict")
        press(driver, Keys.ARROW_RIGHT)
        assert focused(driver)["id"] == "tab-batch" and driver.find_element(By.ID, "panel-batch").is_displayed()
        assert not driver.find_element(By.ID, "panel-predict").is_displayed()
        batch = tab_to(driver, lambda now: now["tag"] == "INPUT")
        assert batch["label"] == "batch-upload-prompt"
        assert tab_to(driver, lambda now: now["text"] == "Download CSV")["tag"] == "BUTTON"
        tab_to(driver, lambda now: now["id"] == "tab-batch")
        press(driver, Keys.END)
        assert focused(driver)["id"] == "tab-about" and driver.find_element(By.ID, "panel-about").is_displayed()


def test_every_visible_chart_says_what_it_shows(app_url):
    with chromium() as driver:
        open_page(driver, app_url)
        predict_sample(driver)
        run_batch(driver)
        counts = {}
        for key in TABS:
            show_tab(driver, key)
            WebDriverWait(driver, 30).until(lambda d, key=key: d.find_elements(By.CSS_SELECTOR, f"#panel-{key} .js-plotly-plot") or key == "about")
            captions = driver.execute_script(
                "return [...document.querySelectorAll('#panel-' + arguments[0] + ' .js-plotly-plot')].filter(p => p.offsetParent !== null)"
                ".map(p => { const f = p.closest('figure'); const c = f && f.querySelector('figcaption'); return c ? c.textContent : ''; });",
                key,
            )
            counts[key] = len(captions)
            assert all(len(caption) > 20 for caption in captions), (key, captions)
        print(f"\ncharts with a text alternative, per tab: {counts}")
        assert counts["predict"] == 4 and counts["batch"] == 5 and counts["evaluation"] == 10 and counts["training"] == 4


def test_reduced_motion_stops_the_progress_stripes_and_the_page_reflows_at_200_percent(app_url):
    with chromium(width=640, height=800) as driver:  # a 1280 px window at 200% zoom
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        open_page(driver, app_url)
        assert driver.execute_script("return getComputedStyle(document.getElementById('batch-progress')).animationName") == "none"
        predict_sample(driver)
        for key in TABS:
            show_tab(driver, key)
            # Charts drawn while their tab was hidden take the panel's width on the resize the tab switch sends.
            WebDriverWait(driver, 10).until(
                lambda d: d.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
                f"the {key} tab is wider than the window at 200% zoom",
            )
