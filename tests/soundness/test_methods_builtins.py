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
    # refused: the closure's min takes *v, and a value with a derivative passed to *args
    # has no parameter to be differentiated by (it got no gradient at all, which was
    # right only because this min ignores its arguments); tape and auto stay right
    assert engines(f, X, y, source="refused") == "refused"
    assert engines(f, X, y, argnums=1, source="refused") == "refused"


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


# --- bound methods, classmethods, staticmethods -------------------------------------------

class Model:
    scale = 1.5

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def loss(self, x, s):
        return np.sum(np.sin(x) * self.w) * s + s * s

    def one(self, x):
        return np.sum(self.w * x * x)

    def helper(self, x):
        return np.sum(np.tanh(x) * self.w)

    def calls_helper(self, x):
        return self.helper(x * 2.0) * self.scale + self.one(x)

    @property
    def w2(self):
        return self.w * self.w

    def with_property(self, x):
        return np.sum(self.w2 * np.cos(x))

    @classmethod
    def from_class(cls, x):
        return np.sum(x * x * cls.scale)

    @staticmethod
    def static(x):
        return np.sum(x ** 3)


class Tuned(Model):
    scale = -0.5

    def helper(self, x):
        return np.sum(np.exp(x) * self.w)


W = np.array([0.5, -2.0, 1.5])


def test_bound_method_differentiates_explicit_arguments():
    m = Model(W)
    x = np.array([0.3, -0.8, 1.1])
    value, g = srcgrad.value_and_grad(m.loss, engine="source")(x, 3.0)
    assert value == pytest.approx(np.sum(np.sin(x) * W) * 3.0 + 9.0)
    assert_close(g, np.cos(x) * W * 3.0)
    assert engines(m.loss, x, 3.0) == "accepted"
    assert engines(m.loss, x, 3.0, argnums=1) == "accepted"
    assert engines(m.one, x) == "accepted"
    both = srcgrad.grad(m.loss, argnums=(0, 1), engine="source")(x, 3.0)
    assert_close(both, (np.cos(x) * W * 3.0, np.sum(np.sin(x) * W) + 6.0))


def test_bound_method_reads_self_state_when_called():
    m = Model(W)
    x = np.array([0.3, -0.8, 1.1])
    g = srcgrad.grad(m.one, engine="source")
    assert_close(g(x), 2 * W * x)
    m.w = np.array([1.0, 2.0, 3.0])            # mutable state: the same gradient follows it
    assert_close(g(x), 2 * m.w * x)
    m.w = 2.0
    assert_close(g(x), 4.0 * x)
    other = Model([3.0, 3.0, 3.0])              # another object: its own state
    assert_close(srcgrad.grad(other.one, engine="source")(x), 6.0 * x)
    assert_close(g(x), 4.0 * x)


def test_methods_calling_methods_subclass_and_property():
    x = np.array([0.3, -0.8, 1.1])
    assert engines(Model(W).calls_helper, x) == "accepted"
    tuned = Tuned(W)                          # Model.calls_helper calls Tuned.helper
    assert engines(tuned.calls_helper, x) == "accepted"
    expected = 2 * np.exp(2 * x) * W * -0.5 + 2 * W * x
    assert_close(srcgrad.grad(tuned.calls_helper, engine="source")(x), expected)
    assert engines(Model(W).with_property, x) == "accepted"


def test_classmethod_and_staticmethod():
    x = np.array([0.3, -0.8, 1.1])
    assert engines(Model.from_class, x) == "accepted"
    assert engines(Tuned.from_class, x) == "accepted"       # cls is Tuned: scale -0.5
    assert_close(srcgrad.grad(Tuned.from_class, engine="source")(x), -1.0 * x)
    assert engines(Model(W).from_class, x) == "accepted"
    assert engines(Model.static, x) == "accepted"
    assert engines(Model(W).static, x) == "accepted"


def test_bound_method_forward_mode_and_hessian():
    m = Model(W)
    x = np.array([0.3, -0.8, 1.1])
    v = np.array([1.0, 0.5, -2.0])
    _, tangent = srcgrad.jvp(m.one, (x,), (v,), engine="source")
    assert tangent == pytest.approx(np.sum(2 * W * x * v))
    assert_close(srcgrad.hessian(m.loss, engine="source")(x, 3.0),
                 srcgrad.hessian(m.loss, engine="tape")(x, 3.0))


class Stateful:
    def __init__(self):
        self.w0 = np.array([1.0, -1.0, 2.0])
        self.w = self.w0

    def reset(self):
        self.w = self.w0

    def bump(self):
        self.w = self.w * 3.0

    def loss(self, x):
        self.reset()
        a = np.sum(self.w * x)
        self.bump()                 # the reverse sweep must use the w read before this
        return a * np.sum(self.w * x)


def test_self_attribute_read_before_a_method_changes_it():
    s = Stateful()
    x = np.array([0.3, -0.8, 1.1])
    assert engines(s.loss, x) == "accepted"


class Holder:
    def __init__(self):
        self.act = np.tanh               # a function kept on the instance
        self.inner = Model(W)
        self.w = W

    def via_instance_function(self, x):
        return np.sum(self.act(x) * self.w)

    def via_attribute_object(self, x):
        return self.inner.one(x) + np.sum(x)

    def rebinds_self(self, x):
        self = self.inner
        return np.sum(x * self.w)


def test_calls_through_state_that_may_change_are_refused():
    h = Holder()
    x = np.array([0.3, -0.8, 1.1])
    for method in (h.via_instance_function, h.via_attribute_object, h.rebinds_self):
        with pytest.raises(TransformError) as err:
            srcgrad.grad(method, engine="source")
        assert err.value.lineno > 0
        assert engines(method, x, source="refused") == "refused"


class Decorated:
    def __init__(self, w):
        self.w = w

    @srcgrad.grad
    def loss(self, x):
        return np.sum(self.w * x * x)

    @srcgrad.value_and_grad(argnums=1, engine="source")
    def pair(self, x, y):
        return np.sum(self.w * x * y)

    @srcgrad.grad(engine="tape")
    def on_tape(self, x):
        return np.sum(self.w * np.sin(x))


def test_grad_decorating_a_method_differentiates_after_self():
    d = Decorated(np.array([1.0, 2.0, 3.0]))
    x = np.array([0.3, -0.8, 1.1])
    assert_close(d.loss(x), 2 * d.w * x)
    value, g = d.pair(x, 2 * x)
    assert value == pytest.approx(np.sum(d.w * x * 2 * x))
    assert_close(g, d.w * x)
    assert_close(d.on_tape(x), d.w * np.cos(x))
    d.w = np.array([-1.0, 0.0, 1.0])
    assert_close(d.loss(x), 2 * d.w * x)
    assert d.loss.engine == "source"
    assert d.loss is d.loss                      # kept for the most recent object
    e = Decorated(np.array([2.0, 2.0, 2.0]))
    for _ in range(2):                            # alternating objects: each its own self
        assert_close(e.loss(x), 4.0 * x)
        assert_close(d.loss(x), 2 * d.w * x)
    # through the class, with no instance: the plain function, argument 0 is self
    with pytest.raises(TypeError, match="argument 0"), warnings.catch_warnings():
        warnings.simplefilter("ignore")       # (self.w of a differentiated self: the tape)
        Decorated.loss(d, x)


def test_method_of_a_global_object():
    from ..compiler import refusals

    # was refused as "a call into a method of a user class"; now differentiated
    assert engines(refusals.calls_method, 1.5) == "accepted"
    assert srcgrad.grad(refusals.calls_method, engine="source")(1.5) == pytest.approx(2.0)


# --- builtins applied to arrays -------------------------------------------------------------

V = np.array([1.3, -0.4, 2.2, 0.9])


@pytest.mark.parametrize("f", [
    lambda x: max(x) * 2.0,                                     # over the items of an array
    lambda x: min(x) + max(x * x),
    lambda x: min([x[0] * 2, x[1], x[2] ** 2]),                 # of a list
    lambda x: max((x[0], x[3])) * x[1],                         # of a tuple
    lambda x: max(x[0], x[1] * 0.5, x[2]) + min(x[0], x[1], x[2], x[3]),
    lambda x: np.sum(max(x.reshape(4, 1))) * 2.0,               # rows of one item
    lambda x: sum(x * x),
    lambda x: sum(x * x, 3.0),
    lambda x: np.sum(sum(x.reshape(2, 2) * x.reshape(2, 2)) ** 2),   # sums the rows
    lambda x: divmod(x[0], 0.3)[1] * x[1] + divmod(x, 0.7)[1].sum(),
    lambda x: round(x[0], 1) * x[1] + round(x[2]) * x[3],
    lambda x: abs(x[1]) + sum(abs(x)),
    lambda x: pow(x[0], 2) + np.sum(pow(x, 3.0)),
], ids=["max-array", "min-max", "min-list", "max-tuple", "variadic", "rows", "sum", "sum-start",
        "sum-rows", "divmod", "round", "abs", "pow"])
def test_builtins_on_arrays(f):
    assert engines(f, V) == "accepted"


def test_builtin_extrema_split_ties_like_finite_differences():
    def f(x):
        return max(x[np.array([0, 1, 0])]) + min(x[2], x[2], x[3])

    x = np.array([2.0, 1.0, 0.5, 3.0])
    expected = numerical_grad(f, (x,), 0)          # [1, 0, 1, 0]: the tied items share
    assert_close(srcgrad.grad(f, engine="source")(x), expected)
    assert_close(srcgrad.jvp(f, (x,), (np.ones(4),), engine="source")[1], np.sum(expected))
    # the tape follows the item Python's comparison returns (the first of the tied ones)
    assert_close(np.sum(srcgrad.grad(f, engine="tape")(x)), np.sum(expected))


def test_builtins_forward_mode():
    f = lambda x: max(x) * min(x[0], x[1]) + sum(x * x)  # noqa: E731
    v = np.array([1.0, -2.0, 0.5, 3.0])
    _, tangent = srcgrad.jvp(f, (V,), (v,), engine="source")
    assert tangent == pytest.approx(np.dot(numerical_grad(f, (V,), 0), v))


def test_builtin_extrema_with_key_or_default_are_refused():
    def keyed(x):
        return max(x, key=abs) * 2.0

    def defaulted(x):
        return min(x, default=0.0)

    for f in (keyed, defaulted):
        with pytest.raises(TransformError, match=r"with (key|default)="):
            srcgrad.grad(f, engine="source")
        assert engines(f, V, source="refused") == "refused"


def test_builtins_that_raise_in_python_raise_the_same():
    with pytest.raises(TypeError):
        srcgrad.grad(lambda s: max(s) * 1.0, engine="source")(2.0)    # a float is not iterable
    with pytest.raises(ValueError):
        srcgrad.grad(lambda x: np.sum(max(x.reshape(2, 2))), engine="source")(V)
    with pytest.raises(TypeError):
        srcgrad.grad(lambda x: np.sum(round(x)), engine="tape")(V)


class Extended(Model):
    def one(self, x):
        return super().one(x) * 2.0 + np.sum(np.sin(x))

    @classmethod
    def from_class(cls, x):
        return super().from_class(x) + np.sum(x)


def test_super_calls_the_parent_method_bound_to_self():
    e = Extended(W)
    x = np.array([0.3, -0.8, 1.1])
    assert engines(e.one, x) == "accepted"
    assert_close(srcgrad.grad(e.one, engine="source")(x), 4 * W * x + np.cos(x))
    assert engines(Extended.from_class, x) == "accepted"


def test_zip_strict_raises_as_python_does():
    def f(xs, ys):
        total = 0.0
        for a, b in zip(xs, ys, strict=True):
            total = total + a * b
        return total

    with pytest.raises(ValueError, match="argument 2 is longer than argument 1"):
        srcgrad.grad(f, engine="source")(X, np.ones(4))
    assert engines(f, X, 2 * X) == "accepted"
