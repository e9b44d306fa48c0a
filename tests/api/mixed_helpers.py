"""Functions for the mixed-mode tests (their source must live in a file)."""

import numpy as np


def helper_with_try(v):
    try:
        return np.sin(v) * 2.0
    except ValueError:
        return v


def outer(x):
    y = helper_with_try(x * 3.0)
    return np.sum(y * y)


def outer_two_args(x, w):
    return np.sum(helper_with_try(x) * w) + np.sum(w * w)
