"""Logistic regression trained with ``@srcgrad.grad``.

    python examples/logistic_regression.py

The gradient is generated once, when the decorator runs; every training step
then calls plain NumPy code (print ``loss_grad.source`` to read it).
"""

import numpy as np

import srcgrad


def loss(w, b, x, y):
    """Mean binary cross-entropy of a linear classifier, plus a little L2."""
    z = x @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-9
    nll = -np.mean(y * np.log(p + eps) + (1.0 - y) * np.log(1.0 - p + eps))
    return nll + 1e-3 * np.sum(w * w)


loss_grad = srcgrad.grad(loss, argnums=(0, 1))


@srcgrad.grad
def accuracy_margin(w, x, y):
    """A decorated gradient: ``accuracy_margin`` is now d(margin)/dw."""
    return np.mean((2.0 * y - 1.0) * np.tanh(x @ w))


def make_data(n=200, d=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    true_w = np.array([2.0, -1.0])[:d]
    y = (x @ true_w + 0.3 * rng.standard_normal(n) > 0).astype(np.float64)
    return x, y


def train(steps=300, lr=0.5):
    x, y = make_data()
    w = np.zeros(x.shape[1])
    b = 0.0
    for step in range(steps):
        gw, gb = loss_grad(w, b, x, y)
        w = w - lr * gw
        b = b - lr * gb
        if step % 100 == 0:
            print(f"step {step:3d}  loss {loss(w, b, x, y):.4f}")
    accuracy = np.mean(((x @ w + b) > 0) == (y > 0.5))
    print(f"final loss {loss(w, b, x, y):.4f}  accuracy {accuracy:.3f}  w {w}  b {b:.3f}")
    print("d(margin)/dw at the solution:", accuracy_margin(w, x, y))
    return w, b


if __name__ == "__main__":
    train()
    print()
    print("The generated gradient:")
    print(loss_grad.source)
