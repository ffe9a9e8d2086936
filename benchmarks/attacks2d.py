"""Core time of the "Attack a 2D classifier" page (issue #4): one interaction and the fooling-rate chart.

One interaction = core.toy2d.attack_point: boundary grid 200×200, FGSM under both norms, PGD-20 with its path
under both norms, and the exact optimum of both balls by dense search (≥ 10,000 candidates each).
The chart = core.toy2d.fooling_curves: every correctly classified point, 20 values of ε, 2 norms, FGSM and PGD-10.
Targets: ≤ 30 ms median per interaction, ≤ 1 s for the chart. The page calls exactly these two functions.

    .venv/bin/python benchmarks/attacks2d.py [--threads 1] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core import toy2d  # noqa: E402


def _times(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (tiny tensors: 1 is fastest)"
    )
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--dataset", default="moons", choices=toy2d.DATASETS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    toy = toy2d.build_toy(args.dataset, 300, 0.15, "mlp", seed=0)
    train_s = time.perf_counter() - t0
    X, y, model = toy.X, toy.y, toy.model
    eps = 0.3
    rng = np.random.default_rng(0)
    points = rng.integers(0, len(y), size=args.repeats)
    n_cand = {n: len(toy2d.ball_candidates(eps, n)) for n in ("inf", "2")}

    toy2d.attack_point(model, X, y, 0, eps)  # warm-up (and the page's first view of this model)
    it = iter(points.tolist())
    cold_s = _times(lambda: toy2d.attack_point(model, X, y, next(it), eps, memo_grid=False), args.repeats)
    it = iter(points.tolist())
    point_s = _times(
        lambda: toy2d.attack_point(model, X, y, next(it), eps, pgd_steps=20, grid_n=200), args.repeats
    )
    it = iter(points.tolist())
    dual_s = _times(
        lambda: toy2d.attack_point(model, X, y, next(it), eps, pgd_steps=20, grid_n=200, dual_steps=60),
        args.repeats,
    )
    bounds = toy2d.data_bounds(X)
    grid_s = _times(lambda: toy2d.decision_grid(model, bounds, 200), 10)
    curves_s = _times(lambda: toy2d.fooling_curves(model, X, y, np.linspace(0, 1, 20), pgd_steps=10), 5)
    curves = toy2d.fooling_curves(model, X, y, np.linspace(0, 1, 20), pgd_steps=10)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), dataset {args.dataset}, "
        f"300 points, MLP 2×32 SiLU (trained in {train_s:.2f} s, accuracy {toy.accuracy:.1%})"
    )
    print(f"exact-optimum candidates: L∞ {n_cand['inf']:,}, L2 {n_cand['2']:,} (+441 refinement each)")
    print(f"decision grid 200×200 alone: median {1000 * statistics.median(grid_s):.1f} ms")
    print(
        f"attack_point, grid recomputed (FGSM×2, PGD-20×2 with path, exact×2, grid): "
        f"median {1000 * statistics.median(cold_s):.1f} ms, min {1000 * min(cold_s):.1f} ms over {args.repeats} points"
    )
    print(
        f"attack_point as on the page (grid remembered per model, i.e. another click or ε): "
        f"median {1000 * statistics.median(point_s):.1f} ms, min {1000 * min(point_s):.1f} ms, "
        f"max {1000 * max(point_s):.1f} ms over {args.repeats} points   [target ≤ 30 ms median]"
    )
    print(
        f"attack_point with dual gradient ascent shown too (60 steps × 2 norms, grid remembered): "
        f"median {1000 * statistics.median(dual_s):.1f} ms over {args.repeats} points"
    )
    print(
        f"fooling_curves ({curves.n_correct} points × 20 ε × 2 norms, FGSM + PGD-10): "
        f"median {statistics.median(curves_s):.3f} s, min {min(curves_s):.3f} s over 5 runs   [target ≤ 1 s]"
    )


if __name__ == "__main__":
    main()
