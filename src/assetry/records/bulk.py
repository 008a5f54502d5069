"""Building many plain records at once (a listing's rows, a DataFrame's columns)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block (as it was before, after).

    Reading a large result makes hundreds of thousands of tuples and dicts, and each
    batch of them sets off collections that walk every object the process holds (pandas,
    SQLAlchemy, the model): a third of the time of a 100,000-row DataFrame. Rows make no
    reference cycles, so nothing is left for the collector meanwhile."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
