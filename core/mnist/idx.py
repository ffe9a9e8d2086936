"""The IDX file format of the original MNIST distribution (yann.lecun.com/exdb/mnist), plain or gzip'ed.

Header: two zero bytes, a type code (0x08 = uint8 …), the number of dimensions, then each dimension as a
big-endian int32; then the values, row-major, big-endian. A truncated or corrupt file is a ValueError that says
what is wrong — never a hang, never an array of the wrong shape.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

# IDX type code -> big-endian numpy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
MAX_BYTES = 1 << 31  # no MNIST-like file is this big; a larger header is corruption, not data


def _open(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def read_idx(path: Path | str) -> np.ndarray:
    """The array stored in an IDX file (`.gz` is decompressed); ValueError('path: ...') if truncated or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no such file {path}")
    try:
        with _open(path) as f:
            head = f.read(4)
            if len(head) < 4:
                raise ValueError(f"path: {path.name} is truncated (no IDX header)")
            zero, code, ndim = struct.unpack(">HBB", head)
            if zero != 0 or code not in IDX_DTYPES or not 1 <= ndim <= 4:
                raise ValueError(f"path: {path.name} is not an IDX file (bad magic number {head.hex()})")
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise ValueError(f"path: {path.name} is truncated (incomplete IDX header)")
            shape = struct.unpack(f">{ndim}I", dims_raw)
            dtype = np.dtype(IDX_DTYPES[code])
            expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if expected > MAX_BYTES:
                raise ValueError(f"path: {path.name} has an implausible IDX header (shape {shape})")
            # Read at most one byte more than the header promises: a corrupt header cannot make us read forever.
            data = f.read(expected + 1)
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"path: {path.name} is corrupt or truncated ({type(err).__name__}: {err})") from None
    if len(data) < expected:
        raise ValueError(
            f"path: {path.name} is truncated: header promises {expected} bytes of data, found {len(data)}"
        )
    if len(data) > expected:
        raise ValueError(
            f"path: {path.name} has more data than its header promises (shape {shape}): corrupt file"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: Path | str, array: np.ndarray) -> None:
    """Write an array as an IDX file (gzip'ed if the name ends in .gz)."""
    path = Path(path)
    arr = np.asarray(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"array: dtype {arr.dtype} has no IDX type code")
    if not 1 <= arr.ndim <= 4:
        raise ValueError(f"array: expected 1 to 4 dimensions, got {arr.ndim}")
    header = struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with gzip.open(tmp, "wb", compresslevel=6) if path.name.endswith(".gz") else open(tmp, "wb") as f:
        f.write(payload)
    tmp.replace(path)
