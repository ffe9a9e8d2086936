"""Cold start of `streamlit run app.py`: seconds to /_stcore/health OK, and to the home page rendered in Chromium.

Target (issue #2): ≤ 4 s to the home page rendered, on the 2-core reference machine. Prints the median of N runs.
Usage: python -m benchmarks.cold_start [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, streamlit_command  # noqa: E402


def one_cold_start(browser) -> tuple[float, float]:
    port = free_port()
    cmd = streamlit_command(port)
    env = {**os.environ, "ADVLAB_RUNS_DIR": tempfile.mkdtemp()}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        t_health = time.perf_counter() - t0
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("h1:has-text('Adversarial Lab')", timeout=60_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
        t_page = time.perf_counter() - t0
        page.close()
        return t_health, t_page
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        runs = [one_cold_start(browser) for _ in range(args.repeats)]
        browser.close()
    health = statistics.median(r[0] for r in runs)
    page = statistics.median(r[1] for r in runs)
    print(
        f"cold start to health OK:        median {health:.2f} s over {len(runs)} runs "
        f"({', '.join(f'{r[0]:.2f}' for r in runs)})"
    )
    print(
        f"cold start to home page render: median {page:.2f} s over {len(runs)} runs "
        f"({', '.join(f'{r[1]:.2f}' for r in runs)})  target <= 4 s"
    )


if __name__ == "__main__":
    main()
