"""CLI: train the 1D critic comparison and write the JSD / W1 curves and final numbers as JSON.

python -m core.gan1d --data two_modes --critics perfect,gradient_penalty --steps 2000 --seed 0 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.densities import PRESETS
from core.gan1d.config import CRITICS, DEFAULT_CRITICS, STARTS, Gan1DConfig
from core.gan1d.trainer import Gan1DResult, train_critics
from core.validate import check_int


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def to_json(result: Gan1DResult) -> dict:
    """The curves and final numbers of a run (non-finite KL written as null)."""
    return {
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(result.config).items()},
        "steps": [int(s) for s in result.steps],
        "seconds": round(result.seconds, 3),
        "critics": {
            name: {
                "label": result.labels[i],
                "jsd": [round(float(v), 6) for v in result.jsd[i]],
                "w1": [round(float(v), 6) for v in result.w1[i]],
                "kl": [_finite(round(float(v), 6)) for v in result.kl[i]],
                **result.final()[name],
            }
            for i, name in enumerate(result.critics)
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core.gan1d", description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="two_modes", choices=list(PRESETS))
    ap.add_argument(
        "--critics", default=",".join(DEFAULT_CRITICS), help=f"comma-separated, from {', '.join(CRITICS)}"
    )
    ap.add_argument("--start", default="disjoint", choices=list(STARTS))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--snapshots", type=int, default=100)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--workers", type=int, default=2, help="CPU processes training groups of critics (1 = this one only)"
    )
    ap.add_argument("--json", dest="json_path", default=None, help="write the curves here ('-' for stdout)")
    args = ap.parse_args(argv)
    try:
        cfg = Gan1DConfig(
            data=args.data,
            critics=tuple(c for c in args.critics.split(",") if c),
            start=args.start,
            steps=args.steps,
            seed=args.seed,
            snapshots=args.snapshots,
            device=args.device,
        )
        check_int("workers", args.workers, minimum=1)
    except ValueError as err:
        ap.error(str(err))
    result = train_critics(cfg, workers=args.workers)
    payload = to_json(result)
    for name, row in payload["critics"].items():
        stop = f"  ({row['stop_reason']})" if row["stop_reason"] else ""
        print(
            f"{name:17s} JSD {row['jsd_start']:.3f} → {row['jsd_final']:.3f}   "
            f"W1 {row['w1_start']:.2f} → {row['w1_final']:.2f}{stop}",
            file=sys.stderr,
        )
    print(f"{result.seconds:.1f} s", file=sys.stderr)
    if args.json_path == "-":
        json.dump(payload, sys.stdout, indent=1)
    elif args.json_path:
        with open(args.json_path, "w") as fh:
            json.dump(payload, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
