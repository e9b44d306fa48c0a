"""The cost of passing parameters as a pytree: a dict, a list of layers, a namedtuple.

Each row times one gradient call of a small two-layer network (generated code
from the source engine): the parameters as a tree, and the same leaves passed as
plain arguments. The ratio tree / plain is the tree's overhead; the difference in
microseconds is what a call pays for flattening, the structure key and rebuilding
the gradient tree. A plain-argument call of a function never given a tree is timed
too, so that a change to the tree path can be seen not to slow plain arrays.
Rounds of 10 calls are interleaved (best of 300), so the ratios survive a machine whose load
changes during the run.

    python benchmarks/pytree_overhead.py
"""

from __future__ import annotations

import sys
from collections import namedtuple
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_times, format_time, print_table  # noqa: E402

import srcgrad  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 8))
W1, B1 = rng.standard_normal((8, 16)) * 0.3, np.zeros(16)
W2, B2 = rng.standard_normal((16, 4)) * 0.3, np.zeros(4)
Layer = namedtuple("Layer", "W b")
REPEAT, NUMBER = 300, 10     # many short rounds: the best of each survives a busy machine


def plain(W1, b1, W2, b2, x):
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 + b2) ** 2)


def as_dict(p, x):
    h = np.tanh(x @ p["W1"] + p["b1"])
    return np.sum((h @ p["W2"] + p["b2"]) ** 2)


def as_layers(layers, x):
    (W1, b1), (W2, b2) = layers
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 + b2) ** 2)


def as_namedtuples(p, x):
    h = np.tanh(x @ p[0].W + p[0].b)
    return np.sum((h @ p[1].W + p[1].b) ** 2)


def main() -> None:
    g_plain = srcgrad.grad(plain, argnums=(0, 1, 2, 3), engine="source")
    g_dict = srcgrad.grad(as_dict, engine="source")
    g_layers = srcgrad.grad(as_layers, engine="source")
    g_named = srcgrad.grad(as_namedtuples, engine="source")
    d = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
    layers = [(W1, B1), (W2, B2)]
    named = (Layer(W1, B1), Layer(W2, B2))
    fns = {
        "plain arguments (4 arrays)": lambda: g_plain(W1, B1, W2, B2, X),
        "dict of 4 arrays": lambda: g_dict(d, X),
        "list of (W, b) tuples": lambda: g_layers(layers, X),
        "tuple of namedtuples": lambda: g_named(named, X),
    }
    times = best_times(fns, repeat=REPEAT, number=NUMBER)
    rows = list(times.items())
    base = times["plain arguments (4 arrays)"]
    notes = {name: f"+{format_time(t - base)} per call" for name, t in rows if t != base}
    print_table("gradient of a 2-layer network (batch 16, 8 -> 16 -> 4), source engine",
                rows, "plain arguments (4 arrays)", notes)


if __name__ == "__main__":
    main()
