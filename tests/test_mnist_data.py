"""MNIST data: IDX files, the opt-in download that never hangs, and the shipped offline subset."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from core.mnist import data
from core.mnist.data import find_idx_files, load_mnist, to_tensor
from core.mnist.idx import read_idx, write_idx


def write_mnist(folder, n_train=30, n_test=10, gz=True, seed=0, dotted=False):
    """A small fake MNIST in IDX format; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, arr in arrays.items():
        kind = "idx3" if arr.ndim == 3 else "idx1"
        name = f"{stem}.{kind}-ubyte" if dotted else f"{stem}-{kind}-ubyte"
        write_idx(folder / (name + (".gz" if gz else "")), arr)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_reader_round_trips_a_written_file(tmp_path, gz, dtype):
    arr = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(dtype) * 11  # 253 fits in uint8, big-endian matters
    if dtype != np.uint8:
        arr = arr - 100.5 if np.issubdtype(dtype, np.floating) else arr - 1000  # negatives, fractions
    path = tmp_path / ("a.idx" + (".gz" if gz else ""))
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, arr)


def test_idx_header_is_the_original_mnist_format(tmp_path):
    write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx_file_is_a_clear_error(tmp_path, gz):
    images = np.zeros((50, 28, 28), np.uint8)
    raw = tmp_path / "raw"
    write_idx(raw, images)
    payload = raw.read_bytes()[:-100]  # the download stopped early
    path = tmp_path / ("cut" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(payload)[:-30] if gz else payload)
    with pytest.raises(ValueError, match=r"^path: cut(\.gz)? is (corrupt or )?truncated"):
        read_idx(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "truncated"),
        (b"\x00\x00\x08", "truncated"),
        (b"PK\x03\x04 this is a zip file", "not an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00", "incomplete IDX header"),
        (
            b"\x00\x00\x08\x01\xff\xff\xff\xff",
            "implausible",
        ),  # a corrupt header must not make us read forever
        (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), "more data than its header"),
    ],
)
def test_corrupt_idx_file_is_a_clear_error_not_a_wrong_shape(tmp_path, content, message):
    path = tmp_path / "bad-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^path: .*{message}"):
        read_idx(path)


def test_corrupt_gzip_is_a_clear_error(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 10)
    with pytest.raises(ValueError, match="^path: x.gz is corrupt"):
        read_idx(path)


@pytest.mark.parametrize("layout, gz, dotted", [("MNIST/raw", True, False), (".", False, True)])
def test_load_mnist_reads_idx_files_from_the_data_folder(tmp_path, layout, gz, dotted):
    written = write_mnist(tmp_path / layout, gz=gz, dotted=dotted)
    mnist = load_mnist(data_dir=tmp_path)
    assert mnist.source == "idx" and mnist.subset_split is None
    assert "IDX files" in mnist.description and "30 training / 10 test" in mnist.description
    np.testing.assert_array_equal(mnist.x_train, written["train-images"])
    np.testing.assert_array_equal(mnist.y_test, written["t10k-labels"])
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.int64
    assert not mnist.x_train.flags.writeable  # shared through the cache


def test_data_dir_comes_from_the_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "MNIST" / "raw", n_train=12)
    monkeypatch.setenv("ADVLAB_DATA_DIR", str(tmp_path))
    assert len(load_mnist().y_train) == 12


def test_part_of_the_idx_files_is_named_as_missing(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="^data_dir: .*missing t10k-labels-idx1-ubyte"):
        find_idx_files(tmp_path)
    with pytest.raises(ValueError, match="^data_dir:"):
        load_mnist("idx", data_dir=tmp_path)
    fallback = load_mnist("auto", data_dir=tmp_path)  # the app still works, and says why
    assert fallback.source == "subset" and "missing t10k-labels" in fallback.description


def test_truncated_idx_in_the_data_folder_errors_for_idx_and_is_reported_for_auto(tmp_path):
    write_mnist(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="^path: train-images-idx3-ubyte is truncated"):
        load_mnist("idx", data_dir=tmp_path)
    fallback = load_mnist(data_dir=tmp_path)
    assert fallback.source == "subset" and "truncated" in fallback.description


def test_labels_that_do_not_match_the_images_are_rejected(tmp_path):
    write_mnist(tmp_path, gz=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(ValueError, match="30 images but labels of shape"):
        load_mnist("idx", data_dir=tmp_path)


def test_no_idx_files_with_source_idx_says_where_it_looked(tmp_path):
    with pytest.raises(ValueError, match=f"^data_dir: no MNIST IDX files in {tmp_path}"):
        load_mnist("idx", data_dir=tmp_path)


def test_no_network_falls_back_to_the_offline_subset_within_5_s(tmp_path, monkeypatch):
    # TEST-NET-1 (RFC 5737) never answers: the worst case, a silent network, not a quick refusal.
    monkeypatch.setattr(data, "OPENML_PROBE", ("192.0.2.1", 443))
    t0 = time.monotonic()
    mnist = load_mnist(data_dir=tmp_path, download=True)
    assert time.monotonic() - t0 < 5.0
    assert mnist.source == "subset"
    assert "download failed" in mnist.description and "no network" in mnist.description
    with pytest.raises(ValueError, match="^download: no network"):
        load_mnist("openml", data_dir=tmp_path)
    assert not (tmp_path / "MNIST").exists()  # nothing half-written left behind


def test_offline_subset_is_500_real_digits_per_class_split_400_100(tmp_path):
    mnist = load_mnist("subset", data_dir=tmp_path)
    assert mnist.source == "subset" and mnist.split_sizes == (4000, 1000) and mnist.subset_split is mnist
    assert "offline" in mnist.description.lower() and "5,000" in mnist.description
    assert mnist.x_train.shape == (4000, 28, 28) and mnist.x_test.shape == (1000, 28, 28)
    assert mnist.x_train.dtype == np.uint8
    assert np.bincount(mnist.y_train).tolist() == [400] * 10
    assert np.bincount(mnist.y_test).tolist() == [100] * 10
    # Real MNIST: black background, ~13 % mean ink, a bright stroke in every digit, no duplicates across splits.
    assert 0.08 < mnist.x_train.mean() / 255 < 0.2 and (mnist.x_train[:, 0, :] == 0).mean() > 0.99
    assert (mnist.x_test.reshape(1000, -1).max(axis=1) == 255).mean() > 0.9
    train_rows = {r.tobytes() for r in mnist.x_train.reshape(4000, -1)}
    assert not any(r.tobytes() in train_rows for r in mnist.x_test.reshape(1000, -1))
    # The same split every time.
    assert np.array_equal(load_mnist("subset").y_test, mnist.y_test)


def test_to_tensor_gives_floats_in_the_unit_interval():
    x = np.array([[[0, 128], [255, 3]]], dtype=np.uint8)
    t = to_tensor(x)
    assert tuple(t.shape) == (1, 1, 2, 2) and str(t.dtype) == "torch.float32"
    assert (
        t.min().item() == 0.0 and t.max().item() == 1.0 and t[0, 0, 0, 1].item() == pytest.approx(128 / 255)
    )
    assert tuple(to_tensor(x[0]).shape) == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="^x_uint8:"):
        to_tensor(x.astype(np.float32))


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="^source:"):
        load_mnist("kaggle")
