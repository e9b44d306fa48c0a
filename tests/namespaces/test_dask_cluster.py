"""Gradients of functions of Dask arrays, computed by a ``dask.distributed`` cluster.

One ``LocalCluster`` of two worker processes serves every test of this module
(starting it is the cost).  Each test checks that ``grad`` returns a lazy Dask
array without computing anything (a scheduler that raises is in force during
the call), that the chunks are made in the workers' processes, not this one,
and that the computed gradient equals NumPy's gradient on the same data.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import srcgrad

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")
dask = pytest.importorskip("dask")

ROWS, COLS, CHUNK = 600, 4, 150


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit="300MB", dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _block(seed: int, client_pid: int, block_info=None) -> np.ndarray:
    """One chunk of a deterministic random matrix; refuses to run in the client's process."""
    assert os.getpid() != client_pid, "a chunk was computed outside the cluster"
    info = block_info[None]
    start = info["array-location"][0][0]
    return np.random.default_rng([seed, start]).standard_normal(info["chunk-shape"])


def _data(seed: int, shape: tuple[int, ...], chunks: tuple[int, ...]) -> da.Array:
    """A lazy array whose chunks exist only once a worker makes them."""
    return da.map_blocks(_block, seed, os.getpid(), chunks=da.core.normalize_chunks(chunks, shape),
                         dtype=float, meta=np.empty((0,) * len(shape)))


def _never_computes(*args, **kwargs):
    raise AssertionError("grad computed a Dask graph; it must return it lazily")


def _lazy_grad(fun, args, argnums):
    """``srcgrad.grad(fun, argnums)(*args)`` with any computation during the call an error."""
    with dask.config.set(scheduler=_never_computes):
        return srcgrad.grad(fun, argnums=argnums)(*args)


def least_squares(w, X, y):
    r = X @ w - y
    return np.sum(r * r) / X.shape[0]


def logistic(w, b, X, y):
    z = X @ w + b
    return np.mean(np.log1p(np.exp(-y * z))) + 0.01 * np.sum(w ** 2)


def row_softmax_entropy(W, X):
    s = X @ W
    s = s - np.max(s, axis=1, keepdims=True)
    p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
    return -np.mean(np.sum(p * np.log(p), axis=1))


def _check(client, fun, lazy_args, argnums):
    grads = _lazy_grad(fun, lazy_args, argnums)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert all(isinstance(g, da.Array) for g in grads)
    computed = client.compute(list(grads), sync=True)      # on the workers
    local = client.compute(list(lazy_args), sync=True)     # the same data, as NumPy arrays
    expected = srcgrad.grad(fun, argnums=argnums)(*local)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(computed, expected, strict=True):
        # NumPy values (a 0-d Dask array computes to a NumPy scalar)
        assert isinstance(got, np.ndarray | np.generic) and np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_least_squares_on_the_cluster(client):
    X = _data(0, (ROWS, COLS), (CHUNK, COLS))
    y = _data(1, (ROWS,), (CHUNK,))
    w = da.from_array(np.linspace(-1.0, 1.0, COLS), chunks=COLS)
    _check(client, least_squares, [w, X, y], 0)


def test_logistic_regression_two_gradients_on_the_cluster(client):
    X = _data(2, (ROWS, COLS), (CHUNK, COLS))
    y = da.sign(_data(3, (ROWS,), (CHUNK,)))
    w = da.from_array(np.linspace(-0.5, 0.5, COLS), chunks=COLS)
    b = da.from_array(np.array(0.3), chunks=())
    _check(client, logistic, [w, b, X, y], (0, 1))


def test_gradient_with_respect_to_the_chunked_data(client):
    # The gradient has the data's shape and chunks: it stays distributed.
    X = _data(4, (ROWS, COLS), (CHUNK, COLS))
    W = da.from_array(np.linspace(-1.0, 1.0, 3 * COLS).reshape(COLS, 3), chunks=(COLS, 3))
    _check(client, row_softmax_entropy, [W, X], (0, 1))
    gX = _lazy_grad(row_softmax_entropy, [W, X], 1)
    assert gX.chunks == X.chunks
