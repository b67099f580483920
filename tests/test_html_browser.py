"""The HTML handouts in a real browser (Debian's headless Chromium, driven by Selenium).

Every example profile's packet page, in normal and in large print, must have
no WCAG 2.1 AA violation that axe-core finds, and must not scroll sideways on
a 360-pixel-wide phone. The skip link, the focus ring, the text size and the
absence of any request are checked as a keyboard user and a reader meet them.

What this needs, `.ci/run` installs: `apt-get install chromium chromium-driver`
and `npm install --prefix .ci/node axe-core@<pinned>`. Without any of it the
tests skip, saying which part is missing. Set CONSENTGEN_SCREENSHOTS=DIR to
keep a PNG of each page at 360 and 1280 pixels wide, to look at.
"""
from __future__ import annotations

import base64
import functools
import os
import shutil
from pathlib import Path

import pytest

from consentgen.api import Job, compose, load_profile
from consentgen.compose import packet_html

from .conftest import ROOT

AXE = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PROFILES = sorted(ROOT.glob("profiles/example-*/clinicians/*.yaml"))
PHONE, DESKTOP = 360, 1280
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-extensions", "--hide-scrollbars")


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "Chromium is not installed (apt-get install chromium chromium-driver; .ci/run does)"
    if not AXE.is_file():
        return f"axe-core is not installed in {AXE.parent.parent.parent.relative_to(ROOT)} (.ci/run installs it)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        print(f"skipped: {reason}")          # seen with -s; -rs (in addopts) shows it in the summary
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """page(profile, large) -> the packet page's file, rendered on first use."""
    folder = tmp_path_factory.mktemp("html")

    @functools.cache
    def page(profile: Path, large: bool) -> Path:
        loaded = load_profile(profile)
        job = Job(large_print=large)
        data = packet_html(loaded, job, compose(loaded, job))
        path = folder / f"{profile.parent.parent.name}-{profile.stem}{'-large' if large else ''}.html"
        path.write_bytes(data)
        return path

    return page


def _resize(driver, width: int) -> None:
    """A phone's screen (width < 600, with its viewport rules) or a desktop's."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})


def _open(driver, path: Path, width: int) -> None:
    """Load ``path`` as a phone or a desktop screen would."""
    _resize(driver, width)
    driver.get(path.as_uri())


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def _axe(driver, loaded: bool = False) -> list[dict]:
    """axe-core's violations of WCAG 2.0 and 2.1, levels A and AA, on the page loaded
    (``loaded``: axe was injected into this page already)."""
    if not loaded:
        driver.execute_script(_axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, help: v.help,"
        "     nodes: v.nodes.slice(0, 3).map(n => n.html + ' -- ' + n.failureSummary)}))))"
        "  .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));", AXE_TAGS)
    return result


def _screenshot(driver, path: Path, width: int) -> None:
    folder = os.environ.get("CONSENTGEN_SCREENSHOTS")
    if not folder:
        return
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), 8000)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{path.stem}-{width}.png").write_bytes(base64.b64decode(shot["data"]))


# To keep CI within five minutes: the first clinician of each example practice in normal print, and every
# third of those in large print (CONSENTGEN_ALL_VARIANTS=1: every example, in both).
ALL = os.environ.get("CONSENTGEN_ALL_VARIANTS") == "1"
NORMAL = PROFILES if ALL else list({p.parent.parent: p for p in reversed(PROFILES)}.values())[::-1]
LARGE = PROFILES if ALL else NORMAL[::3]


@pytest.mark.parametrize("profile, large", [(p, False) for p in NORMAL] + [(p, True) for p in LARGE],
                         ids=lambda v: f"{v.parent.parent.name}/{v.stem}" if isinstance(v, Path)
                         else ("large-print" if v else "normal"))
def test_every_example_packet_passes_axe_and_fits_a_phone(browser, pages, profile, large):
    path = pages(profile, large)
    _open(browser, path, PHONE)
    _screenshot(browser, path, PHONE)
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= PHONE, f"{path.name} scrolls sideways on a {PHONE}-pixel phone ({scroll} px wide)"
    violations = _axe(browser)
    assert violations == [], f"{path.name} at {PHONE} px: {violations}"
    # Large print lays out a desktop screen as it does a phone (wide tables one block per row):
    # axe reads it at one width, which keeps this test's time in CI's budget.
    if not large:
        _resize(browser, DESKTOP)            # the same page, laid out again: axe stays loaded
        assert browser.execute_script("return innerWidth") == DESKTOP
        _screenshot(browser, path, DESKTOP)
        violations = _axe(browser, loaded=True)
        assert violations == [], f"{path.name} at {DESKTOP} px: {violations}"


EXAMPLE_PROFILE = ROOT / "profiles" / "example-practice" / "clinicians" / "ana-nunez.yaml"


def test_the_skip_link_comes_first_shows_when_focused_and_leads_to_the_handout(browser, pages):
    from selenium.webdriver.common.keys import Keys

    _open(browser, pages(EXAMPLE_PROFILE, False), PHONE)
    skip = browser.find_element("css selector", "a.skip")
    assert skip.location["y"] < 0, "the skip link is hidden until it is focused"
    browser.find_element("tag name", "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused == skip
    assert skip.location["y"] >= 0 and skip.is_displayed()
    assert browser.execute_script("return getComputedStyle(arguments[0]).outlineStyle", skip) != "none" \
        or browser.execute_script("return getComputedStyle(arguments[0]).borderStyle", skip) != "none"
    focused.send_keys(Keys.ENTER)
    assert browser.execute_script("return location.hash") == "#main"
    assert browser.switch_to.active_element.tag_name == "main"


def test_a_focused_link_has_a_visible_ring(browser, pages):
    _open(browser, pages(EXAMPLE_PROFILE, False), DESKTOP)
    link = browser.find_element("css selector", "main a[href^='#']")
    browser.execute_script("arguments[0].focus()", link)
    style = browser.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth, s.outlineColor]", link)
    assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2, style


@pytest.mark.parametrize("large, points", [(False, 12.75), (True, 16)], ids=["normal", "large-print"])
def test_body_text_is_16_points_in_large_print(browser, pages, large, points):
    _open(browser, pages(EXAMPLE_PROFILE, large), DESKTOP)
    size = browser.execute_script("return parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert size * 0.75 == pytest.approx(points, abs=0.05)       # CSS: 1 px = 0.75 pt


def test_a_packet_page_requests_nothing(browser, pages):
    """Everything is in the file: no style sheet, font, image or script is fetched."""
    _open(browser, pages(EXAMPLE_PROFILE, False), DESKTOP)
    assert browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    assert browser.execute_script("return document.images.length") == 1        # the logo, inline
    assert browser.execute_script("return document.images[0].complete && document.images[0].naturalWidth > 0")


def test_a_light_accent_and_markup_in_names_still_pass(browser, write, tmp_path):
    """A yellow accent (1.4:1 on white) is darkened for text; a name holding markup stays text."""
    from consentgen.api import render

    profile = write("p.yaml", """\
        schema: 1
        practice:
          name: "<script>alert(1)</script> & Sons"
          phone: "555-0100"
          branding: {accent_color: "#FFD700"}
        clinician:
          name: "Robin <b>Test</b>"
          credentials: LPC
        packet: [our-relationship]
        """)
    written = render(profile, tmp_path / "out", Job(docs=("our-relationship",), formats=("html",)))
    _open(browser, written[0], PHONE)
    assert browser.execute_script("return document.scripts.length") == 0
    assert "<script>alert(1)</script> & Sons" in browser.find_element("css selector", "header p").text
    assert _axe(browser) == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE
