"""The demo's look in headless Chromium, on the pages a person meets in the first minutes: the
home page, the login page, the account page after login, an error page, and the development
provider's consent page. At a desktop (1280x800) and a phone (390x844, emulated as a mobile device)
viewport each page fits the width (nothing scrolls sideways, no element pokes past the edge)
and is saved to build/screenshots/demo-<page>-<size>.png; each has the accessibility basics
(`<html lang>`, a viewport meta, labelled inputs, one h1, a visible focus ring on every
control reached with Tab), and the logged-in pages have navigation with a logout control.

Drives Debian's Chromium through tests/browser.py; skips without it, fails when CI=true.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import browser_paths, submit_login, wait_until_replaced
from test_demo import NAME, PASSWORD, DemoProcess, demo_process

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"
PAGES = ("home", "login", "account", "sessions", "error", "consent")
SIZES = {
    "desktop": {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    "phone": {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
}
#: The controls a keyboard user must be able to reach on each page.
CONTROLS = {
    "home": {"a", "button"},
    "login": {"a", "input", "button"},
    "account": {"a", "button"},
    "sessions": {"a", "button"},
    "error": {"a", "button"},
    "consent": {"input", "button"},
}

# Every element's box, and the content it lets spill out, against the width the viewport
# should have (arguments[0]): a phone widens its layout viewport to fit content that is too
# wide, so window.innerWidth alone would not tell. Zero-sized boxes take no room.
OVERFLOW_PROBE = """
const width = arguments[0];
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) continue;
  const spills = getComputedStyle(el).overflowX === 'visible';
  const reach = Math.max(box.right, spills ? box.left + el.scrollWidth : 0);
  if (reach > width + 1 || box.left < -1) {
    wide.push(el.outerHTML.slice(0, 80) + ` [${Math.round(box.left)}, ${Math.round(reach)}]`);
  }
}
return {innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
        wide: wide};
"""

A11Y_PROBE = """
const fields = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
const named = (field) => [...field.labels].some((label) => label.textContent.trim() !== '');
const viewport = document.querySelector('meta[name=viewport]');
return {
  lang: document.documentElement.lang,
  viewport: viewport ? viewport.content : null,
  h1: document.querySelectorAll('h1').length,
  fields: fields.length,
  unlabelled: fields.filter((field) => !named(field)).map((field) => field.name || field.id),
};
"""

FOCUSED = """
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
return {
  key: el.outerHTML.slice(0, 120),
  tag: el.tagName.toLowerCase(),
  outline: style.outlineStyle,
  width: parseFloat(style.outlineWidth),
  color: style.outlineColor,
};
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    browser_paths()
    with demo_process(tmp_path_factory.mktemp("demo") / "demo.log") as running:
        yield running


def open_page(driver: Any, demo: DemoProcess, name: str) -> None:
    """Bring the browser to the page `name` from a fresh start."""
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.set_window_size(SIZES["desktop"]["width"], SIZES["desktop"]["height"])
    driver.delete_all_cookies()
    if name == "consent":
        driver.get(f"{demo.url}/")
        button = driver.find_element(By.CSS_SELECTOR, "form[action='/auth/dev'] button")
        button.click()
        wait_until_replaced(driver, button)
        assert "/authorize?" in driver.current_url
        return
    if name == "home":
        driver.get(f"{demo.url}/")
        return
    driver.get(f"{demo.url}/login")
    if name == "login":
        return
    submit_login(driver, NAME, PASSWORD)
    paths = {"account": "/", "sessions": "/sessions"}
    driver.get(f"{demo.url}{paths.get(name, '/no-such-page')}")


def show_at(driver: Any, size: str) -> None:
    metrics = SIZES[size]
    driver.set_window_size(metrics["width"], metrics["height"])
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def save_full_page(driver: Any, path: Path) -> None:
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("name", PAGES)
def test_the_page_fits_desktop_and_phone_widths(driver: Any, demo: DemoProcess, name: str) -> None:
    open_page(driver, demo, name)
    for size, metrics in SIZES.items():
        show_at(driver, size)
        save_full_page(driver, SCREENSHOTS / f"demo-{name}-{size}.png")
        probe = driver.execute_script(OVERFLOW_PROBE, metrics["width"])
        # The viewport meta is what makes a phone lay the page out at its own width.
        assert probe["innerWidth"] == metrics["width"], (size, probe)
        assert probe["scrollWidth"] <= probe["innerWidth"], (size, probe)
        assert probe["wide"] == [], (size, probe["wide"])


@pytest.mark.parametrize("name", PAGES)
def test_the_page_has_lang_viewport_labels_and_one_h1(
    driver: Any, demo: DemoProcess, name: str
) -> None:
    open_page(driver, demo, name)
    probe = driver.execute_script(A11Y_PROBE)
    assert probe["lang"] == "en"
    assert probe["viewport"] == "width=device-width, initial-scale=1"
    assert probe["h1"] == 1
    assert probe["fields"] > 0 or name in ("home", "account", "sessions", "error")
    assert probe["unlabelled"] == []


@pytest.mark.parametrize("name", PAGES)
def test_every_control_reached_with_tab_shows_a_focus_ring(
    driver: Any, demo: DemoProcess, name: str
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(driver, demo, name)
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    reached: dict[str, dict[str, Any]] = {}
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.execute_script(FOCUSED)
        if focused is None or focused["key"] in reached:
            break  # past the last control, back to the browser
        reached[focused["key"]] = focused
    assert CONTROLS[name] <= {control["tag"] for control in reached.values()}, reached
    for control in reached.values():
        assert control["outline"] != "none", control
        assert control["width"] >= 2, control
        assert control["color"] not in ("transparent", "rgba(0, 0, 0, 0)"), control


@pytest.mark.parametrize("name", ["account", "error"])
def test_a_logged_in_page_has_navigation_with_a_logout_control(
    driver: Any, demo: DemoProcess, name: str
) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, demo, name)
    nav = driver.find_element(By.CSS_SELECTOR, "header nav")
    assert nav.get_attribute("aria-label") == "Main"
    logout = nav.find_element(By.CSS_SELECTOR, "form[action='/logout'][method=post] button")
    assert logout.text == "Log out" and logout.is_displayed()
    assert f"Signed in as {NAME}" in nav.text
