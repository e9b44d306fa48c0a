"""Every GPU check in one script: CuPy and PyTorch-CUDA gradients against NumPy, and speed.

    pip install gast astor            # srcgrad's own dependencies
    python benchmarks/gpu.py          # from the repository root, on a machine with a GPU
    python benchmarks/gpu.py --allow-cpu --small    # the same code, on the CPU (debugging)

Prints one PASS/FAIL line per correctness check (the corpus sample of
tests/namespaces on CuPy and on torch CUDA tensors, values against NumPy's
gradient), then per workload (MLP 8192x1024->4096->1000 and GMM n=200k,
d=64, K=200, float32) the time per gradient of srcgrad on CuPy, a hand-written
CuPy gradient, PyTorch eager autograd and jax.jit(jax.grad), with ratios from
interleaved rounds (benchmarks/_timing.py).  Without a GPU it stops with an
error unless --allow-cpu is given (then torch on the CPU and NumPy stand in).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time

import numpy as np

# JAX takes 75% of the GPU's memory when first used unless told not to: CuPy and PyTorch,
# which share the GPU with it here (the GMM's (n, K, d) temporaries are 10 GB each), would
# run out of memory
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from _timing import best_times  # noqa: E402

import srcgrad  # noqa: E402


def mlp_loss(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)) + m
    return np.sum((lse - z) * y) / x.shape[0]


def gmm_loss(mu, log_s, logits, x):
    d = x[:, None, :] - mu[None, :, :]
    s = np.exp(log_s)
    q = np.sum((d * s[None, :, :]) ** 2, axis=2)
    logw = logits - np.log(np.sum(np.exp(logits)))
    a = logw[None, :] + np.sum(log_s, axis=1)[None, :] - 0.5 * q
    m = np.max(a, axis=1, keepdims=True)
    return -np.sum(np.log(np.sum(np.exp(a - m), axis=1)) + m[:, 0]) / x.shape[0]


def mlp_hand(xp, W1, b1, W2, b2, x, y):
    h = xp.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = xp.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gz = (p * y.sum(axis=1, keepdims=True) - y) / x.shape[0]
    gh = (gz @ W2.T) * (1 - h * h)
    return x.T @ gh, gh.sum(axis=0), h.T @ gz, gz.sum(axis=0)


def gmm_hand(xp, mu, log_s, logits, x):
    n = x.shape[0]
    d = x[:, None, :] - mu[None, :, :]
    s = xp.exp(log_s)
    ds = d * s[None, :, :]
    q = (ds ** 2).sum(axis=2)
    logw = logits - xp.log(xp.exp(logits).sum())
    a = logw[None, :] + log_s.sum(axis=1)[None, :] - 0.5 * q
    r = xp.exp(a - a.max(axis=1, keepdims=True))
    r /= r.sum(axis=1, keepdims=True)
    r = -r / n
    g_mu = -(r[:, :, None] * (-ds * s[None, :, :])).sum(axis=0)
    g_log_s = (r[:, :, None] * (1 - ds * ds)).sum(axis=0)
    w = xp.exp(logw)
    g_logits = r.sum(axis=0) - w * r.sum()
    return g_mu, g_log_s, g_logits


def correctness(lib: str, convert, back) -> int:
    from tests.namespaces.test_corpus_namespaces import BY_NAME, LIMITS

    failures = 0
    for name, case in BY_NAME.items():
        if LIMITS.get(("torch", name)) or LIMITS.get(("dask", name)):
            continue
        try:
            g = srcgrad.grad(case.fun, argnums=case.argnums, engine="source")
            expected = g(*copy.deepcopy(case.args))
            got = g(*[convert(a) for a in copy.deepcopy(case.args)])
            got = got if isinstance(got, tuple) else (got,)
            expected = expected if isinstance(expected, tuple) else (expected,)
            ok = all(np.allclose(back(a), b, rtol=1e-6, atol=1e-9)
                     for a, b in zip(got, expected, strict=True))
        except Exception as err:       # reported, counted as a failure
            ok, why = False, f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
        else:
            why = "" if ok else "values differ from NumPy's"
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {lib} {name} {why}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-cpu", action="store_true")
    parser.add_argument("--small", action="store_true", help="small sizes (CPU debugging)")
    opts = parser.parse_args()
    try:
        import cupy
        gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        cupy, gpu = None, False
    import torch
    cuda = torch.cuda.is_available()
    if not (gpu and cuda) and not opts.allow_cpu:
        raise SystemExit("benchmarks/gpu.py: no GPU (CuPy and torch.cuda); pass --allow-cpu "
                         "to run the same checks on the CPU")
    device = "cuda" if cuda else "cpu"
    xp = cupy if gpu else np
    print(f"device: {device}, CuPy: {'yes' if gpu else 'no (NumPy stands in)'}")

    def to_torch(a):
        if isinstance(a, np.ndarray):
            return torch.from_numpy(a.copy()).to(device)
        if isinstance(a, (list, tuple)):
            return type(a)(to_torch(v) for v in a)
        return a

    def to_xp(a):
        if isinstance(a, np.ndarray):
            return xp.asarray(a)
        if isinstance(a, (list, tuple)):
            return type(a)(to_xp(v) for v in a)
        return a

    def from_any(a):
        if isinstance(a, torch.Tensor):
            return a.detach().cpu().numpy()
        if isinstance(a, (list, tuple)):
            return type(a)(from_any(v) for v in a)
        return cupy.asnumpy(a) if gpu and isinstance(a, cupy.ndarray) else a

    failures = correctness(f"torch-{device}", to_torch, from_any)
    failures += correctness("cupy" if gpu else "numpy", to_xp, from_any)

    rng = np.random.default_rng(0)
    f32 = np.float32
    if opts.small:
        mlp = (64, 32, 16, 10)
        gmm = (500, 8, 6)
    else:
        mlp = (8192, 1024, 4096, 1000)
        gmm = (200_000, 64, 200)
    n, i, h, o = mlp
    mlp_args = [rng.normal(size=(i, h)).astype(f32) * 0.03, np.zeros(h, f32),
                rng.normal(size=(h, o)).astype(f32) * 0.03, np.zeros(o, f32),
                rng.normal(size=(n, i)).astype(f32),
                np.eye(o, dtype=f32)[rng.integers(0, o, n)]]
    n, d, k = gmm
    gmm_args = [rng.normal(size=(k, d)).astype(f32), (0.1 * rng.normal(size=(k, d))).astype(f32),
                np.zeros(k, f32), rng.normal(size=(n, d)).astype(f32)]
    sync = (lambda: cupy.cuda.Device().synchronize()) if gpu else (lambda: None)
    tsync = (lambda: torch.cuda.synchronize()) if cuda else (lambda: None)
    for label, loss, hand, args, wrt in (("MLP", mlp_loss, mlp_hand, mlp_args, (0, 1, 2, 3)),
                                         ("GMM", gmm_loss, gmm_hand, gmm_args, (0, 1, 2))):
        xargs = [to_xp(a) for a in args]
        targs = [to_torch(a) for a in args]
        g = srcgrad.grad(loss, argnums=wrt)
        ours = g(*xargs)
        ref = hand(xp, *xargs)
        ok = all(np.allclose(from_any(a), from_any(b), rtol=2e-3, atol=2e-5)
                 for a, b in zip(ours, ref, strict=True))
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'} {label} srcgrad on {xp.__name__} equals the "
              "hand-written gradient")

        def torch_grad(targs=targs, loss=loss, wrt=wrt):
            leaves = [a.detach().requires_grad_(k in wrt) for k, a in enumerate(targs)]
            out = _torch_loss(label, leaves)
            grads = torch.autograd.grad(out, [leaves[k] for k in wrt])
            tsync()
            return grads

        contenders = {
            f"srcgrad on {xp.__name__}": lambda: (g(*xargs), sync()),
            f"hand-written {xp.__name__}": lambda: (hand(xp, *xargs), sync()),
            f"PyTorch eager ({device})": torch_grad,
        }
        try:
            import jax
            import jax.numpy as jnp
            jargs = [jnp.asarray(a) for a in args]
            jl = _jax_loss(label)
            jg = jax.jit(jax.grad(jl, argnums=wrt))
            start = time.perf_counter()
            jax.block_until_ready(jg(*jargs))
            print(f"  jax.jit compile: {time.perf_counter() - start:.2f} s")
            contenders["jax.jit(jax.grad)"] = lambda: jax.block_until_ready(jg(*jargs))
            js = jax.jit(srcgrad.grad(loss, argnums=wrt))
            jax.block_until_ready(js(*jargs))
            contenders["jax.jit(srcgrad.grad)"] = lambda: jax.block_until_ready(js(*jargs))
        except ImportError:
            pass
        times = best_times(contenders, repeat=5, budget=1.0 if not opts.small else 0.2)
        base = times[f"hand-written {xp.__name__}"]
        print(f"{label}: time per gradient, ratio to the hand-written gradient")
        for name, t in times.items():
            print(f"  {name:28s} {t * 1e3:9.3f} ms  {t / base:6.2f}x")
        # the next workload starts with the GPU's memory free: the libraries' pools and
        # caches keep what this one's largest temporaries took
        contenders.clear()
        xargs = targs = ours = ref = jargs = torch_grad = None  # noqa: F841
        if gpu:
            cupy.get_default_memory_pool().free_all_blocks()
        if cuda:
            torch.cuda.empty_cache()
    print("ALL PASS" if not failures else f"{failures} FAILURE(S)")
    sys.exit(1 if failures else 0)


def _torch_loss(label, a):
    import torch
    if label == "MLP":
        W1, b1, W2, b2, x, y = a
        z = torch.tanh(x @ W1 + b1) @ W2 + b2
        return ((torch.logsumexp(z, 1, keepdim=True) - z) * y).sum() / x.shape[0]
    mu, log_s, logits, x = a
    q = (((x[:, None, :] - mu[None]) * torch.exp(log_s)[None]) ** 2).sum(2)
    logw = logits - torch.logsumexp(logits, 0)
    return -torch.logsumexp(logw[None] + log_s.sum(1)[None] - 0.5 * q, 1).sum() / x.shape[0]


def _jax_loss(label):
    import jax
    import jax.numpy as jnp
    if label == "MLP":
        def f(W1, b1, W2, b2, x, y):
            z = jnp.tanh(x @ W1 + b1) @ W2 + b2
            return jnp.sum((jax.nn.logsumexp(z, 1, keepdims=True) - z) * y) / x.shape[0]
        return f

    def g(mu, log_s, logits, x):
        q = jnp.sum(((x[:, None, :] - mu[None]) * jnp.exp(log_s)[None]) ** 2, 2)
        logw = logits - jax.nn.logsumexp(logits)
        return -jnp.sum(jax.nn.logsumexp(logw[None] + jnp.sum(log_s, 1)[None] - 0.5 * q, 1)) \
            / x.shape[0]
    return g


if __name__ == "__main__":
    main()
