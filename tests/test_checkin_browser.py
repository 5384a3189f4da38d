"""The check-in in a real browser: Debian's headless Chromium driven by Selenium through Debian's chromedriver, at
phone size (390 × 844). Upload a real FIT file, fill the morning form with body-map taps, rate the session, then
check that the store holds exactly that. Nothing may download a browser or a driver: both paths are given, Selenium
Manager is switched off (SE_OFFLINE) and its cache folder must stay empty. Without /usr/bin/chromium or
/usr/bin/chromedriver the test is skipped, except under CI=true, where it fails.

Regenerate the README screenshot (the morning form on a phone):

    python tests/test_checkin_browser.py docs/checkin-morning.png
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from checkin_client import FIT_FILE, FIT_START_MS, Clock, link, running_checkin
from shared_data import SHARED_DATA, require_shared, skip_or_fail

from ingest.session_match import stored_sessions
from ingest.store.sqlite import SQLiteStore
from ingest.visits import new_visit, write_visits
from ingest.wellness import Wellness, read_wellness

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (390, 844)
A = "A01"
NOW_MS = FIT_START_MS + 3_600_000  # an hour after the run in the FIT file: it is "today's synced session"
VISIT_MS = NOW_MS - 20 * 3_600_000


def require_browser() -> None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            skip_or_fail(
                f"{path} not installed: apt-get install -y {package} to run the browser tests",
                ci_reason=f"{path} not found: .ci/run must apt-get install -y {package}",
            )


@contextmanager
def phone_browser(cache: Path) -> Iterator[object]:
    """Headless Chromium at 390 × 844 CSS px, driven through Debian's chromedriver; Selenium Manager off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    saved = {name: os.environ.get(name) for name in ("SE_OFFLINE", "SE_CACHE_PATH")}
    os.environ.update(SE_OFFLINE="true", SE_CACHE_PATH=str(cache))
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    options.add_argument("--disable-background-networking")
    options.add_argument("--disable-component-update")
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 1.0}}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def screenshot(driver, path: Path, *, full_page: bool = True) -> bytes:
    """A PNG of the page (the whole page, or the phone's screen), written to ``path``."""
    params: dict[str, object] = {"format": "png", "captureBeyondViewport": full_page}
    if full_page:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        params["clip"] = {"x": 0, "y": 0, "width": PHONE[0], "height": min(size["height"], 6000), "scale": 1}
    png = base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"])
    path.write_bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    return png


def click_label(driver, for_id: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f'label[for="{for_id}"]').click()


def submit(driver, expected: str) -> None:
    """Send the page's form and wait for the next page to say ``expected``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, "form.checkin button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: expected in d.page_source)


def fill_and_send(driver, base: str, shots: Path, fit: Path) -> None:
    """The athlete's morning: upload the watch file, the morning form with two body-map taps, the session's RPE."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver.get(f"{base}/")
    assert "Your check-in" in driver.title + driver.page_source
    screenshot(driver, shots / "index.png")
    driver.get(f"{base}/upload")
    driver.find_element(By.ID, "files").send_keys(str(fit))
    submit(driver, "imported: run 2017-06-11 14:34 UTC, 1 min")
    screenshot(driver, shots / "upload.png")

    driver.get(f"{base}/morning")
    for item, value in (("sleep_quality", 2), ("fatigue", 3), ("soreness", 5), ("stress", 2)):
        click_label(driver, f"{item}-{value}")
    click_label(driver, "pain-no")
    click_label(driver, "aftercare-yes")
    calf = driver.find_element(By.CSS_SELECTOR, 'ellipse[data-region="calf_l"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", calf)
    calf.click()  # a tap on the body map marks the left calf sore (5)
    lumbar = driver.find_element(By.CSS_SELECTOR, 'ellipse[data-region="lumbar"]')
    lumbar.send_keys(Keys.ENTER)  # the keyboard works too
    assert lumbar.get_attribute("aria-pressed") == "true"
    Select(driver.find_element(By.ID, "region-lumbar")).select_by_visible_text("8")
    driver.find_element(By.ID, "region-quadriceps_r")  # every region keeps its select
    assert driver.find_element(By.ID, "region-calf_l").get_attribute("value") == "5"
    screenshot(driver, shots / "morning.png")
    submit(driver, "Thank you: your morning check-in is stored.")

    driver.get(f"{base}/session")
    assert driver.find_element(By.ID, f"session-{FIT_START_MS}").is_selected()
    assert driver.find_element(By.ID, "duration_min").get_attribute("value") == "1"  # from the synced session
    click_label(driver, "rpe-7")
    screenshot(driver, shots / "session.png")
    submit(driver, "Thank you: your session RPE is stored.")
    driver.get(f"{base}/days")
    assert "Hooper index 12 of 28" in driver.page_source
    screenshot(driver, shots / "days.png")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "/favicon.ico" not in e["message"]]
    assert errors == []


def test_a_phone_fills_every_form_and_the_store_holds_exactly_that(tmp_path):
    require_browser()
    fit = require_shared("fit") / FIT_FILE
    store = SQLiteStore(tmp_path / "store.sqlite")
    token = link(store, A, NOW_MS)
    write_visits(store, [new_visit(A, VISIT_MS, "calf_l", now_ms=NOW_MS)])
    shots, cache = tmp_path / "screenshots", tmp_path / "selenium-cache"
    shots.mkdir()
    with running_checkin(store.url, Clock(NOW_MS)) as server, phone_browser(cache) as driver:
        fill_and_send(driver, f"{server.url}/checkin/{token}", shots, fit)
    assert not cache.exists() or not any(cache.iterdir())  # Selenium Manager fetched nothing
    (checkin,) = read_wellness(store, A)
    assert checkin == Wellness(A, NOW_MS, 2, 3, 5, 2, False, True, {"calf_l": 5, "lumbar": 8}, checkin.submission_id)
    (session,) = stored_sessions(store, A, 0, NOW_MS + 1)
    assert (session.source, session.time_ms, session.value("rpe"), session.value("srpe_load")) == (
        "fit",
        FIT_START_MS,
        7,
        7,
    )
    counts = {name: store.count(name, A) for name in ("session", "activity", "rr", "wellness", "soreness", "visit")}
    assert counts == {"session": 1, "activity": 1, "rr": 113, "wellness": 1, "soreness": 2, "visit": 1}
    assert sorted(p.name for p in shots.iterdir()) == [
        "days.png",
        "index.png",
        "morning.png",
        "session.png",
        "upload.png",
    ]
    store.close()


def readme_screenshot(out: Path) -> None:
    """The morning form on a phone's screen, filled in, for README."""
    if not (SHARED_DATA / "fit").is_dir():
        raise SystemExit(f"test data missing: {SHARED_DATA / 'fit'}")
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "store.sqlite")
        token = link(store, A, NOW_MS)
        with running_checkin(store.url, Clock(NOW_MS)) as server, phone_browser(Path(folder) / "cache") as driver:
            driver.get(f"{server.url}/checkin/{token}/morning")
            for item, value in (("sleep_quality", 2), ("fatigue", 3), ("soreness", 5)):
                click_label(driver, f"{item}-{value}")
            for region in ("calf_l", "hamstring_r", "lumbar"):
                driver.find_element(By.CSS_SELECTOR, f'ellipse[data-region="{region}"]').click()
            driver.execute_script("document.activeElement.blur()")
            figures = driver.find_element(By.CSS_SELECTOR, "[data-bodymap]")
            driver.execute_script(
                "window.scrollTo(0, arguments[0].getBoundingClientRect().top + window.scrollY - 60)", figures
            )
            screenshot(driver, out, full_page=False)
        store.close()


if __name__ == "__main__":
    readme_screenshot(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/checkin-morning.png"))
