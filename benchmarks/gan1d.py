"""Benchmark of issue #3: the standard 1D critic comparison, plain nn.Module loops vs core.gan1d's trainer.

5 default critics × 2000 generator steps, batch 256, 1→64→64→1 MLPs, n_critic 5 for weight_clip and
gradient_penalty (1 for the others), 100 snapshots on a 512-point grid; both runs in one process, one after
the other, so they share the machine's load. With --repeats N both run N times (alternating) and the
medians are printed.

    .venv/bin/python -m benchmarks.gan1d [--steps 2000] [--repeats 1] [--threads 1] [--workers 2]
                                         [--skip-baseline]

--threads is torch's intra-op thread count for both runs (1: on a busy 2-core machine two intra-op threads
only fight each other); --workers is the number of CPU processes core.gan1d trains groups of critics in
(default 2: both cores, as `python -m core.gan1d` does; 1 = the app's setting, one process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.gan1d_baseline import run_baseline  # noqa: E402
from core.gan1d import Gan1DConfig, train_critics  # noqa: E402


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--data", default="two_modes")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (both runs)")
    ap.add_argument("--workers", type=int, default=2, help="core.gan1d worker processes (default 2)")
    ap.add_argument("--repeats", type=int, default=1, help="run both N times and print medians")
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
        f"{args.threads} intra-op thread(s) · core.gan1d workers {args.workers} · "
        f"torch {torch.__version__} · {os.cpu_count()} CPUs · load {_load()}",
        flush=True,
    )
    train_critics(Gan1DConfig(steps=5, snapshots=2, critics=cfg.critics), workers=args.workers)  # warm-up
    base_times: list[float] = []
    per_critic: dict[str, list[float]] = {}
    ours_times: list[float] = []
    base = result = None
    for rep in range(args.repeats):
        tag = f"[{rep + 1}/{args.repeats}] " if args.repeats > 1 else ""
        if not args.skip_baseline:
            t0 = time.perf_counter()
            base, per = run_baseline(cfg)
            base_times.append(time.perf_counter() - t0)
            for k, v in per.items():
                per_critic.setdefault(k, []).append(v)
            print(
                f"{tag}baseline (one nn.Module loop per critic): {base_times[-1]:.1f} s  ("
                + ", ".join(f"{k} {v:.1f} s" for k, v in per.items())
                + f")  load {_load()}",
                flush=True,
            )
        t0 = time.perf_counter()
        result = train_critics(cfg, workers=args.workers)
        ours_times.append(time.perf_counter() - t0)
        line = f"{tag}core.gan1d (stacked critics, closed-form passes): {ours_times[-1]:.1f} s"
        if base_times:
            line += f"  speed-up {base_times[-1] / ours_times[-1]:.1f}×"
        print(line + f"  load {_load()}", flush=True)
    med = statistics.median
    if args.repeats > 1:
        print(f"medians over {args.repeats} repeats:")
        if base_times:
            print(
                f"  baseline {med(base_times):.1f} s  ("
                + ", ".join(f"{k} {med(v):.1f} s" for k, v in per_critic.items())
                + ")"
            )
        print(f"  core.gan1d {med(ours_times):.1f} s")
    if base_times:
        ratio = med(base_times) / med(ours_times)
        print(
            f"baseline {med(base_times):.1f} s · core.gan1d {med(ours_times):.1f} s · speed-up {ratio:.1f}×"
        )
    print("final JSD / W1 (core.gan1d" + ("" if args.skip_baseline else " | baseline") + "):")
    for i, name in enumerate(result.critics):
        line = f"  {name:17s} JSD {result.jsd[i, -1]:.3f}  W1 {result.w1[i, -1]:.2f}"
        if base is not None:
            line += f"  |  JSD {base[name]['jsd'][-1]:.3f}  W1 {base[name]['w1'][-1]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
