"""1D GAN trainings shared by every visitor of one server: one per settings, in background threads.

A class opens the page at once. The first visitor's settings start one training; every other visitor with the
same settings watches that training's snapshots as they arrive instead of starting another, and a reload or a
click on the page does not stop it: the training belongs to the server, not to the page run that asked for it.
At most `max_running` trainings run at a time (the others wait their turn); the last `keep` are remembered, so
the second student to ask for a picture gets it at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.gan1d.config import Gan1DConfig
from core.gan1d.trainer import Gan1DResult, train_critics
from core.validate import check_int

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass
class Job:
    """One training: its settings, the snapshots so far, and how it ended."""

    config: Gan1DConfig
    partial: Gan1DResult | None = None  # the snapshots so far (the page animates them while it trains)
    result: Gan1DResult | None = None
    error: str | None = None
    step: int = 0  # generator steps done, as of the last snapshot
    started: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def state(self) -> str:
        if self.finished.is_set():
            return FAILED if self.error is not None else DONE
        return QUEUED if self.started is None else RUNNING


class Gan1DJobs:
    """The server's trainings of the 1D lab, keyed by their (frozen, hashable) settings; thread-safe."""

    def __init__(
        self, max_running: int = 2, keep: int = 12, train: Callable[..., Gan1DResult] | None = None
    ) -> None:
        self.max_running = check_int("max_running", max_running, minimum=1)
        self.keep = check_int("keep", keep, minimum=1)
        self._train = train  # None: core.gan1d's trainer, looked up when a training starts
        self._slots = threading.BoundedSemaphore(self.max_running)
        self._lock = threading.Lock()
        self._jobs: OrderedDict[Gan1DConfig, Job] = OrderedDict()

    def get(self, config: Gan1DConfig) -> Job | None:
        """The training of these settings (queued, running or finished), or None if nobody asked for it."""
        with self._lock:
            return self._jobs.get(config)

    def submit(self, config: Gan1DConfig) -> Job:
        """The training of these settings: the one already there, or a new one started in the background.

        A failed training is started afresh; a queued, running or finished one is shared as it is.
        """
        if not isinstance(config, Gan1DConfig):
            raise ValueError(f"config: expected a Gan1DConfig, got {type(config).__name__}")
        with self._lock:
            job = self._jobs.get(config)
            if job is not None and job.state != FAILED:
                self._jobs.move_to_end(config)
                return job
            job = Job(config)
            self._jobs[config] = job
            self._forget_old()
        threading.Thread(target=self._run, args=(job,), name="gan1d-training", daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        with self._slots:
            job.started = time.time()

            def progress(step: int, total: int) -> None:
                job.step = step

            def on_snapshot(partial: Gan1DResult) -> None:
                job.partial = partial

            try:
                train = self._train or train_critics
                job.result = train(job.config, progress=progress, on_snapshot=on_snapshot)
                job.step = job.config.steps
            except Exception as exc:  # noqa: BLE001 - every visitor watching it is told why
                job.error = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            finally:
                job.finished.set()

    def _forget_old(self) -> None:
        """Drop the oldest finished trainings beyond `keep` (never one that is queued or running)."""
        finished = [cfg for cfg, job in self._jobs.items() if job.finished.is_set()]
        for cfg in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[cfg]
