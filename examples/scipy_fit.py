"""Fitting a model whose parameters are a tree with ``scipy.optimize.minimize``.

    python examples/scipy_fit.py

``srcgrad.tree.ravel`` turns the parameters into one flat vector (what SciPy
optimizes) and gives back the function that turns such a vector into the
tree; the gradient, a tree of the same structure, ravels the same way.
"""

from collections import namedtuple

import numpy as np

import srcgrad

Decay = namedtuple("Decay", "amplitude rate")


def model(params, t):
    fast, slow = params["fast"], params["slow"]
    return (fast.amplitude * np.exp(-fast.rate * t) + slow.amplitude * np.exp(-slow.rate * t)
            + params["offset"])


def loss(params, t, y):
    return np.mean((model(params, t) - y) ** 2)


def main():
    try:
        from scipy.optimize import minimize
    except ImportError:
        print("this example needs SciPy: pip install scipy")
        return
    t = np.linspace(0.0, 5.0, 80)
    truth = {"fast": Decay(2.0, 3.0), "slow": Decay(1.0, 0.4), "offset": 0.25}
    y = model(truth, t) + 0.01 * np.random.default_rng(0).standard_normal(t.size)

    start = {"fast": Decay(1.0, 2.0), "slow": Decay(0.5, 0.2), "offset": 0.0}
    vector, unravel = srcgrad.tree.ravel(start)
    value_and_grad = srcgrad.value_and_grad(loss)

    def objective(v):
        value, grads = value_and_grad(unravel(v), t, y)
        return value, srcgrad.tree.ravel(grads)[0]

    result = minimize(objective, vector, jac=True, method="BFGS")
    fitted = unravel(result.x)
    print(f"loss {result.fun:.2e} after {result.nit} iterations "
          f"(engine: {value_and_grad.engine})")
    print("fitted:", {k: v for k, v in fitted.items()})
    assert result.fun < 1e-3, result
    assert abs(fitted["offset"] - 0.25) < 0.05, fitted


if __name__ == "__main__":
    main()
