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


# --- shadowed builtins -------------------------------------------------------------------

NUMPY_STAR_MODULE = '''
import numpy as np
from numpy import *


def loop_sum(xs):
    total = 0.0
    for v in xs:
        total = total + v * v
    return total


def zipped(xs, ys):
    total = 0.0
    for a, b in zip(xs, ys):
        total = total + a * b
    return total


def appended(x):
    out = []
    for i in range(3):
        out.append(x[i] * 2.0)
    return out[-1] * out[0]


def numpy_min_and_sum(x):
    return min(x * x) + sum(x * x) + max(np.sin(x))


def late_len(xs):
    total = 0.0
    for v in xs:
        total = total + v * v
    return total * len(xs)
'''


@pytest.fixture
def module_from_source(tmp_path, monkeypatch):
    """``load(name, source)``: a real module of a temporary file."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))

    def load(name: str, source: str) -> types.ModuleType:
        (tmp_path / f"{name}.py").write_text(source)
        importlib.invalidate_caches()
        module = importlib.import_module(name)
        monkeypatch.setitem(sys.modules, name, module)
        return module
    return load


def test_numpy_star_import_does_not_reach_generated_loops(module_from_source):
    mod = module_from_source("star_numpy_module", NUMPY_STAR_MODULE)
    y = np.array([0.5, 1.5, -1.0, 4.0])
    assert engines(mod.loop_sum, X) == "accepted"
    assert engines(mod.zipped, X, y) == "accepted"
    assert engines(mod.zipped, X, y, argnums=1) == "accepted"
    assert engines(mod.appended, X) == "accepted"


def test_numpy_star_import_user_calls_mean_numpy(module_from_source):
    mod = module_from_source("star_numpy_calls", NUMPY_STAR_MODULE)
    x = np.array([0.3, -1.1, 2.2])
    assert engines(mod.numpy_min_and_sum, x) == "accepted"


def test_module_len_defined_after_the_transform(module_from_source):
    mod = module_from_source("late_len_module", NUMPY_STAR_MODULE)
    before = srcgrad.grad(mod.loop_sum, engine="source")
    mod.len = lambda v: 1                       # the user's len, bound later
    assert_close(before(X), 2 * X)
    assert_close(srcgrad.grad(mod.loop_sum, engine="source")(X), 2 * X)
    # the user's own call means the user's len (1); srcgrad's loop still sees 3 items
    assert engines(mod.late_len, X) == "accepted"


def _closure_shadowing():
    len = lambda v: 2.0  # noqa: E731
    min = lambda *v: 0.5  # noqa: E731

    def f(xs, ys):
        total = 0.0
        for v in xs:
            total = total + v * v
        for a, b in zip(xs, ys, strict=False):
            total = total + a * b * min(a, b)
        return total * len(xs)
    return f


def test_closure_len_and_min_do_not_shadow_generated_loops():
    y = np.array([0.5, 1.5, -1.0, 4.0])
    f = _closure_shadowing()
    assert engines(f, X, y) == "accepted"
    assert engines(f, X, y, argnums=1) == "accepted"


def test_local_names_shadowing_builtins():
    def g(xs, ys):
        min = 0.5
        len = 3.0
        total = 0.0
        for a, b in zip(xs, ys, strict=False):
            total = total + a * b
        for v in xs:
            total = total + v * len
        return total * min

    def h(xs):
        def len(v):
            return 1.5

        total = 0.0
        for v in xs:
            total = total + v * v * len(v)
        out = xs.copy()
        slice = 2.0
        out[1:3] = xs[0:2] * slice
        items = []
        for v in xs:
            items.append(v * slice)
        return total + np.sum(out * out) + items[-1] * items[0]

    def type_parameter(x, type=2.0):
        return np.sum(x * x * type)

    y = np.array([0.5, 1.5, -1.0, 4.0])
    assert engines(g, X, y) == "accepted"
    assert engines(h, X) == "accepted"
    assert engines(type_parameter, 1.5) == "accepted"
    assert engines(type_parameter, X) == "accepted"
