"""A two-layer network whose parameters are a dict, trained with plain SGD.

    python examples/two_layer_network.py

``srcgrad.grad(loss)`` returns a dict of gradients with the same keys as the
parameters; ``srcgrad.tree.map`` applies the update leaf by leaf. The source
engine transforms ``loss`` for this structure: its generated code takes one
argument per leaf (print ``loss_grad.source`` after a call to read it).
"""

import numpy as np

import srcgrad


def predict(params, x):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    return hidden @ params["W2"] + params["b2"]


def loss(params, x, y):
    """Mean squared error, plus a little weight decay on every weight matrix."""
    error = predict(params, x) - y
    decay = sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))
    return np.mean(error ** 2) + 1e-4 * decay


loss_grad = srcgrad.value_and_grad(loss)


def make_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    y = np.sin(2.0 * x) + 0.05 * rng.standard_normal((n, 1))
    return x, y


def init(hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((1, hidden)), "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, 1)) / np.sqrt(hidden), "b2": np.zeros(1)}


def train(steps=1500, lr=0.1):
    x, y = make_data()
    params = init()
    first = None
    for step in range(steps):
        value, grads = loss_grad(params, x, y)
        first = value if first is None else first
        params = srcgrad.tree.map(lambda p, g: p - lr * g, params, grads)
        if step % 500 == 0:
            print(f"step {step:4d}  loss {value:.4f}")
    print(f"final loss {value:.4f} (from {first:.4f}), engine: {loss_grad.engine}")
    return first, value


if __name__ == "__main__":
    first, last = train()
    assert last < 0.25 * first, (first, last)
