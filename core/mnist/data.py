"""Where the MNIST digits come from — and the app always says which source is in use.

1. IDX files in a data folder (`data_dir`, else $ADVLAB_DATA_DIR, else <repo>/data): the original
   `train-images-idx3-ubyte[.gz]` … files, directly in the folder or in the common `MNIST/raw/` layout.
2. An opt-in download of the full 70,000 digits through scikit-learn's `fetch_openml`, saved as IDX files into
   that folder (so the next start finds them). Without a network it gives up within a few seconds.
3. Otherwise the offline subset shipped in assets/: 5,000 real MNIST digits, 500 per class, split once into
   4,000 training / 1,000 test digits (400 / 100 per class). See assets/MNIST_SUBSET.md for its provenance.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.mnist.idx import read_idx
from core.validate import check_choice

ROOT = Path(__file__).resolve().parents[2]
SUBSET_FILE = ROOT / "assets" / "mnist_5k.npz"
SOURCES = ("auto", "idx", "openml", "subset")

OPENML_PROBE = ("api.openml.org", 443)  # reachable within NETWORK_TIMEOUT_S, or we do not even try
NETWORK_TIMEOUT_S = 3.0
DOWNLOAD_TIMEOUT_S = 600.0  # the whole download (about 20 MB), once the server answered

# (kind, split) -> accepted file names, without the optional '.gz'
IDX_NAMES = {
    ("images", "train"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("labels", "train"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("images", "test"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("labels", "test"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
IDX_FOLDERS = (".", "MNIST/raw", "mnist/raw", "raw", "MNIST", "mnist")


@dataclass(frozen=True)
class MnistData:
    """Digits as uint8 images [N, 28, 28] (0 = black background, 255 = ink) and int64 labels [N]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # "idx", "openml" or "subset"
    description: str  # one sentence for the UI: which data, from where, how many digits

    @property
    def subset_split(self) -> MnistData | None:
        """For the offline subset: this data, which already is its fixed split — 4,000 train / 1,000 test digits
        (400 / 100 per class, drawn once with a seed and stored in assets/mnist_5k.npz). None for full MNIST."""
        return self if self.source == "subset" else None

    @property
    def split_sizes(self) -> tuple[int, int]:
        """(number of training digits, number of test digits)."""
        return len(self.y_train), len(self.y_test)

    @property
    def label(self) -> str:
        """A short badge, e.g. 'offline subset · 4,000 train / 1,000 test'."""
        name = {"idx": "MNIST (IDX files)", "openml": "MNIST (downloaded)", "subset": "offline MNIST subset"}
        return (
            f"{name.get(self.source, self.source)} · {len(self.y_train):,} train / {len(self.y_test):,} test"
        )


def default_data_dir() -> Path:
    """$ADVLAB_DATA_DIR, or <repo>/data."""
    env = os.environ.get("ADVLAB_DATA_DIR")
    return Path(env).expanduser().resolve() if env else ROOT / "data"


def find_idx_files(data_dir: Path | str) -> dict[tuple[str, str], Path] | None:
    """The four MNIST IDX files in data_dir (or its MNIST/raw/ …); None if there are none.

    A folder with some but not all four files is a ValueError naming the missing ones.
    """
    base = Path(data_dir)
    for sub in IDX_FOLDERS:
        folder = base / sub
        if not folder.is_dir():
            continue
        found: dict[tuple[str, str], Path] = {}
        for key, names in IDX_NAMES.items():
            for name in names:
                for candidate in (folder / name, folder / f"{name}.gz"):
                    if key not in found and candidate.is_file():
                        found[key] = candidate
        if len(found) == len(IDX_NAMES):
            return found
        if found:
            missing = [IDX_NAMES[k][0] for k in IDX_NAMES if k not in found]
            raise ValueError(
                f"data_dir: {folder} holds only part of MNIST; missing {', '.join(missing)}[.gz]"
            )
    return None


def _check_split(images: np.ndarray, labels: np.ndarray, what: str) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"data_dir: {what} images must be uint8 [N, 28, 28], got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"data_dir: {what} has {len(images)} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"data_dir: {what} labels must be digits 0-9, found {labels.min()}..{labels.max()}")


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # shared by every session through the cache: nobody may change it in place
    return a


@functools.lru_cache(maxsize=2)
def _load_idx(files: tuple[tuple[str, str, int, int], ...]) -> tuple[np.ndarray, ...]:
    """Read the four files (the key holds their mtimes and sizes, so a new download is read again)."""
    arrays = {(kind, split): read_idx(path) for kind, split, path, _mtime, _size in files}
    out = []
    for split in ("train", "test"):
        images, labels = arrays[("images", split)], arrays[("labels", split)]
        _check_split(images, labels, f"the {split} split")
        out += [_read_only(np.ascontiguousarray(images)), _read_only(labels.astype(np.int64))]
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _load_subset() -> tuple[np.ndarray, ...]:
    try:
        with np.load(SUBSET_FILE) as z:
            x, y, is_test = z["x"], z["y"].astype(np.int64), z["is_test"].astype(bool)
    except (OSError, KeyError, ValueError) as err:
        raise ValueError(f"source: the offline subset {SUBSET_FILE} cannot be read ({err})") from None
    return tuple(_read_only(a) for a in (x[~is_test], y[~is_test], x[is_test], y[is_test]))


def network_available(address: tuple[str, int] = OPENML_PROBE, timeout: float = NETWORK_TIMEOUT_S) -> bool:
    """Can we open a TCP connection to `address` within `timeout` s? (DNS included: a thread bounds it.)"""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(address, timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)  # getaddrinfo has no timeout of its own
    return bool(result and result[0])


_DOWNLOAD_SCRIPT = """
import socket, sys
import numpy as np
socket.setdefaulttimeout(30)
from sklearn.datasets import fetch_openml
from core.mnist.idx import write_idx
target = sys.argv[1]
x, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False, parser="liac-arff",
                    data_home=target + "/openml_cache", n_retries=2, delay=1.0)
x = np.asarray(x).reshape(-1, 28, 28).astype(np.uint8)
y = np.asarray(y).astype(np.int64).astype(np.uint8)
assert x.shape == (70000, 28, 28) and y.shape == (70000,), (x.shape, y.shape)
# OpenML's mnist_784 keeps the original order: the first 60,000 are the training set.
write_idx(target + "/MNIST/raw/train-images-idx3-ubyte.gz", x[:60000])
write_idx(target + "/MNIST/raw/train-labels-idx1-ubyte.gz", y[:60000])
write_idx(target + "/MNIST/raw/t10k-images-idx3-ubyte.gz", x[60000:])
write_idx(target + "/MNIST/raw/t10k-labels-idx1-ubyte.gz", y[60000:])
"""


def download_mnist(data_dir: Path | str | None = None) -> Path:
    """Fetch the full MNIST through scikit-learn's fetch_openml and save it as IDX files in data_dir/MNIST/raw.

    Runs in a child process with a deadline, so a stalled connection can never hang the app. No network:
    a ValueError('download: ...') within a few seconds.
    """
    target = Path(data_dir) if data_dir is not None else default_data_dir()
    host, port = OPENML_PROBE
    if not network_available():
        raise ValueError(
            f"download: no network — {host}:{port} cannot be reached within {NETWORK_TIMEOUT_S:g} s"
        )
    target.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(
            [sys.executable, "-c", _DOWNLOAD_SCRIPT, str(target.resolve())],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise ValueError(f"download: MNIST did not arrive within {DOWNLOAD_TIMEOUT_S:g} s") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise ValueError(f"download: fetch_openml failed — {last}")
    return target / "MNIST" / "raw"


def load_mnist(source: str = "auto", data_dir: Path | str | None = None, download: bool = False) -> MnistData:
    """MNIST from IDX files, an opt-in download, or the offline subset (source='auto' tries them in that order).

    source='idx' / 'openml' / 'subset' insist on one source (a missing or broken one is a ValueError); 'auto'
    falls back to the subset and says why in `description`.
    """
    check_choice("source", source, SOURCES)
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    notes: list[str] = []
    origin = "idx"

    files = None
    if source in ("auto", "idx"):
        try:
            files = find_idx_files(folder)
        except ValueError as err:
            if source == "idx":
                raise
            notes.append(str(err).removeprefix("data_dir: "))
    if source == "openml" or (source == "auto" and files is None and download):
        try:
            download_mnist(folder)
            files, origin = find_idx_files(folder), "openml"
        except ValueError as err:
            if source == "openml":
                raise
            notes.append(f"the download failed ({str(err).removeprefix('download: ')})")
    if source == "idx" and files is None:
        raise ValueError(
            f"data_dir: no MNIST IDX files in {folder} (expected train-images-idx3-ubyte[.gz] and its three "
            "siblings, directly or under MNIST/raw/)"
        )

    if files is not None:
        key = tuple(
            (k, s, str(p), p.stat().st_mtime_ns, p.stat().st_size) for (k, s), p in sorted(files.items())
        )
        try:
            x_train, y_train, x_test, y_test = _load_idx(key)
        except ValueError as err:
            if source != "auto":
                raise
            notes.append(
                f"the IDX files are unusable: {str(err).removeprefix('path: ').removeprefix('data_dir: ')}"
            )
        else:
            where = files[("images", "train")].parent
            how = "downloaded through fetch_openml into" if origin == "openml" else "from IDX files in"
            text = f"MNIST {how} {where}: {len(y_train):,} training / {len(y_test):,} test digits."
            return MnistData(x_train, y_train, x_test, y_test, origin, text)

    x_train, y_train, x_test, y_test = _load_subset()
    text = (
        "Offline MNIST subset shipped with the app (assets/mnist_5k.npz): 5,000 real MNIST digits, 500 per class, "
        f"split into {len(y_train):,} training / {len(y_test):,} test digits."
    )
    if notes:
        text += " Using it because " + "; ".join(notes) + "."
    else:
        text += f" For all 70,000 digits put the IDX files in {folder} or opt in to the download."
    return MnistData(x_train, y_train, x_test, y_test, "subset", text)


def to_tensor(x_uint8: np.ndarray):
    """uint8 images [N, 28, 28] (or one [28, 28]) -> float32 torch tensor [N, 1, 28, 28] in [0, 1]."""
    import torch

    x = np.asarray(x_uint8)
    if x.dtype != np.uint8:
        raise ValueError(f"x_uint8: expected uint8 pixels 0-255, got dtype {x.dtype}")
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"x_uint8: expected shape [N, H, W] or [H, W], got {x.shape}")
    return torch.from_numpy(np.array(x, dtype=np.float32, copy=True)).div_(255.0).unsqueeze(1)
