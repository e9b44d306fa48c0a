"""Mutation of arrays that may be shared: aliases, views, ``out=``, repeated indices.

Each function below is checked on both engines against float64 central
differences.  The source engine may refuse (``TransformError``) where it
cannot prove a write is unobservable; it may never disagree.  The tape may
refuse with a ``RuntimeError``/``TypeError`` that says why; it may never
disagree either.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning

from ..compiler.fd import assert_close, numerical_grad

X3 = np.array([0.3, -0.7, 1.1])
X4 = np.array([0.3, -0.7, 1.1, 0.45])
M23 = np.array([[0.2, -0.5, 0.9], [1.3, 0.4, -0.8]])


def _expected(fun, args, argnum=0):
    return numerical_grad(fun, tuple(np.copy(a) for a in args), argnum)


def _run(fun, args, engine, argnum=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        return srcgrad.value_and_grad(fun, argnums=argnum, engine=engine)(
            *(np.copy(a) for a in args))


def check_engine(fun, args, engine, argnum=0):
    """The engine's value and gradient match NumPy and differences."""
    value, grad = _run(fun, args, engine, argnum)
    assert_close(value, fun(*(np.copy(a) for a in args)))
    assert_close(grad, _expected(fun, args, argnum), rtol=1e-5, atol=1e-6)


def check_forward(fun, args):
    """Forward mode of the source engine (when it accepts ``fun``) matches differences."""
    x = np.copy(args[0])
    tangent = np.linspace(0.5, -0.3, x.size).reshape(x.shape)
    _, dout = srcgrad.jvp(fun, (x, *args[1:]), (tangent,), engine="source")
    expected = np.sum(_expected(fun, args) * tangent)
    assert_close(dout, expected, rtol=1e-5, atol=1e-6)


# -- class 4: repeated integer indices in writes (NumPy keeps the last write) ----------------

def repeated_add(x):
    y = x * 1.0
    y[[0, 0]] += x[1:3]
    return np.sum(y * y)


def repeated_set(x):
    y = x * 1.0
    y[[0, 0]] = x[1:3]
    return np.sum(y * y)


def negative_duplicate(x):
    y = x * 2.0
    y[[0, -3]] = x[1:3] * np.array([2.0, 3.0])
    return np.sum(y * y * y)


def repeated_scalar_value(x):
    y = np.zeros_like(x)
    y[[1, 2, 1, 1]] = x[0] * x[2]
    return np.sum(y * np.arange(1.0, 5.0)) + x[1]


def repeated_2d_pairs(m):
    y = m * 1.0
    y[[0, 0, 1], [1, 1, 2]] = m[1, :] ** 2
    return np.sum(y * y)


def repeated_rows(m):
    y = m * 1.0
    y[[1, 1], :] = m * 3.0
    return np.sum(y ** 3)


def repeated_broadcast_index(m):
    y = np.zeros_like(m)
    y[np.array([[0], [0]]), np.array([1, 1, 2])] = m * m
    return np.sum(y * np.arange(1.0, 7.0).reshape(2, 3))


def repeated_in_loop(x):
    y = np.zeros_like(x)
    for i in range(3):
        y[[i, 0, i]] += x[i] * np.array([1.0, 2.0, 3.0])
    return np.sum(y * y)


def repeated_array_index(x):
    idx = np.array([2, 1, 2, 2])
    y = x ** 2
    y[idx] = x * x[0]
    return np.sum(np.sin(y))


REPEATED = [
    (repeated_add, (X3,)), (repeated_set, (X3,)), (negative_duplicate, (X3,)),
    (repeated_scalar_value, (X4,)), (repeated_2d_pairs, (M23,)), (repeated_rows, (M23,)),
    (repeated_broadcast_index, (M23,)), (repeated_in_loop, (X3,)),
    (repeated_array_index, (X4,)),
]


@pytest.mark.parametrize("engine", ["source", "tape"])
@pytest.mark.parametrize("fun, args", REPEATED, ids=[f.__name__ for f, _ in REPEATED])
def test_repeated_indices_keep_the_last_write(fun, args, engine):
    check_engine(fun, args, engine)


@pytest.mark.parametrize("fun, args", REPEATED, ids=[f.__name__ for f, _ in REPEATED])
def test_repeated_indices_forward_mode(fun, args):
    check_forward(fun, args)
