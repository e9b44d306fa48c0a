"""Functions whose generated code tests/compiler/test_readable.py reads."""

import math

import numpy as np


def log_scaled(x):
    return math.log(x) * 3.0 + math.log(x, 2.0)


def reductions(x):
    y = np.mean(x * 2.0) + np.sum(x,
                                  axis=0)   # a statement over two lines
    z = np.sum(np.std(x, ddof=1) * x, axis=1, keepdims=True)
    return np.sum(y) + np.sum(z) + np.var(x, axis=0).sum()


def commented(x):
    y = np.sin(x) * 2.0    # the '#' inside "a # string" is not a comment
    if np.sum(y) > 0:  # a branch
        y = y * len("a # b")
    return np.sum(y)


def _scaled_sum(a, b):
    return np.sum(a * b)


def _squashed(a):
    return np.tanh(a) * 2.0


def _on_the_tape(a):
    try:                # (refused by the source engine: runs on the tape)
        return np.sin(a) * 3.0
    finally:
        pass


def calls_callees(x, w):
    z = _scaled_sum(x, w)
    y = _squashed(x)
    u = _scaled_sum(y, w) + z
    v = _on_the_tape(y)
    return u * 2.0 + np.sum(w * x) + np.sum(v * y)


def _sometimes(a, b):
    if np.sum(a) > 0:
        return np.sum(a * b)
    return np.sum(b)


def calls_a_callee_giving_none(x, w):
    y = _squashed(x)
    return _sometimes(y, w) * 2.0


def branchy(x):
    if x > 0.5:
        y = x * x
    else:
        y = np.sin(x) * 3.0
    return y * 2.0


def broadcasting_scalar(x, y):
    z = np.sin(x) * y + x
    return z * z
