"""Forward mode and second order: Hessian-vector products and full Jacobians.

Run ``python benchmarks/higher_order.py`` (``--quick`` for a smoke run,
``--threads N`` for BLAS/XLA threads).  Every time is the best of several
interleaved rounds, and every result is checked before it is timed.

* Hessian-vector product of 1,000-dimensional objectives, forward-over-reverse
  (``srcgrad.hvp``: the tangent code of the generated gradient), against the
  gradient itself (``srcgrad.grad``) in the same run.  Target: at most 3x.
* The full Jacobian of a 100 -> 100 map (``srcgrad.jacfwd``, ``jacrev`` and
  ``jacobian``, which picks by shape), beside HIPS autograd's ``jacobian`` and
  JAX's ``jacfwd``/``jacrev`` (eager and jit) when installed.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import best_times, optional, print_table, set_blas_threads  # noqa: E402

import srcgrad  # noqa: E402

RNG = np.random.default_rng(0)
N = 1000
FEATURES = RNG.standard_normal((200, N)) / np.sqrt(N)
LABELS = np.where(RNG.standard_normal(200) > 0, 1.0, -1.0)
W = RNG.standard_normal((100, 100)) / 10.0


def logistic_loss(w):
    """L2-regularized logistic regression: 200 samples, 1,000 weights."""
    margins = LABELS * (FEATURES @ w)
    return np.mean(np.logaddexp(0.0, -margins)) + 0.5e-2 * np.dot(w, w)


def rosenbrock(x):
    """The extended Rosenbrock function in 1,000 dimensions."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def layer_map(x):
    """A 100 -> 100 map: a tanh layer, a residual and an elementwise term."""
    h = np.tanh(W @ x)
    for _ in range(3):
        h = np.tanh(W @ h) + x
    return h + np.sin(x) * x


def _hand_hvp_rosenbrock(x, v):
    """The Rosenbrock Hessian times v, written out (a reference value only)."""
    a, b = x[:-1], x[1:]
    va, vb = v[:-1], v[1:]
    hv = np.zeros_like(x)
    hv[:-1] += (1200.0 * a * a - 400.0 * b + 2.0) * va - 400.0 * a * vb
    hv[1:] += -400.0 * a * va + 200.0 * vb
    return hv


def check_close(name: str, got, expected, problems: list[str]) -> None:
    if not np.allclose(got, expected, rtol=1e-6, atol=1e-8):
        problems.append(f"{name}: result differs from the reference")


def hvp_section(repeat: int, budget: float, problems: list[str]) -> list[tuple[str, float]]:
    ratios = []
    v = RNG.standard_normal(N)
    for fun, x in ((logistic_loss, RNG.standard_normal(N) * 0.1),
                   (rosenbrock, RNG.uniform(-1.0, 1.0, N))):
        gradient = srcgrad.grad(fun)
        hv = srcgrad.hvp(fun, (x,), (v,))
        if gradient.engine != "source":
            problems.append(f"{fun.__name__}: the gradient did not run on the source engine")
        eps = 1e-6
        numeric = (gradient(x + eps * v) - gradient(x - eps * v)) / (2 * eps)
        if not np.allclose(hv, numeric, rtol=1e-4, atol=1e-6):
            problems.append(f"{fun.__name__}: hvp differs from differences of the gradient")
        if fun is rosenbrock:
            check_close("rosenbrock hvp", hv, _hand_hvp_rosenbrock(x, v), problems)
        fns = {
            "srcgrad.grad": lambda fun=fun, x=x: gradient(x),
            "srcgrad.hvp (fwd-over-rev)": lambda fun=fun, x=x: srcgrad.hvp(fun, (x,), (v,)),
        }
        autograd = optional("autograd")
        if autograd is not None:
            import autograd.numpy as anp

            hips = _with_numpy(fun, anp)
            hips_hvp = autograd.hessian_vector_product(hips)
            check_close("HIPS hvp", hips_hvp(x, v), hv, problems)
            fns["HIPS autograd hvp"] = lambda x=x: hips_hvp(x, v)
        times = best_times(fns, repeat=repeat, budget=budget)
        rows = list(times.items())
        print_table(f"{fun.__name__}: Hessian-vector product, n = {N}", rows, "srcgrad.grad")
        ratios.append((fun.__name__, times["srcgrad.hvp (fwd-over-rev)"] / times["srcgrad.grad"]))
    return ratios


def _with_numpy(fun, module):
    """``fun`` with its module's ``np`` bound to ``module`` (HIPS autograd, JAX)."""
    import types

    globs = dict(fun.__globals__)
    globs["np"] = module
    return types.FunctionType(fun.__code__, globs, fun.__name__, fun.__defaults__)


def jacobian_section(repeat: int, budget: float, problems: list[str]) -> dict[str, float]:
    x = RNG.standard_normal(100)
    eps = 1e-6
    numeric = np.stack([(layer_map(x + eps * e) - layer_map(x - eps * e)) / (2 * eps)
                        for e in np.eye(100)], axis=1)
    contenders = {
        "srcgrad.jacfwd": srcgrad.jacfwd(layer_map),
        "srcgrad.jacrev": srcgrad.jacrev(layer_map),
        "srcgrad.jacobian": srcgrad.jacobian(layer_map),
    }
    fns = {}
    for name, jac in contenders.items():
        if jac.engine != "source":
            problems.append(f"{name} did not run on the source engine")
        if not np.allclose(jac(x), numeric, rtol=1e-5, atol=1e-7):
            problems.append(f"{name}: Jacobian differs from central differences")
        fns[name] = lambda jac=jac: jac(x)
    autograd = optional("autograd")
    if autograd is not None:
        import autograd.numpy as anp

        hips = autograd.jacobian(_with_numpy(layer_map, anp))
        check_close("HIPS jacobian", hips(x), numeric, problems)
        fns["HIPS autograd jacobian"] = lambda: hips(x)
    jax = optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        jax_fun = _with_numpy(layer_map, jnp)
        globs = jax_fun.__globals__
        globs["W"] = jnp.asarray(W)
        xj = jnp.asarray(x)
        for label, make in (("jacfwd", jax.jacfwd), ("jacrev", jax.jacrev)):
            eager = make(jax_fun)
            jitted = jax.jit(make(jax_fun))
            check_close(f"JAX {label}", np.asarray(eager(xj)), numeric, problems)
            jitted(xj).block_until_ready()
            fns[f"JAX {label} eager"] = lambda eager=eager: eager(xj).block_until_ready()
            fns[f"JAX {label} jit"] = lambda jitted=jitted: jitted(xj).block_until_ready()
    times = best_times(fns, repeat=repeat, budget=budget)
    print_table("layer_map: full Jacobian of a 100 -> 100 map", list(times.items()),
                "srcgrad.jacobian")
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads")
    opts = parser.parse_args(argv)
    if opts.threads is not None:
        set_blas_threads(opts.threads)
    repeat, budget = (2, 0.05) if opts.quick else (7, 1.0)
    problems: list[str] = []
    ratios = hvp_section(repeat, budget, problems)
    times = jacobian_section(repeat, budget, problems)
    print("\n== targets (measured in this run)")
    for name, ratio in ratios:
        verdict = "meets" if ratio <= 3.0 else "MISSES"
        print(f"  {name:16s} hvp / grad <= 3.00x: {ratio:6.2f}x  {verdict}")
    ours = times["srcgrad.jacobian"]
    for name, t in times.items():
        if not name.startswith("srcgrad"):
            print(f"  Jacobian 100 -> 100: {name} / srcgrad.jacobian = {t / ours:.2f}x")
    if problems:
        print("\nproblems:")
        for p in problems:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()
