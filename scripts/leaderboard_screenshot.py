"""The README's picture of the leaderboard: the demo's smoke-v0 page, shot in Chromium.

Seeds the shipped baselines into a data directory (as ``portia leaderboard serve --demo``
does; runs already there are reused), serves the leaderboard on 127.0.0.1 in this
process, and saves a screenshot of the suite page taken by Debian's Chromium, driven by
Playwright (``apt install chromium``; no browser is downloaded).

Usage: ``python scripts/leaderboard_screenshot.py --data-dir leaderboard-data
--out docs/images/leaderboard.png``
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from leaderboard.app import create_app
from leaderboard.database import open_database, session_factory
from leaderboard.seeding import seed_baselines
from leaderboard.server import listen, make_server, url_of
from leaderboard.settings import Settings

# The browser window, CSS pixels.
VIEWPORT = {"width": 1280, "height": 720}
START_TIMEOUT_S = 30.0


def screenshot(data_dir: Path, out: Path, path: str) -> None:
    """Seed the baselines into ``data_dir``, serve them, and save the page ``path`` to ``out``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium on PATH: apt install chromium")
    settings = Settings(data_dir=data_dir)
    engine = open_database(settings)
    sessions = session_factory(engine)
    for seeded in seed_baselines(sessions, data_dir):
        print(f"{seeded.baseline.method}: entry {seeded.entry_id} ({seeded.how})")
    sock = listen("127.0.0.1", 0)
    server = make_server(create_app(settings, sessions))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise SystemExit("the leaderboard did not start")
            time.sleep(0.05)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url_of(sock) + path)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=out, full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        engine.dispose()
    print(f"wrote {out}")


def main() -> None:
    """Read the command line and take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("leaderboard-data"))
    parser.add_argument("--out", type=Path, default=Path("docs/images/leaderboard.png"))
    parser.add_argument("--path", default="/suites/smoke-v0", help="The page to shoot.")
    arguments = parser.parse_args()
    screenshot(arguments.data_dir, arguments.out, arguments.path)


if __name__ == "__main__":
    main()
