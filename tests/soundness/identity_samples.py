"""Definitions in every kind of scope, for the proof that their source is their code.

``from __future__ import annotations`` changes the compiler's flags, the
closures need their enclosing scope's cells, the class's methods mangle
private names and read ``__class__``: each must be reproduced for the proof.
"""

from __future__ import annotations

import functools

import numpy as np


def plain(x: float, scale: float = 2.0) -> float:
    """A docstring, defaults and annotations."""
    y = [np.sin(x) * k for k in range(3)]
    return scale * y[1] + np.cos(x) * -0.0


def make_closure(a):
    b = a * 2.0

    def closure(x, c=a):
        return np.sin(x * a) + b * x + c

    return closure


def make_comprehension(a):
    def comprehension(x):
        # before Python 3.11 the comprehension's qualified name is a constant here
        return sum([np.sin(x * k) * a for k in range(3)])

    return comprehension


@functools.cache
def cached_factory(k):
    return lambda x: np.exp(k * x)


def decorated_by(fn):
    return fn


@decorated_by
@decorated_by
def decorated(x):
    return x ** 3


class Model:
    __scale = 1.5

    def method(self, x):
        return self.__scale * np.tanh(x) + self.__helper(x)

    def __helper(self, x):
        return x * x

    def with_super(self, x):
        super().__init__()
        return __class__.__name__, x

    body_lambda = staticmethod(lambda x: np.sin(x) * 2.0)


def make_local_class():
    offset = 0.5

    class Local:
        def shifted(self, x):
            return x + offset, __class__

    return Local


pair = (lambda x: x - np.sin(x), lambda x: np.sin(x) - x)
swapped = (lambda x, y: x * y ** 2, lambda x, y: y * x ** 2)
signs = (lambda x: np.copysign(x, 0.0), lambda x: np.copysign(x, -0.0))
spread = [
    lambda x: x
    * 3.0,
    lambda x: x * 4.0,
]
nested = lambda x: (lambda y: y * x)(x)


def generator(x):
    yield x * 2.0
