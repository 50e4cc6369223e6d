"""Garbage-collector settings for the worker process.

A cold refresh decodes ~50 controller replies of ~20 000 objects each within a few hundred
milliseconds. With CPython's default thresholds (700, 10, 10) each reply's objects, alive
while the reply is turned into cache records, are promoted into the oldest generation, and
the "25 % new long-lived objects" rule then starts a full collection every few replies:
each one walks every object of the process (the imported libraries included). Measured on
the 50-controller bench that was 25-55 ms per full collection and ~100-150 ms per refresh.

So, once the application is built: ``gc.freeze()`` moves everything that exists then
(modules, the app, configuration; all of it lives as long as the process) out of the
collector's sight, and a larger first threshold lets a reply's objects die by reference
counting before a young collection sees them. Cyclic garbage is still collected; it just
waits for more allocations first.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune() -> None:
    """Call once per worker, after the application is built and before it serves."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
