"""MNIST GAN performance: training throughput per architecture and device, and time-to-quality.

    .venv/bin/python -m benchmarks.mnist_gan                       # throughput + time-to-quality, every device
    .venv/bin/python -m benchmarks.mnist_gan --skip-quality        # throughput only
    .venv/bin/python -m benchmarks.mnist_gan --repeats 3 --threads 2 --max-seconds 180
    .venv/bin/python -m benchmarks.mnist_gan --skip-throughput --unconditional   # the same, one G for all digits
    .venv/bin/python -m benchmarks.mnist_gan --skip-throughput --truncation 1    # scored without truncation

Throughput = real images seen by the critic per second (batch × n_critic per generator step) with the default
config's other settings, after warm-up, on the CPU with 1 and with 2 torch threads, and on CUDA when present.
Time-to-quality = training seconds of the default GanConfig (class-conditional, samples at truncation ψ 0.7)
on the offline subset (4,000 digits) until an evaluation (1,000 samples of the EMA generator, 100 of each digit)
shows MNIST score ≥ 8 with all 10 digits present (--unconditional: the same for one G of all digits); the target
is ≤ 90 s on a 2-core CPU. Training seconds leave out the evaluations, grids and checkpoints (their wall time is
printed too). The classifier judge is trained (or loaded from the cache) before the clock starts. Each repeat
uses its own seed; the medians are printed last. Timings on a shared machine are inflated: say so.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch

from core import runs
from core.mnist import gan
from core.mnist.data import load_mnist
from core.mnist.metrics import load_classifier


@dataclasses.dataclass
class Evaluation:
    wall_s: float
    train_s: float
    step: int
    score: float
    fd: float
    covered: int


class BenchRun(runs.RunContext):
    """A real run folder, plus the clock: stops once the quality target is reached or time is up."""

    def __init__(self, run_dir: Path, device: str, max_seconds: float, target: float) -> None:
        super().__init__(run_dir=run_dir, run_id=run_dir.name, device_name=device)
        self.t0 = time.perf_counter()
        self.max_seconds, self.target = max_seconds, target
        self.reached: Evaluation | None = None
        self.evals: list[Evaluation] = []

    def log(self, step: int, **metrics: float) -> None:
        super().log(step, **metrics)
        if "mnist_score" in metrics:
            e = Evaluation(time.perf_counter() - self.t0, metrics["train_s"], step, metrics["mnist_score"],
                           metrics["mnist_fd"], int(metrics["classes_covered"]))  # fmt: skip
            self.evals.append(e)
            asked = metrics.get("label_agreement")
            asked = f"  drew the digit asked {asked:.1%}" if asked is not None else ""
            print(f"    train {e.train_s:6.1f} s (wall {e.wall_s:6.1f} s)  step {step:5d}  MNIST score {e.score:5.2f}  "
                  f"MNIST-FD {e.fd:6.1f}  digits {e.covered}/10{asked}", flush=True)  # fmt: skip
            if self.reached is None and e.score >= self.target and e.covered == 10:
                self.reached = e

    def should_stop(self) -> bool:
        return self.reached is not None or time.perf_counter() - self.t0 > self.max_seconds


def throughput(arch: str, device: str, steps: int) -> float:
    """Critic images/s over `steps` generator steps of the default config with this architecture (warm-up
    excluded, evaluations off)."""
    cfg = dataclasses.replace(
        gan.GanConfig(), arch=arch, steps=steps + 10, eval_every=10**6, eval_samples=10, device=device
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = runs.RunContext(run_dir=Path(tmp), run_id="bench", device_name=str(torch.device(device)))
        gan.train_gan(cfg, run)
        rows = _rows(Path(tmp))
    return statistics.median(r["images_per_s"] for r in rows) if rows else float("nan")


def _rows(run_dir: Path) -> list[dict]:
    """The training rows of metrics.jsonl after the warm-up."""
    out = []
    for line in (run_dir / runs.METRICS_FILE).read_text().splitlines():
        row = json.loads(line)
        if "images_per_s" in row and row["step"] > 10:
            out.append(row)
    return out


def time_to_quality(
    device: str, max_seconds: float, target: float, seed: int, conditional: bool, truncation: float = 0.0
) -> BenchRun:
    cfg = dataclasses.replace(
        gan.GanConfig(),
        steps=100_000,
        device=device,
        data="subset",
        seed=seed,
        conditional=conditional,
        truncation=truncation,
    )
    kind = "class-conditional" if cfg.conditional else "unconditional"
    print(f"  {device}, seed {seed}: {cfg.loss}, {cfg.arch}, {kind}, truncation ψ {cfg.sample_truncation:g}, "
          f"batch {cfg.batch_size}, lr {cfg.lr_g:g}/{cfg.lr_d:g}, dropout {cfg.dropout:g}, EMA {cfg.ema:g}, "
          f"eval every {cfg.eval_every} steps", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run = BenchRun(Path(tmp), str(torch.device(device)), max_seconds, target)
        gan.train_gan(cfg, run)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="generator steps per throughput measurement")
    parser.add_argument("--max-seconds", type=float, default=150.0, help="give up time-to-quality after this")
    parser.add_argument("--target", type=float, default=8.0, help="MNIST score to reach")
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for time-to-quality (0 = default)"
    )
    parser.add_argument("--archs", default="mlp,dcgan", help="architectures to measure throughput for")
    parser.add_argument("--repeats", type=int, default=1, help="time-to-quality runs (seeds 0..n-1)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--unconditional", action="store_true", help="time-to-quality of an unconditional G")
    parser.add_argument(
        "--truncation", type=float, default=0.0, help="ψ of the scored samples (0 = the default)"
    )
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    data = load_mnist(source="subset")
    t = time.perf_counter()
    load_classifier(data.x_train, data.y_train)
    print(f"classifier judge ready in {time.perf_counter() - t:.1f} s (cached after the first time)")
    print(f"torch {torch.__version__}, default CPU threads {default_threads}, devices {devices}")
    if torch.cuda.is_available():
        print(f"CUDA device: {torch.cuda.get_device_name(0)}")

    if not args.skip_throughput:
        cfg = gan.GanConfig()
        print(
            f"\nThroughput (critic images / s; {cfg.loss}, batch {cfg.batch_size}, default config otherwise):"
        )
        for device in devices:
            thread_counts = sorted({1, 2} | {default_threads}) if device == "cpu" else [default_threads]
            for threads in thread_counts:
                torch.set_num_threads(threads)
                for arch in args.archs.split(","):
                    ips = throughput(arch, device, args.steps)
                    where = (
                        f"{device} ({threads} thread{'s' if threads > 1 else ''})"
                        if device == "cpu"
                        else device
                    )
                    print(f"  {where:16s} {arch:6s} {ips:10,.0f} images/s", flush=True)
        torch.set_num_threads(default_threads)
    if args.skip_quality:
        return

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"\nTime to MNIST score >= {args.target:g} with all 10 digits (default config, offline subset, "
          f"{torch.get_num_threads()} CPU threads):")  # fmt: skip
    for device in devices:
        times, finals = [], []
        for seed in range(args.repeats):
            run = time_to_quality(
                device, args.max_seconds, args.target, seed, not args.unconditional, args.truncation
            )
            last = run.evals[-1] if run.evals else None
            if run.reached:
                e = run.reached
                print(f"  -> reached in {e.train_s:.1f} s of training ({e.wall_s:.1f} s wall with evaluations), "
                      f"step {e.step}, score {e.score:.2f}, MNIST-FD {e.fd:.1f}")  # fmt: skip
                times.append(e.train_s)
            else:
                best = max(run.evals, key=lambda e: e.score) if run.evals else None
                where = (f"; best score {best.score:.2f} ({best.covered}/10 digits) at step {best.step} "
                         f"({best.train_s:.0f} s of training)") if best else ""  # fmt: skip
                print(f"  -> not reached in {args.max_seconds:.0f} s{where}")
                times.append(math.inf)
            if last:
                finals.append(last.score)
        median = statistics.median(times)
        shown = f"{median:.1f} s of training" if math.isfinite(median) else "not reached"
        print(f"  {device}: median time to target over {args.repeats} run(s): {shown}; "
              f"median last score {statistics.median(finals) if finals else float('nan'):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
