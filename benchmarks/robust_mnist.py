"""Benchmark: MNIST adversarial training (issue #6) — clean and robust accuracy against training time per mode.

    python benchmarks/robust_mnist.py                       # all four modes on the offline subset (4,000 / 1,000)
    python benchmarks/robust_mnist.py --modes pgd fgsm_rs --restarts 10 --eval-n 1000 --repeats 3
    python benchmarks/robust_mnist.py --modes fgsm_rs --no-rs-carry --rs-alpha 1.25 --rs-noise 1 --rs-project \
        --batch-size 100 --warmup 3                                                    # Wong et al.'s recipe
    python benchmarks/robust_mnist.py --source idx --epochs-pgd 15   # full MNIST when the IDX files are there

Robust accuracy is measured with the issue's protocol: PGD-50 with 10 restarts, step 0.01, L∞ ε = 0.3 (a digit
counts as robust only if it survives every restart). Training time is the wall time of the training loop only
(the per-epoch live evaluation is excluded). With --repeats R each mode trains R times (seeds seed … seed+R−1)
and the table shows the mean (min–max). Targets on a 2-core CPU: the best mode reaches ≥ 80 % robust with
≥ 97 % clean within 120 s; fgsm_rs lands within 5 points of pgd at ≤ 1/3 of its time. On a CUDA machine the same
script runs on the GPU (device auto) and says so.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.device import describe_device, resolve_device  # noqa: E402
from core.mnist.evaluate import accuracy, robust_accuracy  # noqa: E402
from core.mnist.robust import MODES, LocalRun, RobustConfig, fit, load_train_data  # noqa: E402

DEFAULT = RobustConfig()

# fgsm_rs: 10 epochs, the page's default and the issue's CLI example (12 took 0.35 of pgd's time on 2026-12-02's
# machine, for ~2 points more robust accuracy); pgd keeps 15, which it needs to pass 80 %.
EPOCHS = {"standard": 10, "fgsm": 10, "fgsm_rs": 10, "pgd": 15}


class PrintingRun(LocalRun):
    """LocalRun that prints each epoch's live metrics (on the 200-digit live slice, PGD-5)."""

    def log(self, step: int, **metrics: float) -> None:
        super().log(step, **metrics)
        extra = f" guard PGD {100 * metrics['guard_acc']:.0f} %" if "guard_acc" in metrics else ""
        extra += " ← guard triggered" if metrics.get("guard_triggered") else ""
        print(f"    epoch {metrics['epoch']:3d}: {metrics['epoch_time']:5.1f} s, loss {metrics['loss']:.3f}, "
              f"clean {100 * metrics['clean_acc']:.1f} %, PGD-5 {100 * metrics['robust_acc']:.1f} %, "
              f"α {metrics['alpha']:.3f}{extra}", flush=True)  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--eps", type=float, default=0.3)
    for mode in MODES:
        p.add_argument(
            f"--epochs-{mode.replace('_', '-')}", type=int, default=EPOCHS[mode], dest=f"epochs_{mode}"
        )
    p.add_argument("--pgd-steps", type=int, default=5)
    p.add_argument("--rs-alpha", type=float, default=DEFAULT.rs_alpha, help="fgsm_rs step in units of ε")
    p.add_argument("--rs-noise", type=float, default=DEFAULT.rs_noise, help="fgsm_rs noise U[-kε, kε]: k")
    p.add_argument("--rs-project", action="store_true", help="fgsm_rs: project onto the ball (Wong et al.)")
    p.add_argument("--rs-carry", action=argparse.BooleanOptionalAction, default=DEFAULT.rs_carry,
                   help="fgsm_rs: start from last epoch's perturbation of the digit (ATTA)")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=0, help="0 = each mode's default (RobustConfig.batch)")
    p.add_argument("--lr", type=float, default=DEFAULT.lr, help="peak learning rate (every mode)")
    p.add_argument("--warmup", type=float, default=None, help="ε warm-up epochs (default: each mode's)")
    p.add_argument(
        "--repeats", type=int, default=1, help="train each mode this many times (seeds seed, seed+1, …)"
    )
    p.add_argument("--eval-n", type=int, default=1000, help="test digits for the final PGD evaluation")
    p.add_argument("--eval-steps", type=int, default=50)
    p.add_argument("--restarts", type=int, default=10)
    p.add_argument("--alpha", type=float, default=0.01, help="PGD step size of the evaluation")
    p.add_argument("--source", default="auto", choices=["auto", "idx", "subset"])
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device: {describe_device(args.device)}")

    base = RobustConfig(eps=args.eps, pgd_steps=args.pgd_steps, rs_alpha=args.rs_alpha, rs_noise=args.rs_noise,
                        rs_project=args.rs_project, rs_carry=args.rs_carry, batch_size=args.batch_size,
                        lr=args.lr, warmup_epochs=args.warmup,
                        source=args.source, eval_size=200, eval_steps=5, final_eval=False, device=args.device,
                        seed=args.seed)  # fmt: skip
    data = load_train_data(replace(base, eval_size=args.eval_n))
    print(f"data: {data.description}")
    print(f"train {len(data.y_train):,} digits; evaluation on {len(data.y_test):,} test digits, PGD-{args.eval_steps} "
          f"×{args.restarts} restarts, step {args.alpha:g}, L∞ ε = {args.eps:g}; {args.repeats} repeat(s)\n")  # fmt: skip
    live = replace(data, x_test=data.x_test[:200], y_test=data.y_test[:200])  # the per-epoch curves' slice

    results: dict[str, list[tuple[float, float, float]]] = {}  # mode -> [(train s, clean, robust)] per repeat
    for mode in args.modes:
        for r in range(args.repeats):
            cfg = replace(base, mode=mode, epochs=getattr(args, f"epochs_{mode}"), seed=args.seed + r)
            print(f"  {mode} ({cfg.description}, batch {cfg.batch}, ε warm-up {cfg.warmup:g} epochs), seed {cfg.seed}:",
                  flush=True)  # fmt: skip
            run = PrintingRun(device)
            model = fit(cfg, live, run, device=device)
            train_s = sum(m["epoch_time"] for m in run.metrics)
            t0 = time.perf_counter()
            model = model.to(device)
            clean = accuracy(model, data.x_test, data.y_test)
            robust = robust_accuracy(model, data.x_test, data.y_test, args.eps, "inf", "pgd", args.eval_steps,
                                     args.alpha, args.restarts, seed=args.seed)  # fmt: skip
            triggers = sum(1 for m in run.metrics if m.get("guard_triggered"))
            steps = run.metrics[-1]["step"] if run.metrics else 0
            print(f"  → {len(run.metrics)} epochs, {steps} steps of batch {cfg.batch}, train {train_s:.1f} s, "
                  f"clean {100 * clean:.1f} %, robust {100 * robust:.1f} %, guard triggers {triggers}, "
                  f"evaluation {time.perf_counter() - t0:.0f} s\n", flush=True)  # fmt: skip
            results.setdefault(mode, []).append((train_s, clean, robust))

    def stat(values: list[float], scale: float = 1.0, fmt: str = ".1f") -> str:
        mean = scale * sum(values) / len(values)
        if len(values) == 1:
            return f"{mean:{fmt}}"
        return f"{mean:{fmt}} ({scale * min(values):{fmt}}–{scale * max(values):{fmt}})"

    protocol = f"PGD-{args.eval_steps}×{args.restarts} step {args.alpha:g}"
    print(f"{'mode':8s} {'train s':>22s} {'clean %':>22s} {'robust % (' + protocol + ')':>34s}")
    mean = {}
    for mode, rows in results.items():
        t, c, rb = ([row[k] for row in rows] for k in range(3))
        mean[mode] = (sum(t) / len(t), sum(c) / len(c), sum(rb) / len(rb))
        print(f"{mode:8s} {stat(t):>22s} {stat(c, 100):>22s} {stat(rb, 100):>34s}")

    print()
    good = [(m, v) for m, v in mean.items() if v[1] >= 0.97 and v[2] >= 0.80]
    if good:
        best_mode, (best_t, _, _) = min(good, key=lambda mv: mv[1][0])
        verdict = "met" if best_t <= 120 else "NOT met (too slow)"
        print(f"target ≥80 % robust, ≥97 % clean within 120 s: {verdict} — {best_mode} in {best_t:.0f} s")
    else:
        print("target ≥80 % robust, ≥97 % clean: NOT met by any mode")
    if "pgd" in mean and "fgsm_rs" in mean:
        (t_pgd, _, r_pgd), (t_fast, _, r_fast) = mean["pgd"], mean["fgsm_rs"]
        ok = r_pgd - r_fast <= 0.05 and t_fast <= t_pgd / 3
        print(f"fgsm_rs vs pgd: gap {100 * (r_pgd - r_fast):.1f} points at a time ratio {t_fast / t_pgd:.2f} "
              f"(target: gap ≤ 5 points at ratio ≤ 0.33) — {'met' if ok else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
