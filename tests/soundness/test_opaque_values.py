"""Values whose Python meaning the loop lowering and the arithmetic rules do not model.

Loops are lowered to ``len()`` and reads by position, and arithmetic is
differentiated by NumPy's rules; a dict iterated in a loop or an object with
its own operators would get a silently wrong derivative, so the source engine
refuses them with a located error (and ``auto`` runs the tape).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import TransformError

from ..compiler.fd import assert_close, numerical_grad

WEIGHTS = {1: 2.0, 0: 3.0, 5: 0.5}       # keys that are not the positions 0, 1, 2
PERMUTED = {1: 2.0, 0: 3.0}             # keys that are positions, in another order
LEVELS = {0.5, 1.5}


def over_dict(x):
    s = 0.0
    for k in WEIGHTS:
        s = s * 0.5 + x * WEIGHTS[k] * k
    return s


def over_permuted_dict(x):
    s = 0.0
    for k in PERMUTED:          # iteration order 1, 0: reading by position gives 0, 1
        s = s * 0.5 + x * k
    return s


def over_set(x):
    s = 0.0
    for v in LEVELS:
        s = s + x * v
    return s


class Doubling:
    """An object whose operators return arrays: not NumPy's arithmetic on a number."""

    def __mul__(self, other):
        return np.array([other, 2.0 * other])

    __rmul__ = __mul__

    def __neg__(self):
        return np.array([-1.0, -2.0])


SCALE = Doubling()


def times_object(x):
    return np.sum((x * SCALE) ** 2)


def negated_object(x):
    return x * np.sum(-SCALE)


@pytest.mark.parametrize("f", [over_dict, over_permuted_dict, over_set])
def test_iterating_a_non_sequence_is_refused_and_auto_is_right(f):
    with pytest.raises(TransformError, match="iteration over") as info:
        srcgrad.grad(f, engine="source")
    assert info.value.lineno == f.__code__.co_firstlineno + 2
    expected = numerical_grad(f, (1.3,), 0)
    assert_close(srcgrad.grad(f, engine="tape")(1.3), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(srcgrad.grad(f)(1.3), expected)


@pytest.mark.parametrize("f", [times_object, negated_object])
def test_arithmetic_with_an_object_is_refused(f):
    with pytest.raises(TransformError, match="arithmetic with 'SCALE', a Doubling object"):
        srcgrad.grad(f, engine="source")


def test_arithmetic_with_an_object_is_never_silently_wrong_under_auto():
    # the tape cannot run it either (the object makes a plain array of a Tensor): an
    # error, where the source engine used to return [12, 24] for d/dx sum((x*S)**2) = 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError):
            srcgrad.grad(times_object)(2.0)


def test_sequences_and_numbers_still_iterate_and_multiply():
    seq = [0.5, 1.5]

    def f(x):
        s = 0.0
        for v in seq:
            s = s + x * v * 2
        return s * np.float64(3.0)

    expected = numerical_grad(f, (0.4,), 0)
    assert_close(srcgrad.grad(f, engine="source")(0.4), expected)
