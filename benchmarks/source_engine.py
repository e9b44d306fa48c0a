"""The source engine against hand-written NumPy gradients and other autodiff libraries.

Five workloads, each a loss written as plain NumPy (the way a user writes it)
and a gradient written by hand as the reference:

    scalar     1,000-step scalar loop on Python floats
    mlp-small  softmax cross-entropy MLP, batch 16, 8 -> 16 -> 4, tanh
    mlp-large  the same loss, batch 256, 512 -> 1024 -> 10
    rnn        100-step tanh RNN, hidden 16, loss summed over steps
    gmm        Gaussian-mixture negative log-likelihood, n = 1000, d = 10, K = 25

At startup every hand-written gradient is checked against central finite
differences (an assertion), and every contender's gradient is compared with
it before it is timed.  Then, in one run, the script times the hand-written
gradient, ``srcgrad.grad`` (after a warm-up call; the one-time transform is
reported separately), HIPS autograd, PyTorch eager (CPU) and JAX (eager and
jit) when they are installed, and prints each time as a ratio to the
hand-written gradient.  The summary checks the targets: srcgrad at most 1.5x
the hand-written gradient on the scalar loop, the small MLP and the RNN, at
most 1.15x on the large MLP and the mixture model, RNN peak memory at most
1.5x, and more than 100x faster than HIPS autograd on the scalar loop.

    python benchmarks/source_engine.py              # full run (one to two minutes)
    python benchmarks/source_engine.py --quick      # small budgets: a smoke test
    python benchmarks/source_engine.py --only rnn   # one workload (repeatable)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    best_times,
    blas_threads,
    format_time,
    optional,
    peak_memory,
    print_table,
    set_blas_threads,
)

import srcgrad  # noqa: E402

torch = optional("torch")
autograd = optional("autograd")
jax = optional("jax")
if jax is not None:
    try:
        jax.config.update("jax_enable_x64", True)  # float64 throughout, as everywhere else
        import jax.numpy as jnp
    except Exception:  # noqa: BLE001 - a broken install counts as absent
        jax = None
if autograd is not None:
    import autograd.numpy as anp

REFERENCE = "hand-written"

# ======================================================================================
# 1. Scalar loop
# ======================================================================================

STEPS = 1000


def scalar_loop(x):
    """Sum of squares of a 1,000-step damped sine recurrence driven by ``x`` (a float)."""
    y = x
    s = 0.0
    for _ in range(STEPS):
        y = np.sin(y) * 0.9 + 0.1 * x
        s = s + y * y
    return s


def scalar_loop_grad(x):
    """d scalar_loop / dx: a forward sweep saving every y, then the reverse sweep.

    With y_0 = x and y_t = 0.9 sin(y_{t-1}) + 0.1 x, s = sum_t y_t^2; walking
    back, y_t's adjoint collects 2 y_t, passes 0.1 of itself to x and
    0.9 cos(y_{t-1}) of itself to y_{t-1}; y_0 is x itself.
    """
    ys = [x]
    y = x
    for _ in range(STEPS):
        y = np.sin(y) * 0.9 + 0.1 * x
        ys.append(y)
    bx = 0.0
    by = 0.0
    for t in range(STEPS, 0, -1):
        by = by + 2.0 * ys[t]
        bx = bx + 0.1 * by
        by = by * 0.9 * np.cos(ys[t - 1])
    return bx + by


def scalar_loop_torch(x):
    y = x
    s = 0.0
    for _ in range(STEPS):
        y = torch.sin(y) * 0.9 + 0.1 * x
        s = s + y * y
    return s


# ======================================================================================
# 2 and 3. MLP with softmax cross-entropy
# ======================================================================================

def mlp_loss(W1, b1, W2, b2, X, labels):
    """Mean softmax cross-entropy of a one-hidden-layer tanh network on a batch ``X``."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(X.shape[0]), labels])


def mlp_grad(W1, b1, W2, b2, X, labels):
    """Gradient of mlp_loss with respect to W1, b1, W2, b2: (softmax - one_hot) / n, back."""
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    b_logits = e / np.sum(e, axis=1, keepdims=True)
    b_logits[np.arange(n), labels] -= 1.0
    b_logits /= n
    b_pre = (b_logits @ W2.T) * (1.0 - h * h)
    return X.T @ b_pre, np.sum(b_pre, axis=0), h.T @ b_logits, np.sum(b_logits, axis=0)


def mlp_loss_torch(W1, b1, W2, b2, X, labels):
    h = torch.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - torch.amax(logits, dim=1, keepdim=True)
    log_probs = shifted - torch.log(torch.sum(torch.exp(shifted), dim=1, keepdim=True))
    return -torch.mean(log_probs[torch.arange(X.shape[0]), labels])


# ======================================================================================
# 4. RNN
# ======================================================================================

def rnn_loss(W, U, xs, h0):
    """Sum over the steps of ||h_t||^2 for the tanh RNN h_t = tanh(W h_{t-1} + U x_t)."""
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        loss = loss + np.sum(h * h)
    return loss


def rnn_grad(W, U, xs, h0):
    """Gradient of rnn_loss w.r.t. W and U: the reverse loop mirrors the forward one."""
    hs = [h0]
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
        hs.append(h)
    bW = np.zeros_like(W)
    bU = np.zeros_like(U)
    bh = np.zeros_like(h0)
    for t in range(xs.shape[0] - 1, -1, -1):
        h = hs[t + 1]
        b_pre = (bh + 2.0 * h) * (1.0 - h * h)
        bW += np.outer(b_pre, hs[t])
        bU += np.outer(b_pre, xs[t])
        bh = W.T @ b_pre
    return bW, bU


def rnn_grad_batched(W, U, xs, h0):
    """rnn_grad with the per-step outer products replaced by two matrix products at the end."""
    steps, hidden = xs.shape[0], h0.shape[0]
    H = np.empty((steps + 1, hidden))
    H[0] = h0
    for t in range(steps):
        H[t + 1] = np.tanh(W @ H[t] + U @ xs[t])
    B = np.empty((steps, hidden))
    bh = np.zeros(hidden)
    WT = W.T
    for t in range(steps - 1, -1, -1):
        h = H[t + 1]
        B[t] = b_pre = (bh + 2.0 * h) * (1.0 - h * h)
        bh = WT @ b_pre
    return B.T @ H[:-1], B.T @ xs


def rnn_loss_torch(W, U, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = torch.tanh(W @ h + U @ xs[t])
        loss = loss + torch.sum(h * h)
    return loss


# ======================================================================================
# 5. Gaussian mixture
# ======================================================================================

def gmm_nll(means, log_inv_scales, logits, X):
    """Negative log-likelihood of the rows of X under a mixture of diagonal Gaussians.

    Component k has mean ``means[k]``, per-dimension inverse scale
    ``exp(log_inv_scales[k])`` and weight ``softmax(logits)[k]``.
    """
    inv_scales = np.exp(log_inv_scales)
    z = (X[:, None, :] - means[None, :, :]) * inv_scales[None, :, :]
    shifted = logits - np.max(logits)
    log_weights = shifted - np.log(np.sum(np.exp(shifted)))
    log_norm = np.sum(log_inv_scales, axis=1) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    log_joint = log_weights + log_norm - 0.5 * np.sum(z * z, axis=2)
    top = np.max(log_joint, axis=1, keepdims=True)
    log_lik = top + np.log(np.sum(np.exp(log_joint - top), axis=1, keepdims=True))
    return -np.sum(log_lik)


def gmm_grad(means, log_inv_scales, logits, X):
    """Gradient of gmm_nll w.r.t. means, log_inv_scales and logits, via responsibilities.

    With r[i, k] the posterior of component k for row i and z the scaled
    residuals: d/dmeans = -inv_scales * sum_i r z, d/dlog_inv_scales =
    sum_i r z^2 - sum_i r, d/dlogits = n softmax(logits) - sum_i r.
    """
    n = X.shape[0]
    inv_scales = np.exp(log_inv_scales)
    z = (X[:, None, :] - means[None, :, :]) * inv_scales[None, :, :]
    shifted = logits - np.max(logits)
    log_weights = shifted - np.log(np.sum(np.exp(shifted)))
    log_norm = np.sum(log_inv_scales, axis=1) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    log_joint = log_weights + log_norm - 0.5 * np.sum(z * z, axis=2)
    r = np.exp(log_joint - np.max(log_joint, axis=1, keepdims=True))
    r /= np.sum(r, axis=1, keepdims=True)
    counts = np.sum(r, axis=0)
    rz = r[:, :, None] * z
    b_means = -inv_scales * np.sum(rz, axis=0)
    b_log_inv_scales = np.sum(rz * z, axis=0) - counts[:, None]
    b_logits = n * np.exp(log_weights) - counts
    return b_means, b_log_inv_scales, b_logits


def gmm_nll_torch(means, log_inv_scales, logits, X):
    inv_scales = torch.exp(log_inv_scales)
    z = (X[:, None, :] - means[None, :, :]) * inv_scales[None, :, :]
    shifted = logits - torch.amax(logits)
    log_weights = shifted - torch.log(torch.sum(torch.exp(shifted)))
    log_norm = torch.sum(log_inv_scales, dim=1) - 0.5 * X.shape[1] * np.log(2.0 * np.pi)
    log_joint = log_weights + log_norm - 0.5 * torch.sum(z * z, dim=2)
    top = torch.amax(log_joint, dim=1, keepdim=True)
    log_lik = top + torch.log(torch.sum(torch.exp(log_joint - top), dim=1, keepdim=True))
    return -torch.sum(log_lik)


# ======================================================================================
# Workloads
# ======================================================================================

@dataclass
class Workload:
    name: str
    title: str
    loss: Callable[..., Any]
    reference: Callable[..., Any]
    torch_loss: Callable[..., Any]
    args: tuple
    argnums: int | tuple[int, ...]
    limit: float
    extras: dict[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def diff(self) -> tuple[int, ...]:
        return self.argnums if isinstance(self.argnums, tuple) else (self.argnums,)


def make_workloads() -> list[Workload]:
    rng = np.random.default_rng(0)

    def mlp_args(batch, n_in, n_hidden, n_out):
        return (rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in),
                0.1 * rng.standard_normal(n_hidden),
                rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden),
                0.1 * rng.standard_normal(n_out),
                rng.standard_normal((batch, n_in)),
                rng.integers(0, n_out, batch))

    hidden, n_inputs, steps = 16, 8, 100
    rnn_args = (0.9 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden),
                0.9 * rng.standard_normal((hidden, n_inputs)) / np.sqrt(n_inputs),
                rng.standard_normal((steps, n_inputs)),
                np.zeros(hidden))
    n, d, k = 1000, 10, 25
    gmm_args = (rng.standard_normal((k, d)),
                0.2 * rng.standard_normal((k, d)),
                0.5 * rng.standard_normal(k),
                1.5 * rng.standard_normal((n, d)))
    return [
        Workload("scalar", f"scalar loop ({STEPS} steps on Python floats)", scalar_loop,
                 scalar_loop_grad, scalar_loop_torch, (0.5,), 0, 1.5),
        Workload("mlp-small", "small MLP (batch 16, 8 -> 16 -> 4, tanh, softmax CE)",
                 mlp_loss, mlp_grad, mlp_loss_torch, mlp_args(16, 8, 16, 4), (0, 1, 2, 3), 1.5),
        Workload("mlp-large", "large MLP (batch 256, 512 -> 1024 -> 10, tanh, softmax CE)",
                 mlp_loss, mlp_grad, mlp_loss_torch, mlp_args(256, 512, 1024, 10),
                 (0, 1, 2, 3), 1.15),
        Workload("rnn", f"RNN ({steps} steps, hidden {hidden}, input {n_inputs}, "
                 "loss sum_t ||h_t||^2)", rnn_loss, rnn_grad, rnn_loss_torch, rnn_args,
                 (0, 1), 1.5, extras={"hand-written, batched (info)": rnn_grad_batched}),
        Workload("gmm", f"Gaussian mixture NLL (n = {n}, d = {d}, K = {k})", gmm_nll, gmm_grad,
                 gmm_nll_torch, gmm_args, (0, 1, 2), 1.15),
    ]


# ======================================================================================
# Checks
# ======================================================================================

def as_tuple(grads: Any) -> tuple:
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().numpy()
    return np.asarray(x, dtype=np.float64)


def check_reference(w: Workload, coords: int, rng: np.random.Generator) -> None:
    """Assert the hand-written gradient matches central finite differences.

    Per differentiated argument: every coordinate of a small argument (or
    ``coords`` random ones of a large one) and two random directions.
    """
    eps = 1e-6
    f0 = float(w.loss(*w.args))
    grads = as_tuple(w.reference(*w.args))
    assert len(grads) == len(w.diff), w.name

    def directional(i: int, v: np.ndarray) -> float:
        def at(step: float) -> float:
            args = list(w.args)
            moved = np.asarray(w.args[i], dtype=np.float64) + step * v
            args[i] = float(moved) if isinstance(w.args[i], float) else moved
            return float(w.loss(*args))
        return (at(eps) - at(-eps)) / (2 * eps)

    for i, g in zip(w.diff, grads, strict=True):
        x = np.asarray(w.args[i], dtype=np.float64)
        g = np.asarray(g, dtype=np.float64)
        assert g.shape == x.shape, f"{w.name}: gradient shape {g.shape} != {x.shape}"
        picks = (np.arange(x.size) if x.size <= coords
                 else rng.choice(x.size, coords, replace=False))
        directions = []
        for flat in picks:
            e = np.zeros(x.size)
            e[flat] = 1.0
            directions.append(e.reshape(x.shape))
        directions += [rng.standard_normal(x.shape) for _ in range(2)]
        for v in directions:
            fd = directional(i, v)
            exact = float(np.sum(g * v))
            tol = 1e-5 * abs(exact) + 1e-8 * (1.0 + abs(f0))
            assert abs(fd - exact) <= tol, (
                f"{w.name}: hand-written gradient of argument {i} disagrees with finite "
                f"differences: {exact!r} vs {fd!r}")


def same_gradient(expected: tuple, got: Any) -> str | None:
    """None when ``got`` equals ``expected`` (np.allclose), else what differs."""
    got = as_tuple(got)
    if len(got) != len(expected):
        return f"{len(got)} gradients instead of {len(expected)}"
    for k, (e, g) in enumerate(zip(expected, got, strict=True)):
        g = to_numpy(g)
        if g.shape != np.shape(e):
            return f"gradient {k}: shape {g.shape} instead of {np.shape(e)}"
        if not np.allclose(g, e):
            err = np.max(np.abs(g - e))
            return f"gradient {k}: max abs difference {err:.3g} (max |expected| " \
                   f"{np.max(np.abs(e)):.3g})"
    return None


# ======================================================================================
# Contenders
# ======================================================================================

def with_numpy(fn: Callable[..., Any], module: Any) -> Callable[..., Any]:
    """The very same function, its ``np`` global bound to ``module`` (autograd.numpy, jnp)."""
    namespace = dict(fn.__globals__)
    namespace["np"] = module
    return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                              fn.__closure__)


def short_error(err: BaseException) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}{where}"


_transformed: set[Callable[..., Any]] = set()


@dataclass
class SrcgradRun:
    label: str | None = None
    engine: str | None = None
    transform: float | None = None
    fn: Callable[[], Any] | None = None
    notes: list[str] = field(default_factory=list)


def setup_srcgrad(w: Workload, problems: list[str]) -> SrcgradRun:
    """Transform the loss (timed once), falling back to the tape if the transform breaks."""
    run = SrcgradRun()
    g = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            g = srcgrad.grad(w.loss, argnums=w.argnums)
            transform = time.perf_counter() - start
        for c in caught:
            problems.append(f"{w.name}: {c.category.__name__}: {c.message}")
        if g.engine == "source":
            cached = w.loss in _transformed
            run.transform = None if cached else transform
            run.notes.append(f"transform {format_time(transform).strip()}"
                             + (" (cached: same loss as before)" if cached else ""))
            _transformed.add(w.loss)
    except Exception as err:  # noqa: BLE001 - reported, then the tape is tried
        problems.append(f"{w.name}: srcgrad.grad(...) raised {short_error(err)}")
        detail = "".join(traceback.format_exception(err)).rstrip()
        print("  srcgrad.grad failed; traceback:\n    " + detail.replace("\n", "\n    "))
    if g is not None and g.engine == "source":
        try:
            start = time.perf_counter()
            g(*w.args)
            run.notes.append(f"first call {format_time(time.perf_counter() - start).strip()}")
        except Exception as err:  # noqa: BLE001
            problems.append(f"{w.name}: source-engine gradient raised {short_error(err)}")
            g = None
    if g is None:
        try:
            g = srcgrad.grad(w.loss, argnums=w.argnums, engine="tape")
            g(*w.args)
        except Exception as err:  # noqa: BLE001
            problems.append(f"{w.name}: tape engine raised {short_error(err)}")
            return run
    run.engine = g.engine
    run.label = f"srcgrad ({g.engine} engine)"
    run.fn = lambda: g(*w.args)
    print(f"  srcgrad ran the {g.engine} engine"
          + (f" ({len(g.source.splitlines())} lines generated)" if g.engine == "source" else ""))
    return run


def contenders(w: Workload, problems: list[str],
               expected: tuple) -> tuple[dict[str, Callable[[], Any]], dict[str, str], SrcgradRun]:
    """Zero-argument callables computing the gradient, each checked once against ``expected``."""
    fns: dict[str, Callable[[], Any]] = {REFERENCE: lambda: w.reference(*w.args)}
    notes: dict[str, str] = {}
    for name, extra in w.extras.items():
        fns[name] = lambda extra=extra: extra(*w.args)

    sg = setup_srcgrad(w, problems)
    if sg.fn is not None:
        fns[sg.label] = sg.fn
        notes[sg.label] = "; ".join(sg.notes)

    if autograd is not None:
        ag = autograd.grad(with_numpy(w.loss, anp), w.argnums)
        fns["HIPS autograd"] = lambda: ag(*w.args)

    if torch is not None:
        targs = []
        for i, a in enumerate(w.args):
            if isinstance(a, float):
                a = np.float64(a)
            t = torch.from_numpy(np.array(a))
            targs.append(t.requires_grad_() if i in w.diff else t)
        leaves = [targs[i] for i in w.diff]
        fns["PyTorch eager"] = lambda: torch.autograd.grad(w.torch_loss(*targs), leaves)

    if jax is not None:
        jargs = tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in w.args)
        jloss = with_numpy(w.loss, jnp)
        eager = jax.grad(jloss, argnums=w.argnums)
        fns["JAX eager"] = lambda: jax.block_until_ready(eager(*jargs))
        jitted = jax.jit(jax.grad(jloss, argnums=w.argnums))
        start = time.perf_counter()
        try:
            jax.block_until_ready(jitted(*jargs))
            notes["JAX jit"] = f"trace + compile {format_time(time.perf_counter() - start).strip()}"
            fns["JAX jit"] = lambda: jax.block_until_ready(jitted(*jargs))
        except Exception as err:  # noqa: BLE001
            problems.append(f"{w.name}: JAX jit raised {short_error(err)}")

    for name, fn in list(fns.items()):
        try:
            wrong = same_gradient(expected, fn())
        except Exception as err:  # noqa: BLE001
            problems.append(f"{w.name}: {name} raised {short_error(err)}; not timed")
            del fns[name]
            continue
        if wrong is not None:
            line = f"{w.name}: {name} does NOT match the hand-written gradient: {wrong}"
            print("  " + line)
            problems.append(line)
            notes[name] = "; ".join(filter(None, [notes.get(name), "WRONG GRADIENT"]))
    return fns, notes, sg


# ======================================================================================
# Main
# ======================================================================================

@dataclass
class Outcome:
    workload: Workload
    times: dict[str, float]
    srcgrad: SrcgradRun
    memory: dict[str, int] = field(default_factory=dict)


def run(w: Workload, opts: argparse.Namespace, problems: list[str]) -> Outcome:
    print(f"\n== {w.name}: {w.title}")
    expected = tuple(np.asarray(g, dtype=np.float64) for g in as_tuple(w.reference(*w.args)))
    fns, notes, sg = contenders(w, problems, expected)
    times = best_times(fns, repeat=opts.repeat, budget=opts.budget)
    print_table(f"{w.title}: gradient, seconds per call", list(times.items()), REFERENCE, notes)
    outcome = Outcome(w, times, sg)
    if w.name == "rnn":
        numpy_based = {name: fns[name] for name in
                       (REFERENCE, *w.extras, sg.label, "HIPS autograd") if name in fns}
        outcome.memory = {name: peak_memory(fn) for name, fn in numpy_based.items()}
        ref = outcome.memory[REFERENCE]
        print(f"\n{w.title}: peak memory during one gradient call (tracemalloc)")
        for name, peak in outcome.memory.items():
            print(f"  {name:34s} {peak / 1024:10.1f} KiB {peak / ref:20.2f}x")
    return outcome


def summary(outcomes: list[Outcome], problems: list[str]) -> None:
    print("\n== targets (ratios to the hand-written gradient, measured in this run)")
    for o in outcomes:
        w, sg = o.workload, o.srcgrad
        if sg.label not in o.times:
            print(f"  {w.name:10s} srcgrad <= {w.limit:.2f}x: not measured (see problems)")
            continue
        ratio = o.times[sg.label] / o.times[REFERENCE]
        verdict = "meets" if ratio <= w.limit else "MISSES"
        engine = "" if sg.engine == "source" else "   [tape engine: not the source engine]"
        print(f"  {w.name:10s} srcgrad <= {w.limit:.2f}x: {ratio:7.2f}x  {verdict}{engine}")
        if o.memory and sg.label in o.memory:
            mem = o.memory[sg.label] / o.memory[REFERENCE]
            verdict = "meets" if mem <= 1.5 else "MISSES"
            print(f"  {w.name:10s} peak memory <= 1.50x: {mem:7.2f}x  {verdict}{engine}")
        if w.name == "scalar" and "HIPS autograd" in o.times:
            speedup = o.times["HIPS autograd"] / o.times[sg.label]
            verdict = "meets" if speedup > 100 else "MISSES"
            print(f"  {w.name:10s} faster than HIPS autograd by > 100x: {speedup:7.1f}x  "
                  f"{verdict}{engine}")
    transforms = {o.workload.name: o.srcgrad.transform for o in outcomes
                  if o.srcgrad.transform is not None}
    if transforms:
        slowest = max(transforms, key=transforms.get)
        t = transforms[slowest]
        verdict = "meets" if t <= 0.05 else "MISSES"
        print(f"  transform time <= 50 ms (each loss here is under 15 lines): slowest "
              f"{slowest} {format_time(t).strip()}  {verdict}")
    if problems:
        print("\n== problems seen")
        for p in problems:
            print(f"  - {p}")


def _warm_up(x):
    """A first, throw-away transform, so that import costs stay out of the timed ones."""
    return np.sum(np.sin(x) * x)


def main(argv: list[str] | None = None) -> None:
    names = [w.name for w in make_workloads()]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny timing budgets and fewer finite-difference probes")
    parser.add_argument("--only", action="append", choices=names, metavar="NAME",
                        help=f"run only this workload (repeatable): {', '.join(names)}")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="run NumPy's BLAS and PyTorch on N threads (default: BLAS's own "
                             "count, which PyTorch is then set to match)")
    opts = parser.parse_args(argv)
    opts.budget, opts.repeat, coords = (0.02, 2, 4) if opts.quick else (0.9, 9, 20)

    if opts.threads is not None and not set_blas_threads(opts.threads):
        print(f"could not set the BLAS thread count to {opts.threads}")
    blas = blas_threads()
    if torch is not None and blas is not None:
        torch.set_num_threads(blas)
    torch_info = "not installed"
    if torch is not None:
        torch_info = (f"{torch.__version__}, intra-op threads {torch.get_num_threads()}"
                      + (" (set to the BLAS count)" if blas is not None else " (default)"))
    jax_info = "not installed"
    if jax is not None:
        jax_info = f"{jax.__version__} on {jax.devices()[0]} (XLA's default thread pool)"
    print(f"float64 throughout; {os.cpu_count()} CPUs; NumPy {np.__version__}, "
          f"BLAS threads {blas or 'unknown'}; "
          f"PyTorch {torch_info}")
    print(f"HIPS autograd {'installed' if autograd else 'not installed'}; JAX {jax_info}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None:
        busy = load > 0.5 * (os.cpu_count() or 1)
        print(f"load average (1 min) before the run: {load:.2f}"
              + ("  -- the machine is busy: multi-threaded timings will be noisy "
                 "(rerun when idle, or use --threads 1)" if busy else ""))

    # The compiler's own imports are a one-time cost of the process, not of a transform.
    try:
        srcgrad.grad(_warm_up, engine="source")
    except Exception:  # noqa: BLE001, S110 - whatever fails here is reported per workload
        pass
    gc.collect()
    gc.freeze()  # keep the cyclic collector from rescanning every library's import-time objects

    workloads = [w for w in make_workloads() if not opts.only or w.name in opts.only]
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for w in workloads:
        check_reference(w, coords, rng)
    print(f"hand-written gradients agree with central finite differences "
          f"({', '.join(w.name for w in workloads)}; {time.perf_counter() - start:.1f} s)")

    problems: list[str] = []
    outcomes = [run(w, opts, problems) for w in workloads]
    summary(outcomes, problems)


if __name__ == "__main__":
    main()
