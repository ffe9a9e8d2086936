"""MNIST GAN performance: training throughput per architecture and device, and time-to-quality.

    .venv/bin/python -m benchmarks.mnist_gan                    # throughput + time-to-quality on every device
    .venv/bin/python -m benchmarks.mnist_gan --skip-quality     # throughput only
    .venv/bin/python -m benchmarks.mnist_gan --max-seconds 180 --threads 2

Throughput = real images seen by the critic per second (batch × n_critic per generator step), after warm-up.
Time-to-quality = wall time of the default GanConfig on the offline subset until an evaluation (every 250 steps,
1,000 samples) shows MNIST score ≥ 8 with all 10 digits present; the targets are ≤ 90 s on a 2-core CPU and
≤ 10 s on a GPU. The classifier judge is trained (or loaded from the cache) before the clock starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import torch

from core import runs
from core.mnist import gan
from core.mnist.data import load_mnist
from core.mnist.metrics import load_classifier


class BenchRun(runs.RunContext):
    """A real run folder, plus the clock: stops once the quality target is reached or time is up."""

    def __init__(self, run_dir: Path, device: str, max_seconds: float, target: float) -> None:
        super().__init__(run_dir=run_dir, run_id=run_dir.name, device_name=device)
        self.t0 = time.perf_counter()
        self.max_seconds, self.target = max_seconds, target
        self.reached: tuple[float, int, float] | None = None
        self.evals: list[tuple[float, int, float, float, int]] = []

    def log(self, step: int, **metrics: float) -> None:
        super().log(step, **metrics)
        if "mnist_score" in metrics:
            t = time.perf_counter() - self.t0
            score, fd, covered = metrics["mnist_score"], metrics["mnist_fd"], int(metrics["classes_covered"])
            self.evals.append((t, step, score, fd, covered))
            print(f"    {t:6.1f} s  step {step:5d}  MNIST score {score:5.2f}  MNIST-FD {fd:7.1f}  digits {covered}/10",
                  flush=True)  # fmt: skip
            if self.reached is None and score >= self.target and covered == 10:
                self.reached = (t, step, score)

    def should_stop(self) -> bool:
        return self.reached is not None or time.perf_counter() - self.t0 > self.max_seconds


def throughput(arch: str, device: str, steps: int, loss: str = "non-saturating") -> float:
    """Images/s of the critic over `steps` generator steps (a short warm-up excluded)."""
    cfg = gan.GanConfig(
        arch=arch, loss=loss, steps=steps + 10, eval_every=10**6, eval_samples=10, device=device
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = runs.RunContext(run_dir=Path(tmp), run_id="bench", device_name=str(torch.device(device)))
        gan.train_gan(cfg, run)
        rows = _rows(Path(tmp))
    return sum(r["images_per_s"] for r in rows) / max(len(rows), 1)


def _rows(run_dir: Path) -> list[dict]:
    """The training rows of metrics.jsonl after the warm-up."""
    out = []
    for line in (run_dir / runs.METRICS_FILE).read_text().splitlines():
        row = json.loads(line)
        if "images_per_s" in row and row["step"] > 10:
            out.append(row)
    return out


def time_to_quality(device: str, max_seconds: float, target: float) -> BenchRun:
    cfg = dataclasses.replace(gan.GanConfig(), steps=100_000, device=device, data="subset")
    print(f"  time-to-quality on {device}: {cfg.loss}, {cfg.arch}, batch {cfg.batch_size}, lr {cfg.lr_g:g}/{cfg.lr_d:g}",
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run = BenchRun(Path(tmp), str(torch.device(device)), max_seconds, target)
        gan.train_gan(cfg, run)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="generator steps per throughput measurement")
    parser.add_argument("--max-seconds", type=float, default=150.0, help="give up time-to-quality after this")
    parser.add_argument("--target", type=float, default=8.0, help="MNIST score to reach")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--archs", default="mlp,dcgan", help="architectures to measure throughput for")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    data = load_mnist(source="subset")
    t = time.perf_counter()
    load_classifier(data.x_train, data.y_train)
    print(f"classifier judge ready in {time.perf_counter() - t:.1f} s (cached after the first time)")
    print(f"torch {torch.__version__}, CPU threads {torch.get_num_threads()}, devices {devices}")
    if not args.skip_throughput:
        print("\nThroughput (critic images / s, non-saturating loss, batch 64):")
    for device in devices if not args.skip_throughput else []:
        for arch in args.archs.split(","):
            print(
                f"  {device:5s} {arch:6s} {throughput(arch, device, args.steps):10,.0f} images/s", flush=True
            )
    if args.skip_quality:
        return
    print(f"\nTime to MNIST score >= {args.target:g} with all 10 digits (default config, offline subset):")
    for device in devices:
        run = time_to_quality(device, args.max_seconds, args.target)
        if run.reached:
            t, step, score = run.reached
            print(f"  {device}: reached in {t:.1f} s (step {step}, score {score:.2f})")
        else:
            best = max(run.evals, key=lambda e: e[2]) if run.evals else None
            where = f"; best score {best[2]:.2f} at step {best[1]} ({best[0]:.0f} s)" if best else ""
            print(f"  {device}: NOT reached within {args.max_seconds:.0f} s{where}")


if __name__ == "__main__":
    main()
