"""srcgrad in one page: a gradient, the code srcgrad wrote for it, and Tensor mode.

    python examples/quickstart.py
"""

import numpy as np

import srcgrad


def loss(w, x, y):
    """Mean squared error of a tiny linear model with a tanh."""
    pred = np.tanh(x @ w)
    return np.mean((pred - y) ** 2)


rng = np.random.default_rng(0)
x = rng.standard_normal((8, 3))
y = rng.standard_normal(8)
w = rng.standard_normal(3)

dloss = srcgrad.grad(loss)  # transformed once, here, ahead of time
print("gradient:", dloss(w, x, y))

# Check it against central differences.
eps = 1e-6
numeric = np.array([(loss(w + eps * e, x, y) - loss(w - eps * e, x, y)) / (2 * eps)
                    for e in np.eye(3)])
print("matches finite differences:", np.allclose(dloss(w, x, y), numeric))

if dloss.engine == "source":
    print("\nThe generated gradient code:\n")
    print(dloss.source)

# Tensor mode: the same derivative rules, PyTorch's API.
wt = srcgrad.tensor(w, requires_grad=True)
value = srcgrad.mean((srcgrad.tanh(srcgrad.tensor(x) @ wt) - srcgrad.tensor(y)) ** 2)
value.backward()
print("Tensor mode agrees:", np.allclose(wt.grad.numpy(), dloss(w, x, y)))
