"""Time of the first source transform of 50-line functions (a one-time cost per function).

Writes generated functions to files (the source engine reads a function's
source), imports a fresh copy for every repeat (transforms are cached per code
object) and times ``srcgrad.grad(f, argnums=(0, 1), engine="source")``.  A
throw-away transform first keeps the compiler's import time out of it.

Workloads:

- ``chain50``: 50 lines, 47 of them ``a{i} = np.<fn>(a{i-1} * 0.5) + w * a{i-1}``;
- ``list50``: 50 lines of 12 ``for k in range(3)`` loops that read and append
  to a list and accumulate a sum;
- ``scalar50``: ``chain50`` returning ``a47`` itself: every value of a call with
  scalar arguments is a scalar, so the transform also builds the scalar variant
  (a second sweep, optimization and printing of the same function).

Prints the best and the median wall time of the repeats and the best process CPU
time (less moved by other processes on a loaded machine), in milliseconds, and
that CPU time as a ratio to the 50 ms target for a first transform.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import srcgrad

FUNCTIONS = ("tanh", "exp", "sin", "cos")
TARGET_MS = 50.0        # the first transform of a 50-line function


def chain50() -> str:
    lines = ["import numpy as np", "", "", "def f(x, w):", "    a0 = np.tanh(x * w)"]
    for i in range(1, 48):
        lines.append(f"    a{i} = np.{FUNCTIONS[i % 4]}(a{i - 1} * 0.5) + w * a{i - 1}")
    lines.append("    return np.sum(a47)")
    return "\n".join(lines) + "\n"


def list50() -> str:
    lines = ["import numpy as np", "", "", "def f(x, w):", "    hs = [x]", "    acc = 0.0"]
    for i in range(12):
        lines += ["    for k in range(3):",
                  f"        h = np.{FUNCTIONS[i % 4]}(hs[-1] * 0.5) + w * hs[k % len(hs)]",
                  "        hs.append(h)",
                  f"    acc = acc + np.sum(hs[-1] * hs[{i}])"]
    lines.append("    return acc + np.sum(hs[-1])")
    return "\n".join(lines) + "\n"


def scalar50() -> str:
    return chain50().replace("return np.sum(a47)", "return a47")


WORKLOADS = {"chain50": chain50, "list50": list50, "scalar50": scalar50}


def load(path: Path, name: str):
    """A fresh import of ``path``'s ``f`` (new code object: no transform cache hit)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm_up.py"
        warm.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(np.sin(x) * x)\n")
        srcgrad.grad(load(warm, "warm_up"), engine="source")
        for name in opts.only or list(WORKLOADS):
            path = Path(tmp) / f"{name}.py"
            path.write_text(WORKLOADS[name]())
            times, cpu = [], []
            for r in range(opts.repeat):
                f = load(path, f"{name}_{r}")
                start, start_cpu = time.perf_counter(), time.process_time()
                srcgrad.grad(f, argnums=(0, 1), engine="source")
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            print(f"{name:8s} first transform: best {min(times) * 1e3:7.1f} ms, "
                  f"median {statistics.median(times) * 1e3:7.1f} ms wall; best "
                  f"{min(cpu) * 1e3:7.1f} ms CPU ({opts.repeat} functions); "
                  f"{min(cpu) * 1e3 / TARGET_MS:.2f}x the {TARGET_MS:.0f} ms target")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
