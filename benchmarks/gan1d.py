"""Benchmark of issue #3: the standard 1D critic comparison, plain nn.Module loops vs core.gan1d's trainer.

5 default critics × 2000 generator steps, batch 256, 1→64→64→1 MLPs, n_critic 5 for weight_clip and
gradient_penalty (1 for the others), 100 snapshots on a 512-point grid; both runs in one process.

    .venv/bin/python -m benchmarks.gan1d [--steps 2000] [--threads 2] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.gan1d_baseline import run_baseline  # noqa: E402
from core.gan1d import Gan1DConfig, train_critics  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--data", default="two_modes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = Gan1DConfig(
        data=args.data,
        steps=args.steps,
        batch=256,
        hidden=64,
        n_critic=5,
        snapshots=100,
        grid_points=512,
        seed=0,
        device="cpu",
    )
    print(
        f"1D GAN critics: {', '.join(cfg.critics)} · {cfg.steps} steps · batch {cfg.batch} · "
        f"{torch.get_num_threads()} threads · torch {torch.__version__}"
    )
    base_total = None
    if not args.skip_baseline:
        t0 = time.perf_counter()
        base, per_critic = run_baseline(cfg)
        base_total = time.perf_counter() - t0
        print(
            f"baseline (one nn.Module loop per critic): {base_total:.1f} s  ("
            + ", ".join(f"{k} {v:.1f} s" for k, v in per_critic.items())
            + ")"
        )
    t0 = time.perf_counter()
    result = train_critics(cfg)
    ours = time.perf_counter() - t0
    print(f"core.gan1d (stacked critics, closed-form passes): {ours:.1f} s")
    if base_total is not None:
        print(f"speed-up {base_total / ours:.1f}×")
    print("final JSD / W1 (core.gan1d" + ("" if args.skip_baseline else " | baseline") + "):")
    for i, name in enumerate(result.critics):
        line = f"  {name:17s} JSD {result.jsd[i, -1]:.3f}  W1 {result.w1[i, -1]:.2f}"
        if not args.skip_baseline:
            line += f"  |  JSD {base[name]['jsd'][-1]:.3f}  W1 {base[name]['w1'][-1]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
