"""A tiny trainer for the run-manager tests (registered through ADVLAB_EXTRA_TRAINERS; no torch, no data)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from core.validate import check_int, check_positive


@dataclass(frozen=True)
class SleepConfig:
    steps: int = 10
    step_s: float = 0.05
    fail_at: int = -1  # raise at this step (a trainer that fails)
    ignore_cancel: bool = False  # never look at should_stop (the runner must stop it anyway)
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("steps", self.steps, minimum=1)
        check_positive("step_s", self.step_s, allow_zero=True)


def train_sleep(config: SleepConfig, run) -> None:
    """Sleeps `steps` times, logging a falling 'loss' and a rising 'score', then saves a sample grid."""
    rng = np.random.default_rng(config.seed)
    for step in range(1, config.steps + 1):
        if not config.ignore_cancel and run.should_stop():
            return
        time.sleep(config.step_s)
        if step == config.fail_at:
            raise FloatingPointError(f"loss became NaN at step {step}")
        run.log(step, loss=1.0 / step, score=float(step) + 0.01 * rng.standard_normal())
        run.progress(step, config.steps)
    run.save_image("samples.png", (rng.random((28, 56)) * 255).astype(np.uint8))
    run.save_json("final.json", {"loss": 1.0 / config.steps, "data_dir": os.environ.get("ADVLAB_DATA_DIR")})
