"""Small timing helpers shared by the benchmark scripts (no test uses them)."""

from __future__ import annotations

import ctypes
import gc
import glob
import os
import time
import tracemalloc
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


def best_times(fns: dict[str, Callable[[], Any]], repeat: int = 5,
               budget: float = 0.5, clock: Callable[[], float] = time.perf_counter,
               number: int | None = None) -> dict[str, float]:
    """Best-of-``repeat`` seconds per call for each function, rounds interleaved.

    Each round times every function once (``number`` calls sized so that all
    rounds together take about ``budget`` seconds per function), so a change
    in machine speed during the run hits every contender alike and the ratios
    between them stay meaningful.  A function slower than ``budget / repeat``
    per call gets fewer rounds (at least one), so that no function takes much
    more than ``budget`` plus two calls.  ``clock``: ``time.process_time`` counts the
    process's CPU time instead of wall time (steadier on a machine other processes load).
    A fixed ``number`` of calls per round (for calls of microseconds, timed in many short
    rounds on a busy machine) skips the sizing.
    """
    plan: dict[str, tuple[int, int]] = {}
    for name, fn in fns.items():
        if number is not None:
            fn()
            plan[name] = (repeat, number)
            continue
        start = clock()
        fn()  # warm up; when this alone is slow, it also stands in for the probe below
        once = clock() - start
        if once < budget / repeat:
            start = clock()
            fn()
            once = max(clock() - start, 1e-7)
        rounds = max(1, min(repeat, int(budget / once)))
        plan[name] = (rounds, max(1, int(budget / rounds / once)))
    best = dict.fromkeys(fns, float("inf"))
    for r in range(repeat):
        for name, fn in fns.items():
            rounds, calls = plan[name]
            if r >= rounds:
                continue
            start = clock()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (clock() - start) / calls)
    return best


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated during one call of ``fn``, as seen by ``tracemalloc``.

    Counts Python objects and NumPy array buffers (NumPy reports its
    allocations to tracemalloc); memory owned by other allocators (PyTorch,
    XLA) is invisible to it.  The figure is the peak above what was allocated
    when the call started, after one warm-up call.
    """
    fn()  # warm up: lazily built code and caches are not part of the call
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        if started:
            tracemalloc.stop()
    return peak - base


def optional(module: str) -> Any:
    """Import ``module`` or return None when it is not installed."""
    try:
        return __import__(module)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None


def _openblas() -> Any:
    """NumPy's bundled OpenBLAS as a ctypes library, or None."""
    import numpy as np

    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    for path in glob.glob(libs):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _openblas_symbol(action: str) -> Any:
    lib = _openblas()
    if lib is None:
        return None
    for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
        fn = getattr(lib, f"{prefix}_{action}_num_threads{suffix}", None)
        if fn is not None:
            return fn
    return None


def blas_threads() -> int | None:
    """Threads NumPy's BLAS uses (OpenBLAS), or None when it cannot be told."""
    threadpoolctl = optional("threadpoolctl")
    if threadpoolctl is not None:
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas":
                return int(info["num_threads"])
    getter = _openblas_symbol("get")
    return None if getter is None else int(getter())


def set_blas_threads(n: int) -> bool:
    """Make NumPy's OpenBLAS use ``n`` threads; False when that is not possible."""
    setter = _openblas_symbol("set")
    if setter is None:
        return False
    setter(ctypes.c_int(n))
    return blas_threads() == n


def format_time(seconds: float) -> str:
    """``seconds`` in us, ms or s, 10 characters wide."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f}us"
    if seconds < 1.0:
        return f"{seconds * 1e3:8.2f}ms"
    return f"{seconds:9.3f}s"


def print_table(title: str, rows: list[tuple[str, float]], reference: str,
                notes: dict[str, str] | None = None) -> None:
    """Print times and ratios to the row named ``reference`` (and a note per row, if any)."""
    ref = dict(rows)[reference]
    notes = notes or {}
    print(f"\n{title}")
    print(f"  {'':34s} {'time':>12s} {'ratio to ' + reference:>22s}")
    for name, t in rows:
        note = f"   {notes[name]}" if notes.get(name) else ""
        print(f"  {name:34s} {format_time(t):>12s} {t / ref:20.2f}x{note}")
