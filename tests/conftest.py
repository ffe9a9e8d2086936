import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Two cores here: keep torch from oversubscribing when tests run in parallel workers.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
