import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Two cores here: keep torch from oversubscribing when tests run in parallel workers.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """One MNIST-classifier cache per test session, shared by the xdist workers (a lock file trains it once)."""
    if os.environ.get("ADVLAB_TEST_CACHE_DIR"):  # reuse a warm cache between local sessions
        return Path(os.environ["ADVLAB_TEST_CACHE_DIR"])
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / "advlab_cache"
    path.mkdir(exist_ok=True)
    return path
