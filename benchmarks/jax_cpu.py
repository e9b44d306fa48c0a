"""srcgrad's generated gradient under ``jax.jit`` against ``jax.jit(jax.grad(f))``, on the CPU.

The five workloads of ``source_engine.py`` (scalar loop, small and large MLP,
RNN, Gaussian mixture), float64 on both sides (``jax_enable_x64``; pass
``--float32`` for JAX's default precision, again on both sides).  Per
workload:

* ``srcgrad`` is ``jax.jit(srcgrad.grad(loss))`` called on JAX arrays: the
  generated code runs with ``np`` bound to JAX's namespace and is traced once;
* ``JAX`` is ``jax.jit(jax.grad(loss'))``, where ``loss'`` is the very same
  function with its ``np`` global bound to ``jax.numpy``.

Both gradients are checked against the hand-written NumPy gradient first, then
timed in interleaved rounds (best of several), each call waited on with
``block_until_ready``.  The ratio srcgrad / JAX is printed; the target is at
most 1.2x.  ``--cpu-time`` times the process's CPU time instead of wall time:
on a machine that other processes load, the steadier estimate.  Compile times
(trace + XLA compile of the first call) are shown beside them, and ``--hlo
NAME`` prints both optimised XLA programs' op counts for one workload (what to
read when a ratio is off).

    python benchmarks/jax_cpu.py              # full run (about a minute, plus compiles)
    python benchmarks/jax_cpu.py --quick      # tiny budgets: a smoke test
    python benchmarks/jax_cpu.py --only gmm   # one workload (repeatable)
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_times, format_time, optional, print_table  # noqa: E402

TARGET = 1.2


def main(argv: list[str] | None = None) -> None:
    jax = optional("jax")
    if jax is None:
        print("JAX is not installed: pip install 'srcgrad[jax]'")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny timing budgets")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this workload (repeatable)")
    parser.add_argument("--float32", action="store_true",
                        help="JAX's default precision (x64 off) on both sides")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the process's CPU time (steadier on a loaded machine)")
    parser.add_argument("--repeat", type=int, metavar="N", help="rounds (default 9)")
    parser.add_argument("--hlo", metavar="NAME",
                        help="print the op counts of both optimised XLA programs of NAME")
    opts = parser.parse_args(argv)
    budget, repeat = (0.02, 2) if opts.quick else (0.9, opts.repeat or 9)
    clock = time.process_time if opts.cpu_time else time.perf_counter

    import source_engine as se  # (switches x64 on: float64, as its other contenders)

    jax.config.update("jax_enable_x64", not opts.float32)
    import jax.numpy as jnp

    import srcgrad

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"JAX {jax.__version__} on {jax.devices()[0]}; x64 "
          f"{'on (float64)' if not opts.float32 else 'off (float32)'} on both sides; "
          f"{os.cpu_count()} CPUs, load average {load:.2f}; "
          f"{'process CPU time' if opts.cpu_time else 'wall time'}, best of {repeat} rounds")
    ratios: dict[str, float] = {}
    problems: list[str] = []
    for w in se.make_workloads():
        if opts.only and w.name not in opts.only:
            continue
        print(f"\n== {w.name}: {w.title}")
        dtype = jnp.float32 if opts.float32 else jnp.float64
        jargs = tuple(jnp.asarray(a, dtype=dtype if a.dtype.kind == "f" else None)
                      if isinstance(a, np.ndarray) else a for a in w.args)
        ours = jax.jit(srcgrad.grad(w.loss, argnums=w.argnums, engine="source"))
        theirs = jax.jit(jax.grad(se.with_numpy(w.loss, jnp), argnums=w.argnums))
        fns, notes = {}, {}
        expected = tuple(np.asarray(g, dtype=np.float64)
                         for g in se.as_tuple(w.reference(*w.args)))
        for label, fn in (("JAX", theirs), ("srcgrad", ours)):
            start = time.perf_counter()
            try:
                got = jax.block_until_ready(fn(*jargs))
            except Exception as err:  # noqa: BLE001 - reported, not timed
                problems.append(f"{w.name}: {label} raised {se.short_error(err)}")
                continue
            notes[label] = f"trace + compile {format_time(time.perf_counter() - start).strip()}"
            wrong = _wrong(expected, got, opts.float32)
            if wrong is not None:
                problems.append(f"{w.name}: {label} does NOT match the hand-written gradient: "
                                f"{wrong}")
                notes[label] += "; WRONG GRADIENT"
            fns[label] = (lambda fn=fn: jax.block_until_ready(fn(*jargs)))
        if len(fns) < 2:
            continue
        times = best_times(fns, repeat=repeat, budget=budget, clock=clock)
        print_table(f"{w.title}: gradient, seconds per call", list(times.items()), "JAX", notes)
        ratios[w.name] = times["srcgrad"] / times["JAX"]
        if opts.hlo == w.name:
            for label, fn in (("JAX", theirs), ("srcgrad", ours)):
                print(f"\n  {label}: optimised HLO ops  {_op_counts(fn, jargs)}")

    print(f"\n== srcgrad under jax.jit / jax.jit(jax.grad), target <= {TARGET:.1f}x")
    for name, r in ratios.items():
        print(f"  {name:10s} {r:7.2f}x  {'meets' if r <= TARGET else 'MISSES'}")
    for p in problems:
        print(f"  - {p}")


def _wrong(expected: tuple, got: Any, single: bool) -> str | None:
    got = got if isinstance(got, (tuple, list)) else (got,)
    if len(got) != len(expected):
        return f"{len(got)} gradients instead of {len(expected)}"
    rtol = 1e-3 if single else 1e-7
    for k, (e, g) in enumerate(zip(expected, got, strict=True)):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != e.shape or not np.allclose(g, e, rtol=rtol, atol=rtol * np.abs(e).max()):
            return f"gradient {k} differs"
    return None


def _op_counts(fn: Any, args: tuple) -> str:
    """The most frequent instructions of the optimised XLA program of ``fn(*args)``."""
    text = fn.lower(*args).compile().as_text()
    ops = re.findall(r"=\s*\S+\s+([a-z][a-z0-9-]*)\(", text)
    counts = collections.Counter(ops)
    return f"{sum(counts.values())} in all: " + ", ".join(
        f"{op} {n}" for op, n in counts.most_common(12))


if __name__ == "__main__":
    main()
