"""Functions whose primitives return several arrays (their source must live in a file)."""

import numpy as np


def unpack_split(x):
    a, b = np.split(x, 2)
    return np.sum(a * b) + np.sum(np.sin(b))


def index_named_result(m):
    return np.linalg.slogdet(m)[1] + np.linalg.slogdet(m)[0]


def unpack_named_result(m):
    sign, logdet = np.linalg.slogdet(m)
    return logdet * sign
