"""The dashboard in a real browser: Debian's chromium (installed by .ci/run), driven by Playwright through
pytest-ipywidgets' solara server. Loads app.py, resets, steps, sees the fan chart change, opens the Compare tab,
and saves a screenshot. Fails on any page error: a console error (e.g. a front-end file the offline cache lacks,
served as 404) or an uncaught exception in the page. Needs the front-end files in solara's cache
(`python3 -m greatgame.dashboard.assets`)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system chromium, never a browser downloaded by Playwright."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: .ci/run installs it with apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


def fan_chart_src(page) -> str:
    return page.locator("img").first.get_attribute("src") or ""


@contextmanager
def page_errors(page):
    """The page's console errors and uncaught exceptions (as lines of text) logged inside the block."""
    errors: list[str] = []

    def console(msg) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            errors.append(f"console error: {msg.text}" + (f" (at {where})" if where else ""))

    def exception(exc) -> None:
        errors.append(f"uncaught exception: {exc}")

    page.on("console", console)
    page.on("pageerror", exception)
    try:
        yield errors
    finally:
        page.remove_listener("console", console)
        page.remove_listener("pageerror", exception)


def test_dashboard_in_chromium(solara_server, solara_app, page_session, tmp_path):
    page = page_session
    page.set_viewport_size({"width": 1500, "height": 1100})
    with page_errors(page) as errors:
        browse(page, solara_server, solara_app, tmp_path)
    assert not errors, ("the page logged errors (a front-end file missing from dashboard/assets.py shows as a 404 "
                        "under /_solara/cdn/):\n" + "\n".join(errors))


def browse(page, solara_server, solara_app, tmp_path) -> None:
    """Load the app, reset with 30 runs, step, compare and save a screenshot, checking what each step shows."""
    with solara_app(str(ROOT / "app.py")):
        page.goto(solara_server.base_url)
        page.get_by_role("button", name="Reset").wait_for(timeout=60_000)
        runs = page.get_by_label("runs (1-2000; default 100)")
        runs.fill("30")
        runs.press("Enter")
        page.get_by_text("press Reset to apply them").wait_for()
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("30 runs, seed").wait_for()
        page.get_by_text("step 0 of 40").wait_for()
        before = fan_chart_src(page)
        page.get_by_role("button", name="Step").click()
        page.get_by_text("step 1 of 40").wait_for()
        page.wait_for_function("before => document.querySelector('img').getAttribute('src') !== before", arg=before)
        assert fan_chart_src(page) != before
        page.get_by_role("tab", name="Compare").click()
        page.get_by_role("button", name="Compare").click()
        page.get_by_text("P(China ahead of Russia regionally at the horizon)").wait_for(timeout=60_000)
        shot = tmp_path / "dashboard_compare.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
