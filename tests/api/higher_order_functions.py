"""Scalar functions with loops, branches and calls, for the second-order tests."""

import numpy as np


def quartic(x):
    return np.sum(x ** 4) - np.sum(x) ** 2


def loop_poly(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x) * (i + 1)) * np.sum(x * x)
    return s


def branchy(x):
    if np.sum(x) > 0:
        return np.sum(np.exp(x) * x)
    return np.sum(np.cos(x)) * 3.0


def _inner(v):
    return np.tanh(v) * v


def calls(x):
    return np.sum(_inner(x) ** 2) + np.sum(_inner(2.0 * x))


def while_loop(x):
    y = x
    k = 0
    while k < 4:
        y = np.sin(y) + 0.5 * x
        k += 1
    return np.sum(y * y)


def matrix_quadratic(x):
    m = np.outer(x, x) + np.eye(x.shape[0])
    return np.sum(m @ x) + np.log(np.linalg.det(m))


def softmax_entropy(x):
    p = np.exp(x - np.max(x))
    p = p / np.sum(p)
    return -np.sum(p * np.log(p))


def indexing(x):
    return x[0] * x[1] ** 2 + np.sum(x[1:] * x[:-1]) + np.prod(x[:2])


FUNCTIONS = [quartic, loop_poly, branchy, calls, while_loop, matrix_quadratic,
             softmax_entropy, indexing]
