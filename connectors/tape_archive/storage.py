"""Append-only, bounded-memory writers of ``.npy`` arrays and byte blobs, and their mmap readers."""

from __future__ import annotations

import mmap
import os
import re
from pathlib import Path

import numpy as np

_COPY_ROWS = 1 << 20


class NpyAppender:
    """Write a 1-d ``.npy`` file chunk by chunk without holding it in memory.

    Chunks go to ``<path>.part`` as raw bytes; `close` writes the ``.npy`` header and copies them over,
    optionally re-coding values through ``remap`` (``remap[value]``).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.npy"
    >>> out = NpyAppender(path, np.int64)
    >>> out.append(np.arange(3)); out.append(np.arange(2))
    >>> out.close()
    >>> load_array(path).tolist()
    [0, 1, 2, 0, 1]
    """

    def __init__(self, path: Path, dtype: np.dtype | type):
        self.path = path
        self.dtype = np.dtype(dtype)
        self.count = 0
        self._part = path.with_name(path.name + ".part")
        self._file = open(self._part, "wb")

    def append(self, values: np.ndarray) -> None:
        """Append a chunk of values (converted to the appender's dtype)."""
        chunk = np.ascontiguousarray(values, dtype=self.dtype)
        self._file.write(chunk.tobytes())
        self.count += len(chunk)

    def close(self, remap: np.ndarray | None = None) -> None:
        """Write the final ``.npy`` file and remove the part file."""
        self._file.close()
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.count,),
        }
        with open(self._part, "rb") as source, open(self.path, "wb") as target:
            np.lib.format.write_array_header_1_0(target, header)
            while chunk := source.read(_COPY_ROWS * self.dtype.itemsize):
                values = np.frombuffer(chunk, dtype=self.dtype)
                target.write((values if remap is None else remap[values].astype(self.dtype)).tobytes())
        os.remove(self._part)


_SIMPLE_HEADER = re.compile(
    rb"\{'descr': '([<>|][a-zA-Z]\d+)', 'fortran_order': False, 'shape': \((\d+),\), \}"
)


def load_array(path: Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped read-only (empty arrays are loaded normally).

    The 1-d arrays `NpyAppender` writes are mapped straight from their version 1.0 header (a tape
    opens a dozen per partition, and ``np.load`` parses each header with the Python compiler);
    anything else goes through ``np.load``.
    """
    with open(path, "rb") as f:
        head = f.read(10)
        header = f.read(int.from_bytes(head[8:10], "little")) if head[:8] == b"\x93NUMPY\x01\x00" else b""
        simple = _SIMPLE_HEADER.match(header)
        if simple is not None and int(simple[2]) > 0:
            dtype, count = np.dtype(simple[1].decode()), int(simple[2])
            if os.fstat(f.fileno()).st_size == 10 + len(header) + count * dtype.itemsize:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                return np.frombuffer(data, dtype, count, offset=10 + len(header))
    try:
        return np.load(path, mmap_mode="r").view(np.ndarray)
    except ValueError:  # an empty array cannot be memory-mapped
        return np.load(path)


def load_blob(path: Path) -> mmap.mmap | bytes:
    """A byte blob memory-mapped read-only; slicing it gives ``bytes``."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
