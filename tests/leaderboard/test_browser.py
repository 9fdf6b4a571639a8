"""The pages in a real browser: Debian's Chromium driven by Playwright, headless.

Playwright never downloads a browser here: it launches the system's ``chromium`` through
``executable_path``. Without one the tests skip, unless ``PORTIA_REQUIRE_BROWSER=1``
(``.ci/run`` sets it after installing Debian's ``chromium``), where they fail instead.
"""

import os
import shutil

import pytest

from tests.leaderboard.conftest import fresh
from tests.leaderboard.test_submissions import post_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("PORTIA_REQUIRE_BROWSER") == "1"

if CHROMIUM is None and REQUIRED:
    pytest.fail("PORTIA_REQUIRE_BROWSER=1 but there is no chromium on PATH", pytrace=False)
sync_api = pytest.importorskip("playwright.sync_api")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (apt install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def entries(server, http, results):
    """Three self-reported entries that state 30, 10 and 20 env steps, in that order."""
    token = server.token()
    return {
        steps: post_file(http, token, fresh(results), method=f"m{steps}", env_steps=steps).json()[
            "id"
        ]
        for steps in (30, 10, 20)
    }


def watched_page(browser, *, scripts=True):
    """A new page whose console errors and uncaught exceptions are collected."""
    context = browser.new_context(java_script_enabled=scripts)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def board_methods(page, entries):
    """The methods of ``entries`` in the first board's row order."""
    names = {f"m{steps}" for steps in entries}
    cells = page.locator("table.board").first.locator("tbody tr td:nth-child(2) a")
    return [name for name in cells.all_inner_texts() if name in names]


def test_the_suite_page_sorts_in_the_browser_and_an_entry_opens(server, browser, entries, tmp_path):
    page = watched_page(browser)
    page.goto(f"{server.url}/suites/smoke-v0?tier=all")
    assert page.title() == "smoke-v0 · Portia leaderboard"
    heading = page.locator("table.board").first.locator('th[data-key="env_steps"]')
    heading.locator("a").click()
    assert board_methods(page, entries) == ["m10", "m20", "m30"]
    assert heading.get_attribute("aria-sort") == "ascending"
    assert page.url.endswith("/suites/smoke-v0?tier=all")  # sorted by the script, in place
    heading.locator("a").click()
    assert board_methods(page, entries) == ["m30", "m20", "m10"]
    page.screenshot(path=tmp_path / "suite.png", full_page=True)
    page.get_by_role("link", name="m20", exact=True).click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/entries/{entries[20]}")
    assert page.locator("h1").inner_text().startswith("m20")
    images = page.locator("figure img")
    # Success per split first, then the tasks and the splits' aggregates (paused: no latency).
    sources = images.evaluate_all("images => images.map(image => image.getAttribute('src'))")
    assert [source.rsplit("/", 1)[-1] for source in sources] == [
        "success.png",
        "tasks.png",
        "splits.png",
    ]
    widths = images.evaluate_all("images => images.map(image => image.naturalWidth)")
    assert all(width > 0 for width in widths), widths  # every plot loaded
    page.screenshot(path=tmp_path / "entry.png", full_page=True)
    assert (tmp_path / "suite.png").stat().st_size > 10_000
    assert page.problems == []


def test_without_scripts_the_headings_sort_on_the_server(server, browser, entries):
    page = watched_page(browser, scripts=False)
    page.goto(f"{server.url}/suites/smoke-v0?tier=all")
    page.locator("table.board").first.locator('th[data-key="env_steps"] a').click()
    page.wait_for_load_state("load")
    assert "sort=env_steps&order=asc" in page.url
    assert board_methods(page, entries) == ["m10", "m20", "m30"]
    assert page.problems == []
