"""np.block, np.i0 and np.linalg.eig/eigvals used as users write them, in both engines,
against central differences (the rules themselves are sampled in tests/rule_samples)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad


def block_loss(a, b, c, d):
    return np.sum(np.sin(np.block([[a, b], [c, d]])) ** 2)


def i0_loss(x):
    return np.sum(np.i0(x) * x)


def eigvals_loss(a):
    w = np.linalg.eigvals(a)
    return np.sum(np.abs(w) ** 2)


def eig_loss(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.real(w) ** 3) + np.sum(np.abs(v[0]) ** 2 * np.arange(v.shape[1]))


def central(f, args, k, eps=1e-6):
    out = np.zeros_like(args[k])
    for idx in np.ndindex(args[k].shape):
        e = np.zeros_like(args[k])
        e[idx] = eps
        plus, minus = list(args), list(args)
        plus[k], minus[k] = args[k] + e, args[k] - e
        out[idx] = (f(*plus) - f(*minus)) / (2 * eps)
    return out


def separated(n, seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(-1, 1, (n, n)) + 2 * np.eye(n)
    d = np.diag(1.0 + 1.5 * np.arange(n))
    d[:2, :2] = [[1.0, -2.0], [2.0, 1.0]]     # a complex pair of eigenvalues
    return p @ d @ np.linalg.inv(p)


# the rules these cases run through both engines (tests/test_rules_engines.py counts them)
COVERS = ("numpy.block", "numpy.i0", "numpy.linalg.eig", "numpy.linalg.eigvals")

rng = np.random.default_rng(0)
CASES = [
    (block_loss, [rng.normal(size=s) for s in [(2, 2), (2, 3), (1, 2), (1, 3)]]),
    (i0_loss, [rng.uniform(-3, 3, 5)]),
    (eigvals_loss, [separated(3, 1)]),
    (eig_loss, [separated(4, 2)]),
]


@pytest.mark.parametrize("engine", ["source", "tape"])
@pytest.mark.parametrize("f, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_against_central_differences(f, args, engine):
    argnums = tuple(range(len(args)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")    # the source engine must not fall back
        grads = srcgrad.grad(f, argnums=argnums, engine=engine)(*args)
    for k in argnums:
        assert np.isrealobj(grads[k])
        np.testing.assert_allclose(grads[k], central(f, args, k), rtol=1e-5, atol=1e-6)
