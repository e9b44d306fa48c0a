"""A gradient over a Dask array, computed by a local cluster of two worker processes.

    python examples/dask_gradient.py            # needs dask and distributed

The loss is plain NumPy.  Given Dask arrays, srcgrad's gradient builds a Dask
graph (nothing is computed by the call); the cluster computes it chunk by
chunk, and the result equals the gradient NumPy computes on the same data.
On a real cluster, connect the ``Client`` to its scheduler instead.
"""

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import srcgrad


def loss(w, X, y):
    """Mean squared error of a linear model with a tanh."""
    return np.mean((np.tanh(X @ w) - y) ** 2)


def main() -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        state = da.random.RandomState(0)
        X = state.standard_normal((20_000, 5), chunks=(5_000, 5))    # made by the workers
        y = state.standard_normal(20_000, chunks=5_000)
        w = da.from_array(np.linspace(-1.0, 1.0, 5), chunks=5)       # all inputs Dask arrays

        g = srcgrad.grad(loss)(w, X, y)
        print("lazy gradient:", g)
        value = client.compute(g, sync=True)
        print("computed by the cluster:", value)

        local = srcgrad.grad(loss)(w.compute(), X.compute(), y.compute())
        print("equals NumPy's gradient on the same data:", np.allclose(value, local))


if __name__ == "__main__":  # worker processes import this file: start the cluster only here
    main()
