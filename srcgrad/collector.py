"""Work that runs with Python's cyclic garbage collector paused."""

from __future__ import annotations

import gc


class paused:  # noqa: N801  (used as a context manager, named like one)
    """``with paused():`` runs its body with the cyclic garbage collector off.

    For work that makes many short-lived objects and no reference cycles (a
    transform, a backward pass): reference counting frees them, and a collection
    in between would only walk them, and the whole heap behind them, for nothing.
    Nested uses and a collector the user turned off are left alone; the
    collector is on again when the outermost use ends, as it was before.
    """

    __slots__ = ("resume",)

    def __enter__(self) -> None:
        self.resume = gc.isenabled()
        if self.resume:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.resume:
            gc.enable()
