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
