"""Dashboard responsiveness: starts `solara run app.py` on a free local port, loads the page in Debian's chromium
(Playwright with the system browser), and measures (1) seconds from the start command to a usable page (the Reset
button shown) and (2) seconds from a click on Step to the updated page (step label and fan chart), for 100 runs.

    python3 benchmarks/bench_dashboard.py [--steps 5] [--screenshot docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    """Start the dashboard, time --steps steps in headless chromium, print the figures; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5, help="steps to time (default 5)")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of the page after the steps")
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium not found (apt-get install -y chromium)")
    port = free_port()
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "solara", "run", "app.py", "--port", str(port), "--no-open",
                               "--host", "127.0.0.1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                    break
                except Exception:  # noqa: BLE001 - server not up yet
                    if time.perf_counter() - t0 > 60:
                        raise
                    time.sleep(0.2)
            page.get_by_role("button", name="Reset").wait_for(timeout=60_000)
            usable = time.perf_counter() - t0
            page.get_by_text("100 runs, seed").wait_for()
            times = []
            for k in range(1, args.steps + 1):
                before = page.locator("img").first.get_attribute("src")
                t = time.perf_counter()
                page.get_by_role("button", name="Step").click()
                page.get_by_text(f"step {k} of 40").wait_for()
                page.wait_for_function("b => document.querySelector('img').getAttribute('src') !== b", arg=before)
                times.append(time.perf_counter() - t)
            if args.screenshot:
                page.screenshot(path=str(args.screenshot), full_page=False)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"page usable {usable:.2f} s after `solara run app.py` (target < 10 s)")
    print("one step of 100 runs, click to updated page: " + ", ".join(f"{t:.2f}" for t in times) +
          f" s (median {statistics.median(times):.2f} s; target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
