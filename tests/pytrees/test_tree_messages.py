"""Refusals and fallback warnings for tree arguments speak of the user's code: a leaf is
``params["enc"][1]`` or ``p.w`` (not the leaf's generated parameter), and a
FallbackWarning points at the line that called the transform."""

from collections import namedtuple

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

pytest.importorskip("optree")

Layer = namedtuple("Layer", "w b")


def index_from_nested_leaf(params, x):
    y = x.copy()
    y[params["enc"][1]] = 1.0
    return np.sum(y * params["enc"][0])


def index_from_field(p, x):
    y = x.copy()
    y[p.b] = 2.0
    return np.sum(y * p.w)


def index_from_dict_item(p, x):
    y = x.copy()
    y[p["a"]] = 2.0
    return np.sum(y * p["w"])


@pytest.mark.parametrize("f, tree, written", [
    (index_from_nested_leaf, {"enc": [np.ones(3), 1.0]}, 'params["enc"][1]'),
    (index_from_field, Layer(np.ones(3), 1.0), "p.b"),
    (index_from_dict_item, {"w": np.ones(3), "a": 1.0}, 'p["a"]'),
])
def test_refusals_name_leaves_as_the_code_reads_them(f, tree, written):
    with pytest.raises(TransformError) as info:
        srcgrad.grad(f, engine="source")(tree, np.arange(3.0))
    message = str(info.value)
    assert f"({written})" in message
    assert "_enc_" not in info.value.construct and "p_" not in info.value.construct
    assert info.value.filename == __file__
    # auto: the warning says the same (the tape then refuses a Tensor as an index)
    with pytest.warns(FallbackWarning) as record, pytest.raises(RuntimeError):
        srcgrad.grad(f)(tree, np.arange(3.0))
    assert f"({written})" in str(record[0].message)


def untransformable(p, x):
    try:
        y = p["w"] * x
    finally:
        pass
    return np.sum(y ** 2)


P = {"w": np.array([0.5, -1.0, 2.0])}
X = np.array([1.0, 2.0, 3.0])
CALLS = {
    "grad": lambda f: srcgrad.grad(f)(P, X),
    "value_and_grad": lambda f: srcgrad.value_and_grad(f)(P, X),
    "vjp": lambda f: srcgrad.vjp(f, P, X),
    "jvp": lambda f: srcgrad.jvp(f, (P, X), (P, X)),
    "jacobian": lambda f: srcgrad.jacobian(f)(P, X),
    "jacrev": lambda f: srcgrad.jacrev(f)(P, X),
    "hessian": lambda f: srcgrad.hessian(f)(P, X),
    "hvp": lambda f: srcgrad.hvp(f, (P, X), (P, X)),
}


@pytest.mark.parametrize("kind", list(CALLS))
def test_fallback_warnings_for_tree_calls_point_at_the_callers_line(kind):
    srcgrad.api._warned.clear()     # (a FallbackWarning is given once per function)
    with pytest.warns(FallbackWarning, match="a try statement") as record:
        CALLS[kind](untransformable)
    (warning,) = [w for w in record if issubclass(w.category, FallbackWarning)]
    assert warning.filename == __file__, warning.filename
    assert "srcgrad" not in warning.filename.replace(__file__, "")
