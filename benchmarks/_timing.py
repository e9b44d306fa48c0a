"""Small timing helpers shared by the benchmark scripts (no test uses them)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int = 5, number: int | None = None,
              budget: float = 0.5) -> float:
    """Best-of-``repeat`` seconds per call; ``number`` calls per repeat sized to ``budget``."""
    fn()  # warm up (and compile, for the source engine)
    if number is None:
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        number = max(1, int(budget / repeat / once))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def optional(module: str) -> Any:
    """Import ``module`` or return None when it is not installed."""
    try:
        return __import__(module)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None


def print_table(title: str, rows: list[tuple[str, float]], reference: str) -> None:
    """Print times and ratios to the row named ``reference``."""
    ref = dict(rows)[reference]
    print(f"\n{title}")
    print(f"  {'':34s} {'time':>12s} {'ratio to ' + reference:>22s}")
    for name, t in rows:
        print(f"  {name:34s} {t * 1e6:10.1f}us {t / ref:20.2f}x")
