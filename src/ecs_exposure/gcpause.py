"""Pause Python's cyclic garbage collector during a scan.

A scan builds millions of small objects (one per environment entry) and none of them form
reference cycles. With the collector running, each generation-2 pass walks the whole growing
inventory: measured on 10,000 services, parsing took 6.6 s with it and 2.9 s without. Memory is
still freed by reference counting; only cycle detection waits until the scan is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
