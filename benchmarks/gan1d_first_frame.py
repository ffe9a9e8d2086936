"""Benchmark of issue #3: seconds from pressing ▶ Train on the 1D GAN critics page to its first animated frame.

The page draws step 0 as soon as training starts and refreshes the panels while the rest trains. On one warm
`streamlit run` server and one Chromium tab, each repeat sets a global seed nobody used yet (so nothing comes
from the cache; the page then waits for ▶ Train), presses ▶ Train and measures the first frame (a plotly chart
on the page) and the whole default run (1000 generator steps, the 5 default critics; the script finished).
Also measured once: opening the page fresh by its link, where the page loads and trains on its own.
Target: the first frame within 2 s of the click.

    .venv/bin/python -m benchmarks.gan1d_first_frame [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium_page, streamlit_server, wait_for_app  # noqa: E402

PLOT = ".js-plotly-plot"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    first, whole = [], []
    with streamlit_server(env={"ADVLAB_RUNS_DIR": tempfile.mkdtemp()}) as url, chromium_page() as page:
        # A fresh open by link: the page loads and trains on its own.
        t0 = time.perf_counter()
        page.goto(f"{url}/1D_GAN_critics?seed=999", timeout=60_000)
        page.wait_for_selector(PLOT, timeout=120_000)
        opened = time.perf_counter() - t0
        wait_for_app(page, timeout_ms=300_000)
        print(f"fresh open by link: first frame {opened:.2f} s, whole run {time.perf_counter() - t0:.1f} s")
        seed = page.locator("input[aria-label='Global seed']")
        for r in range(args.repeats):
            seed.fill(str(1000 + r))
            seed.press("Enter")
            page.wait_for_selector("text=press ▶ Train", timeout=60_000)  # new settings: nothing drawn
            wait_for_app(page)
            assert page.locator(PLOT).count() == 0
            t0 = time.perf_counter()
            page.get_by_role("button", name=re.compile("Train")).click()
            page.wait_for_selector(PLOT, timeout=120_000)
            first.append(time.perf_counter() - t0)
            page.wait_for_selector(f"{PLOT} .slider-container", timeout=300_000)  # the animated figure
            wait_for_app(page, timeout_ms=300_000)
            whole.append(time.perf_counter() - t0)
            print(f"[{r + 1}/{args.repeats}] click → first frame {first[-1]:.2f} s · whole run {whole[-1]:.1f} s",
                  flush=True)  # fmt: skip
    print(f"median of {args.repeats}: click → first frame {statistics.median(first):.2f} s "
          f"({min(first):.2f}–{max(first):.2f}) · whole run {statistics.median(whole):.1f} s · "
          f"target first frame ≤ 2 s")  # fmt: skip


if __name__ == "__main__":
    main()
