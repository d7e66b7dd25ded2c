"""`paused_gc`: run an allocation-heavy stage with Python's cyclic garbage collector paused.

Why: parsing a snapshot and resolving, assembling and pricing it allocate hundreds of thousands of
small objects (JSON values, quotes, levels) that form no reference cycles. Each allocation burst makes
the cyclic collector run, and every full collection walks *all* live objects: measured on a
5,000-game snapshot the collector took ~40 % of `scan --snapshot`'s CPU time (benchmarks/bench_scan.py).
Reference counting still frees everything as usual; only cycle detection waits until the stage ends.

On resuming, what the stage made and kept goes straight to the oldest generation (`gc.freeze()` then
`gc.unfreeze()`: two list splices, no traversal). Otherwise the first young collection after the pause
walks every object the stage allocated — 0.15 s of CPU after a 5,000-game scan, to find no garbage. A
cycle that became garbage during the stage is still collected, by the next full collection instead of
the next young one. When something else keeps objects frozen (`gc.get_freeze_count()`, e.g. before a
fork), the collector is simply resumed, so their freeze is never undone.

Re-entrant and never leaves the collector off: it is re-enabled on exit (also on an exception) by the
caller that turned it off, and left alone when it was already off (nested stages, or a caller that
manages it). It is process-wide, so a concurrent thread may see it paused for the stage's duration:
it only delays cycle collection, never correctness.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                gc.freeze()  # the stage's survivors (and everything older) → the permanent generation,
                gc.unfreeze()  # → back into the oldest: no young collection walks them
            gc.enable()


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of `paused_gc`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_gc():
            return fn(*args, **kwargs)

    return wrapper
