"""Keep private memory flat through long evaluation passes: give the heap's freed pages back to the system.

Why: an evaluation pass runs thousands of forwards over length-sorted batches, each a little longer than the
last, so every batch asks the C allocator for slightly larger buffers than the ones it just freed. glibc's
malloc serves them by growing its heap and keeps the freed blocks, whose pages it returns only from the top
of the heap. Measured at 10k clips, batch 32, tiny model (``benchmarks/measure_scale.py --phases train20
--batch-size 32``): ``RssAnon`` grew by about 7 MB a batch, 0.5 GB to 1.4 GB over the validation and test
passes (the issue measured 3.4-4.0 GB at 100k clips), all of it freed memory: one ``malloc_trim(0)`` brought
it back to 0.5 GB.
The model, the outputs and the gathered logits are unchanged (the same bytes), only when freed pages go back.

``HeapTrimmer`` is called after every batch: when ``RssAnon`` has grown more than ``slack_mb`` above what it
was after the last trim, it calls glibc's ``malloc_trim(0)`` (which releases every whole free page of the
heap, not just its top). Memory then stays within the live data plus ``slack_mb`` plus one batch's
activations, whatever the number of clips; a trim took 20-60 ms on the loaded 2-core machine and happened
about every 5 batches in the measurement above (docs/performance.md, "Evaluation memory and header reads").
Off glibc (musl, macOS) or without ``/proc`` it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

SLACK_MB = 128


def status_kb(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``RssAnon``, ``VmHWM``, ...); 0 where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


class HeapTrimmer:
    """Call after every batch of a pass; trims the heap when ``RssAnon`` grew by more than ``slack_mb``.

    Constructing one trims once, so a pass starts from the memory it really holds (not from what an earlier
    pass or training step left free in the heap). ``trims`` counts the trims made.
    """

    def __init__(self, slack_mb: int = SLACK_MB):
        self.slack_kb = int(slack_mb) * 1024
        self.trims = 0
        self.enabled = _malloc_trim() is not None and status_kb("RssAnon") > 0
        self.ceiling_kb = self.release()

    def release(self) -> int:
        """Give the heap's free pages back now; returns the new ceiling (``RssAnon`` after it + slack)."""
        if not self.enabled:
            return 0
        _malloc_trim()(0)
        self.trims += 1
        self.ceiling_kb = status_kb("RssAnon") + self.slack_kb
        return self.ceiling_kb

    def __call__(self) -> None:
        if self.enabled and status_kb("RssAnon") > self.ceiling_kb:
            self.release()
