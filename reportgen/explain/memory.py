"""Handing memory that finished batches freed back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from functools import lru_cache


class HeapTrimmer:
    """Hands memory freed by finished batches back to the system, at most once every ``interval`` seconds.

    Activations of different sizes, freed batch after batch between long-lived Python objects,
    fragment glibc's heap: left alone, the peak resident size creeps up with the length of a run
    while the memory in use does not (benchmarks/memory.txt).
    Each trim costs page faults in the next batch, so trimming after every batch made runs of
    cheap methods noticeably slower; the interval bounds that cost to a few per cent.
    A no-op where glibc's malloc_trim is missing.
    """

    def __init__(self, interval: float = 5.0):
        self.interval = interval
        self.last = time.monotonic()

    def after_batch(self) -> bool:
        """Trim if the interval has passed; True if it trimmed."""
        trim = malloc_trim()
        if trim is None or time.monotonic() - self.last < self.interval:
            return False
        trim(0)
        self.last = time.monotonic()
        return True


@lru_cache(maxsize=1)
def malloc_trim():
    """glibc's malloc_trim, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
