"""Keep freed memory in the process for reuse while a backtest runs (glibc only).

A backtest allocates and frees column buffers of a few megabytes for every batch. By default glibc
serves each with a fresh ``mmap`` and unmaps it when freed, so the next batch page-faults the same
amount of memory back in — about 3 µs per 4 KiB page on a virtual machine, a fifth of a 1M-bar
backtest. Raising the thresholds below which glibc allocates from its heap, and above which it
trims the heap, keeps those buffers for reuse. The process keeps up to ``TRIM_BYTES`` of freed
memory afterwards instead of returning it to the system.

NumPy also asks the kernel for transparent huge pages for every buffer of 4 MiB or more. Where the
kernel compacts memory to find one when such a buffer is first touched (``defrag`` set to
``madvise``, as on the virtual machines this was measured on), a huge-page fault costs more than the
512 small-page faults it replaces, and the buffers are reused anyway: a fresh process's 1M-bar
backtest took 127 ms with NumPy's request and 116 ms without (bench/RESULTS.md). The request is
turned off too.

Examples
--------
>>> keep_freed_memory() in (True, False)  # False where the C library is not glibc
True
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

#: Allocations up to this size come from the heap (glibc's own ceiling for the setting).
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
#: Freed memory at the top of the heap is returned to the system beyond this much.
TRIM_BYTES = 256 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds and turn NumPy's huge-page requests off, once per process;
    False where the thresholds cannot be set."""
    (np._core if hasattr(np, "_core") else np.core).multiarray._set_madvise_hugepage(False)  # NumPy 2, 1
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES)
        )
    except (OSError, AttributeError):
        return False


@contextmanager
def old_objects_frozen() -> Iterator[None]:
    """Leave the objects that exist when the block starts out of the garbage collector's full
    collections until it ends (``gc.freeze``, then ``gc.unfreeze``: nothing is lost, they are
    collectable again afterwards).

    A full collection traverses every tracked object, and most of them are the interpreter's and its
    libraries' (modules, functions, pandas and NumPy internals), not garbage the block makes. A
    backtest on the per-event engine makes many short-lived dicts and so triggers several full
    collections: 1M bars of 10 instruments spent 440 ms in them, 60–80 ms with this (run 6.5 → 6.05 s).

    >>> with old_objects_frozen():
    ...     gc.get_freeze_count() > 0
    True
    >>> gc.get_freeze_count()
    0
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
