"""paused_gc: hold CPython's cyclic garbage collector while a bulk step builds many live objects.

Loading, checking, building and rendering a large fabric allocate millions of objects that all stay
alive (models, dicts, strings) and form no garbage cycles. With the collector on, young collections
re-walk them again and again as they age, and every full collection walks everything built so far.
Reference counting still frees everything as usual; only cycle detection waits until the step ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its previous state after (nesting is safe).

    On the way out, whatever the block left alive is moved straight to the oldest generation
    (``gc.freeze`` then ``gc.unfreeze``, two constant-time list moves): otherwise the first young
    collection afterwards would walk every object the block built (0.7 s after building the intent of
    10,000 devices), only to find them alive. Cycles among them are still found by full collections.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
