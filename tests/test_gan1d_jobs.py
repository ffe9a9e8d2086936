"""The 1D lab's shared trainings: one per settings for the whole server, in the background, a few at a time."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.gan1d import Gan1DConfig, train_critics
from core.gan1d.jobs import DONE, FAILED, QUEUED, RUNNING, Gan1DJobs

TINY = dict(steps=6, snapshots=3, batch=16, hidden=8, critics=("perfect", "gradient_penalty"))


class GatedTrainer:
    """A stand-in trainer that counts its calls and holds each training until the test opens its gate."""

    def __init__(self) -> None:
        self.calls: list[Gan1DConfig] = []
        self.gates: dict[int, threading.Event] = {}
        self.entered = threading.Semaphore(0)

    def __call__(self, config, progress=None, on_snapshot=None):
        self.calls.append(config)
        self.entered.release()
        self.gates.setdefault(config.seed, threading.Event()).wait(10)
        if config.seed == 13:
            raise RuntimeError("the critic diverged")
        progress(config.steps, config.steps)
        return f"result of seed {config.seed}"

    def open(self, seed: int) -> None:
        self.gates.setdefault(seed, threading.Event()).set()


def test_visitors_with_the_same_settings_share_one_training():
    trainer = GatedTrainer()
    jobs = Gan1DJobs(train=trainer)
    cfg = Gan1DConfig(seed=1, **TINY)
    first = jobs.submit(cfg)
    assert trainer.entered.acquire(timeout=5)
    second = jobs.submit(Gan1DConfig(seed=1, **TINY))  # an equal config from another session
    assert second is first and first.state == RUNNING
    trainer.open(1)
    assert first.finished.wait(5)
    assert first.state == DONE and first.result == "result of seed 1" and first.step == cfg.steps
    assert jobs.submit(cfg) is first  # finished: served as it is
    assert len(trainer.calls) == 1


def test_at_most_max_running_train_at_once_and_the_rest_wait_their_turn():
    trainer = GatedTrainer()
    jobs = Gan1DJobs(max_running=1, train=trainer)
    a, b = jobs.submit(Gan1DConfig(seed=1, **TINY)), jobs.submit(Gan1DConfig(seed=2, **TINY))
    assert trainer.entered.acquire(timeout=5)
    assert not trainer.entered.acquire(timeout=0.3)  # the second has not started
    assert (a.state, b.state) == (RUNNING, QUEUED)
    trainer.open(1)
    assert trainer.entered.acquire(timeout=5)
    assert a.state == DONE and b.state == RUNNING
    trainer.open(2)
    assert b.finished.wait(5) and b.result == "result of seed 2"


def test_a_failed_training_says_why_and_is_started_afresh_when_asked_again():
    trainer = GatedTrainer()
    jobs = Gan1DJobs(train=trainer)
    cfg = Gan1DConfig(seed=13, **TINY)
    trainer.open(13)
    job = jobs.submit(cfg)
    assert job.finished.wait(5)
    assert job.state == FAILED and job.error == "RuntimeError: the critic diverged" and job.result is None
    again = jobs.submit(cfg)
    assert again is not job and again.finished.wait(5) and len(trainer.calls) == 2


def test_only_the_last_finished_trainings_are_remembered():
    trainer = GatedTrainer()
    jobs = Gan1DJobs(keep=2, train=trainer)
    for seed in (1, 2, 3):
        trainer.open(seed)
        assert jobs.submit(Gan1DConfig(seed=seed, **TINY)).finished.wait(5)
    assert jobs.get(Gan1DConfig(seed=1, **TINY)) is None
    assert jobs.get(Gan1DConfig(seed=3, **TINY)).state == DONE


def test_a_background_training_gives_the_same_numbers_as_a_direct_one_and_shows_its_snapshots():
    cfg = Gan1DConfig(seed=4, **TINY)
    job = Gan1DJobs().submit(cfg)
    assert job.finished.wait(60) and job.error is None
    direct = train_critics(cfg)
    np.testing.assert_array_equal(job.result.jsd, direct.jsd)
    np.testing.assert_array_equal(job.result.w1, direct.w1)
    assert job.partial is not None and len(job.partial.steps) == len(direct.steps)  # the last snapshot seen


def test_jobs_reject_what_is_not_a_config_and_bad_limits():
    with pytest.raises(ValueError, match="config"):
        Gan1DJobs().submit({"steps": 10})
    with pytest.raises(ValueError, match="max_running"):
        Gan1DJobs(max_running=0)
