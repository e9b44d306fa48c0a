"""Print the code srcgrad generates for a few functions.

    python examples/show_generated_code.py

The same listings come from the command line:
``srcgrad show examples.show_generated_code:rnn_loss --argnums 1``.
"""

import numpy as np

import srcgrad


def softplus_sum(x):
    """Straight-line code: rules are pasted in with your names."""
    return np.sum(np.log1p(np.exp(x)))


def piecewise(x):
    """A branch: the reverse sweep takes the branch the forward sweep took."""
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y * 3.0


def scalar_loop(x, y):
    """A loop on Python floats: only ``y`` is saved, nothing is broadcast."""
    s = 0.0
    for _ in range(1000):
        y = np.sin(y) * 0.9 + 0.1 * x
        s = s + y * y
    return s


def rnn_loss(h, w, u, xs):
    """A recurrent network: hidden states are pushed as the loop overwrites them."""
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(w @ h + u @ xs[t])
        loss = loss + np.sum(h)
    return loss


def helper(a, b):
    return np.tanh(a) * b


def calls_helper(x, y):
    """Calls to your own functions use their (cached) forward/pullback pair."""
    return np.sum(helper(x, y) + helper(y, x))


def main():
    for fun, argnums in [(softplus_sum, 0), (piecewise, 0), (scalar_loop, (0, 1)),
                         (rnn_loss, 1), (calls_helper, (0, 1))]:
        print(f"# ---- {fun.__name__} (argnums={argnums}) " + "-" * 30)
        print(srcgrad.source(srcgrad.grad(fun, argnums=argnums)))
    print("# ---- split mode: srcgrad.vjp(softplus_sum, x) " + "-" * 20)
    out, pullback = srcgrad.vjp(softplus_sum, np.array([0.5, -1.0]))
    print("value", out, "cotangent", pullback(1.0))


if __name__ == "__main__":
    main()
