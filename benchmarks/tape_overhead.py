"""Tensor-mode overhead: a small MLP training step and a 1,000-step scalar loop.

Prints, from one run, srcgrad's Tensor mode against PyTorch eager (CPU) and
HIPS autograd when they are installed.  Targets: the MLP step no slower than
PyTorch eager; the scalar loop within 1.5x of PyTorch eager; both at least 3x
faster than HIPS autograd.  Contenders are timed in interleaved rounds (best of
9), so that the ratios survive a machine whose load changes during the run.

    python benchmarks/tape_overhead.py
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_times, optional, print_table  # noqa: E402

import srcgrad  # noqa: E402

STEPS = 1000
rng = np.random.default_rng(0)
X = rng.standard_normal((16, 8))
LABELS = rng.integers(0, 4, 16)
W1, B1 = rng.standard_normal((8, 16)) * 0.3, np.zeros(16)
W2, B2 = rng.standard_normal((16, 4)) * 0.3, np.zeros(4)


# --- scalar loop: y = sin(y) * 0.9 + 0.1 * x; s = s + y * y ---------------------------

def scalar_loop(lib, sin):
    x = lib.tensor(0.5, requires_grad=True)
    y = x
    s = lib.tensor(0.0)
    for _ in range(STEPS):
        y = sin(y) * 0.9 + 0.1 * x
        s = s + y * y
    s.backward()
    return x.grad


def scalar_loop_autograd(ag, anp):
    def f(x):
        y = x
        s = 0.0
        for _ in range(STEPS):
            y = anp.sin(y) * 0.9 + 0.1 * x
            s = s + y * y
        return s
    return ag.grad(f)(0.5)


# --- MLP step: batch 16, 8 -> 16 -> 4, tanh, softmax cross-entropy ------------------

def mlp_step(lib, params, x, rows, labels, log_softmax):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).tanh()
    logits = h @ w2 + b2
    loss = -log_softmax(logits)[rows, labels].mean()
    loss.backward()
    with lib.no_grad():
        for p in params:
            p -= 0.01 * p.grad
            p.grad.zero_()
    return loss


def mlp_autograd(ag, anp, params):
    def loss(params):
        w1, b1, w2, b2 = params
        h = anp.tanh(anp.dot(X, w1) + b1)
        logits = anp.dot(h, w2) + b2
        lse = anp.log(anp.sum(anp.exp(logits - anp.max(logits, axis=1, keepdims=True)),
                              axis=1, keepdims=True)) + anp.max(logits, axis=1, keepdims=True)
        return -anp.mean((logits - lse)[np.arange(16), LABELS])
    grads = ag.grad(loss)(params)
    return [p - 0.01 * g for p, g in zip(params, grads, strict=True)]


def main() -> None:
    torch = optional("torch")
    ag = optional("autograd")
    anp = None
    if ag is not None:
        import autograd.numpy as anp
    # Importing PyTorch creates hundreds of thousands of objects; freezing them keeps
    # Python's cyclic collector from rescanning them during every contender's run.
    gc.freeze()

    fns = {"srcgrad Tensor mode": lambda: scalar_loop(srcgrad, srcgrad.sin)}
    if torch is not None:
        fns["PyTorch eager"] = lambda: scalar_loop(torch, torch.sin)
    if ag is not None:
        fns["HIPS autograd"] = lambda: scalar_loop_autograd(ag, anp)
    rows = _timed(fns)
    print_table(f"scalar loop ({STEPS} steps), forward + backward", rows, "srcgrad Tensor mode")
    _targets(rows, {"PyTorch eager": 1.5})

    params = [srcgrad.tensor(p.astype(np.float32), requires_grad=True) for p in (W1, B1, W2, B2)]
    xs, ls = srcgrad.tensor(X.astype(np.float32)), LABELS
    fns = {"srcgrad Tensor mode": lambda: mlp_step(srcgrad, params, xs, np.arange(16), ls,
                                                   lambda t: t.log_softmax(1))}
    if torch is not None:
        tparams = [torch.tensor(p.astype(np.float32), requires_grad=True)
                   for p in (W1, B1, W2, B2)]
        tx, tl = torch.tensor(X.astype(np.float32)), torch.tensor(LABELS)
        fns["PyTorch eager"] = lambda: mlp_step(torch, tparams, tx, torch.arange(16), tl,
                                                lambda t: t.log_softmax(1))
    if ag is not None:
        aparams = [W1, B1, W2, B2]
        fns["HIPS autograd"] = lambda: mlp_autograd(ag, anp, aparams)
    rows = _timed(fns)
    print_table("MLP training step (batch 16, 8 -> 16 -> 4)", rows, "srcgrad Tensor mode")
    _targets(rows, {"PyTorch eager": 1.0})


def _timed(fns: dict) -> list:
    """``(name, seconds per call)`` rows, rounds interleaved across contenders so that a
    change in machine load during the run hits every contender alike."""
    return list(best_times(fns, repeat=9, budget=1.0).items())


def _targets(rows: list, limits: dict) -> None:
    times = dict(rows)
    ours = times["srcgrad Tensor mode"]
    for name, limit in limits.items():
        if name in times:
            ratio = ours / times[name]
            verdict = "meets" if ratio <= limit else "MISSES"
            print(f"  target: srcgrad / {name} <= {limit}: {ratio:.2f} ({verdict})")
    if "HIPS autograd" in times:
        speedup = times["HIPS autograd"] / ours
        verdict = "meets" if speedup >= 3 else "MISSES"
        print(f"  target: at least 3x faster than HIPS autograd: {speedup:.1f}x ({verdict})")


if __name__ == "__main__":
    main()
