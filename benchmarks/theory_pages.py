"""Core time of one slider change on the two theory pages ("The GAN game", "Lipschitz critics").

Target (issue #2): ≤ 20 ms median per slider change. Each repetition moves one slider to a value not seen
before (the pages' st.cache_data would otherwise answer) and times the core call the page makes for it
(rows marked "+ figures" also build the page's plotly figures). On the GAN-game page the separation sweep
depends only on p and p_G's shape, so θ and x₀ reuse it (core-level LRU cache); σ_G and data rows recompute it. Prints median and 90th percentile over --repeats changes per slider.
Usage: python -m benchmarks.theory_pages [--repeats 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core import game, lipschitz  # noqa: E402
from core.figures import game as game_figs  # noqa: E402
from core.figures import lipschitz as lip_figs  # noqa: E402


def timed(change: Callable[[int], object], repeats: int) -> tuple[float, float]:
    """Median and p90 wall time (ms) of change(i) for i = 0 … repeats−1 (after one warm-up call)."""
    change(-1)
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        change(i)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), float(np.percentile(times, 90))


def game_change(field: str, values: np.ndarray, figures: bool, **fixed) -> Callable[[int], object]:
    def run(i: int) -> object:
        r = game.play_game(game.GameConfig(**fixed, **{field: float(values[i + 1])}))
        if figures:
            game_figs.discriminator_figure(r), game_figs.objective_figure(r)
            game_figs.probe_figure(r), game_figs.sweep_figure(r)
            game_figs.instance_noise_figure(r), game_figs.tricks_sweep_figure(r)
        return r

    return run


def game_data_change(figures: bool) -> Callable[[int], object]:
    """A new data mixture each time: the separation sweep is recomputed (nothing cached)."""

    def run(i: int) -> object:
        spread = 1.0 + 0.05 * (i + 1)
        config = game.GameConfig(data_means=(-spread, spread), data_stds=(0.4, 0.6), generator="gaussian")
        return game.play_game(config)

    return run


def lipschitz_change(field: str, values: list, figures: bool) -> Callable[[int], object]:
    def run(i: int) -> object:
        value = values[(i + 1) % len(values)]
        if field in ("layers", "width", "in_dim", "seed"):
            cfg = lipschitz.LipschitzConfig(critic=lipschitz.CriticConfig(**{field: value}))
        else:
            cfg = lipschitz.LipschitzConfig(**{field: value})
        r = lipschitz.analyse_critic(cfg)
        if figures:
            lip_figs.layer_norms_figure(r), lip_figs.power_iteration_figure(r), lip_figs.bounds_figure(r)
            lip_figs.clip_sweep_figure(r), lip_figs.slice_figure(r)
        return r

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (the app's server shares cores)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n = args.repeats

    rows = [
        ("The GAN game", "separation θ", game_change("offset", np.linspace(0.1, 7.9, n + 1), False)),
        ("The GAN game", "probe x₀", game_change("probe", np.linspace(-3, 5, n + 1), False)),
        (
            "The GAN game",
            "σ_G (new sweep)",
            game_change("sigma_g", np.linspace(0.2, 2.5, n + 1), False, generator="gaussian"),
        ),
        ("The GAN game", "data (new sweep)", game_data_change(False)),
        (
            "The GAN game",
            "noise σ (new sweep)",
            game_change("noise_sigma", np.linspace(0.05, 1.95, n + 1), False),
        ),
        ("The GAN game", "θ + 6 figures", game_change("offset", np.linspace(0.1, 7.9, n + 1), True)),
        (
            "Lipschitz critics",
            "clip level c",
            lipschitz_change("clip_c", list(np.geomspace(0.01, 1, n + 1)), False),
        ),
        ("Lipschitz critics", "power rounds k", lipschitz_change("n_iter", list(range(1, 31)), False)),
        ("Lipschitz critics", "critic seed", lipschitz_change("seed", list(range(n + 1)), False)),
        ("Lipschitz critics", "width 2…64", lipschitz_change("width", list(range(2, 65, 2)), False)),
        ("Lipschitz critics", "layers 1…6", lipschitz_change("layers", list(range(1, 7)), False)),
        (
            "Lipschitz critics",
            "c + 5 figures",
            lipschitz_change("clip_c", list(np.geomspace(0.01, 1, n + 1)), True),
        ),
    ]
    comp_widths = list(range(2, 65, 2))
    print(
        f"torch threads: {torch.get_num_threads()} · repeats per slider: {n} · target ≤ 20 ms median (core)"
    )
    print(f"{'page':<18} {'slider':<16} {'median ms':>10} {'p90 ms':>8}")
    for page, slider, change in rows:
        med, p90 = timed(change, n)
        print(f"{page:<18} {slider:<16} {med:>10.1f} {p90:>8.1f}")
    med, p90 = timed(lambda i: lipschitz.composition(width=comp_widths[(i + 1) % len(comp_widths)]), n)
    print(
        f"{'Lipschitz critics':<18} {'Problem 2 (width)':<16} {med:>10.1f} {p90:>8.1f}  (second cached call)"
    )


if __name__ == "__main__":
    main()
