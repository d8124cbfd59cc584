"""Real headless Chromium against a real server: shared by the browser tests and the script
that takes the screenshots.

Uses Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

from support import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chromium_available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


@contextmanager
def serve_app() -> Iterator[str]:
    """The whole app (dashboard and API) on a free loopback port; yields its base URL."""
    from dashboard.app import create_app

    server = make_server("127.0.0.1", 0, create_app().server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@contextmanager
def chromium(width: int = 1280, height: int = 1000, flags: tuple[str, ...] = (), downloads: str | None = None) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with its console log readable; no network beyond loopback is tried.

    ``flags`` are added to the command line (a fake camera, say); ``downloads`` is the folder
    that downloads land in.
    """
    profile = tempfile.mkdtemp(prefix="face2data-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
        *flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    if downloads:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from npm (``package.json``; ``make test`` runs ``npm ci``): loaded into the page under test only, never served."""
SEVERE = ("critical", "serious")


def axe_available() -> bool:
    return AXE.exists()


def axe_violations(driver) -> list[dict]:
    """Every axe-core violation on the page as it is now: rule, impact, how many nodes, the first of them."""
    driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(result => done(result.violations.map(v => ("
        "{rule: v.id, impact: v.impact, nodes: v.nodes.length, first: v.nodes[0].target.join(' ')}))));"
    )
