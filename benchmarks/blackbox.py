"""Core time of the "Black-box attacks" page and of the 2D part of "Adversarial training" (issue #4, part 2).

Each line is one cache miss of a page interaction, i.e. exactly the core calls the page makes:
  smooth target      bb.train_smooth_target (tanh MLP, 200 full-batch epochs, 300 points)
  gradient quality   bb.gradient_quality: 21 steps h × 2 estimators + 40 values of k, 150 test points
  query budget       bb.query_budget_experiment on the RBF SVM, both estimators, 200 queries per point
  transfer           bb.transfer_experiment: 3 scikit-learn targets, 3 surrogates, PGD-20 at 13 values of ε
  robust training    robust2d.run_robust2d with the page's defaults (30 epochs, PGD-7 inner max, snapshots)
  Problem 4 sets     robust2d.problem4_accuracy (five sets × two models, PGD-20 with 2 restarts)

    .venv/bin/python benchmarks/blackbox.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core import blackbox as bb  # noqa: E402
from core import robust2d  # noqa: E402
from core.targets2d import sklearn_target, toy_split  # noqa: E402


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    xtr, ytr, xte, yte = toy_split("moons", 300, 0.1, 0)
    svm = sklearn_target("svm", xtr, ytr, 0)
    rows = []
    t, model = _median_time(lambda: bb.train_smooth_target(xtr, ytr, 0), args.repeats)
    rows.append(("smooth target", t))
    t, _ = _median_time(
        lambda: bb.gradient_quality(
            model, xte, yte, 10.0 ** np.arange(-9, 1.01, 0.5), np.arange(1, 41), 5, 1e-3
        ),
        args.repeats,
    )
    rows.append(("gradient quality", t))
    t, _ = _median_time(
        lambda: bb.query_budget_experiment(svm, xte, yte, 0.5, "inf", 1e-2, 3, 200), args.repeats
    )
    rows.append(("query budget (SVM)", t))
    t, _ = _median_time(
        lambda: bb.transfer_experiment(xtr, ytr, xte, yte, np.linspace(0, 1.2, 13), "inf"), args.repeats
    )
    rows.append(("transfer (3 targets)", t))
    config = robust2d.Robust2DConfig()
    t, result = _median_time(lambda: robust2d.run_robust2d(config), args.repeats)
    rows.append(("robust training (30 epochs)", t))
    t, _ = _median_time(lambda: robust2d.problem4_accuracy(result), args.repeats)
    rows.append(("Problem 4 sets", t))
    print(f"{'interaction (cache miss)':32s} median s  (repeats = {args.repeats})")
    for name, sec in rows:
        print(f"{name:32s} {sec:8.2f}")


if __name__ == "__main__":
    main()
