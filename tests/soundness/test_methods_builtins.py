"""Methods, shadowed builtins, the all-scalar variant and builtins applied to arrays.

Every gradient is compared with central differences in float64 and between
the engines: ``tape`` and ``auto`` must be right, ``source`` right or a
located ``TransformError``.
"""

from __future__ import annotations

import re
import types
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import TransformError

from ..compiler.fd import assert_close, numerical_grad

X = np.array([0.7, -1.3, 2.1])


def engines(f, *args, argnums=0, source="accepted"):
    """Check ``grad(f)`` on every engine against finite differences.

    ``source`` says what the source engine must do: ``"accepted"`` (right),
    ``"refused"`` (a TransformError) or ``"either"``.
    """
    expected = numerical_grad(f, args, argnums)
    assert_close(srcgrad.grad(f, argnums, engine="tape")(*args), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(srcgrad.grad(f, argnums)(*args), expected)
    try:
        got = srcgrad.grad(f, argnums, engine="source")(*args)
    except TransformError:
        assert source in ("refused", "either"), "the source engine refused"
        return "refused"
    assert source in ("accepted", "either"), "the source engine accepted"
    assert_close(got, expected)
    return "accepted"


# --- the all-scalar variant ----------------------------------------------------------

SCALE = 2.0
P = types.SimpleNamespace(W=np.array([1.0, 2.0, 3.0]), c=2.0)
MOD = types.ModuleType("params")
MOD.W = np.array([0.5, -1.0, 2.0])
TABLE = {"w": np.array([1.0, -2.0])}
GLOBAL_ARRAY = np.array([3.0, 4.0])


def _array():
    return np.array([2.0, -1.0])


def test_scalar_argument_with_namespace_attribute_array():
    f = lambda s: (s * P.W) @ P.W  # noqa: E731
    assert srcgrad.grad(f, engine="source")(0.7) == pytest.approx(14.0)
    engines(f, 0.7)


def test_scalar_argument_with_module_attribute_array():
    engines(lambda s: (s * MOD.W) @ (s * MOD.W) + np.sin(s), 0.3)


def test_scalar_argument_with_attribute_changed_between_calls():
    holder = types.SimpleNamespace(v=np.array([1.0, 3.0]))
    g = srcgrad.grad(lambda s: (s * holder.v) @ holder.v, engine="source")
    assert g(1.5) == pytest.approx(10.0)
    holder.v = np.array([2.0])          # the same code reads the new array
    assert g(1.5) == pytest.approx(4.0)


def test_scalar_argument_with_dict_item_global_array_and_calls():
    engines(lambda s: np.sum(s * TABLE["w"]) ** 2, 0.4)
    engines(lambda s: np.sum((s * GLOBAL_ARRAY) ** 2), 0.4)
    engines(lambda s: np.sum(np.exp(s * _array())), 0.4)


def test_scalar_variant_kept_for_numbers_and_module_constants():
    def f(s, t):
        return np.sin(s) * t + np.pi * s + SCALE * t

    g = srcgrad.grad(f, argnums=(0, 1), engine="source")
    assert_close(g(0.3, 1.2), (np.cos(0.3) * 1.2 + np.pi, np.sin(0.3) + 2.0))
    assert re.search(r"def \w+_scalar\(", g.source)
    # an attribute of a user object is read when called: it may be an array by then
    h = srcgrad.grad(lambda s: s * s * P.c, engine="source")
    assert h(3.0) == pytest.approx(12.0)
    assert not re.search(r"def \w+_scalar\(", h.source)
    k = srcgrad.grad(lambda s: (s * P.W) @ P.W, engine="source")
    assert not re.search(r"def \w+_scalar\(", k.source)
