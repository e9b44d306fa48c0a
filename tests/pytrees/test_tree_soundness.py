"""Trees are mutable and their classes can change how they are read: the source engine
models the reads exactly or refuses, and never reuses code made for another structure."""

import dataclasses
import warnings
from collections import namedtuple

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

from .test_containers import flat, numerical, r

pytest.importorskip("optree")

P = namedtuple("P", "w b")


def order_dependent(p):
    total = 0.0
    for _name, w in p.items():
        total = total * 2.0 + np.sum(np.sin(w))
    return total


def test_key_order_and_key_sets_get_their_own_code():
    g = srcgrad.grad(order_dependent, engine="source")
    a, b, c = r(2), r(3), r(1)
    for p in ({"a": a, "b": b}, {"b": b, "a": a}, {"a": a, "b": b, "c": c}, {"c": c}):
        got = g(p)
        assert list(got) == list(p)
        np.testing.assert_allclose(flat(got), numerical(order_dependent, p), rtol=1e-6)
    # the first structure again, after the others
    p = {"a": a, "b": b}
    np.testing.assert_allclose(g(p)["a"], 2.0 * np.cos(a))


def lengths(layers):
    y = 1.0
    for w in layers:
        y = y * np.sum(w)
    return y + len(layers)


def test_lists_of_other_lengths():
    g = srcgrad.grad(lengths, engine="source")
    for n in (1, 3, 2, 0, 3):
        layers = [r(2) for _ in range(n)]
        got = g(layers)
        assert isinstance(got, list) and len(got) == n
        if n:
            np.testing.assert_allclose(flat(got), numerical(lengths, layers), rtol=1e-6)


def first_item(p):
    return np.sum(p[0] ** 2) + np.sum(p[1])


def test_namedtuple_and_tuple_are_different_structures():
    g = srcgrad.grad(first_item, engine="source")
    w, b = r(3), r(2)
    got_tuple = g((w, b))
    got_named = g(P(w, b))
    assert type(got_tuple) is tuple and type(got_named) is P
    np.testing.assert_allclose(got_named.w, 2 * w)
    np.testing.assert_allclose(got_tuple[0], 2 * w)


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_the_same_array_twice_gets_one_gradient_per_leaf(engine):
    def f(p):
        return np.sum(2.0 * p["a"]) + np.sum(p["b"] ** 2)

    w = r(3)
    got = srcgrad.grad(f, engine=engine)({"a": w, "b": w})
    np.testing.assert_allclose(got["a"], 2.0 * np.ones(3))
    np.testing.assert_allclose(got["b"], 2 * w)


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_a_leaf_viewing_another(engine):
    def f(p):
        return np.sum(p["a"] * 3.0) + np.sum(np.sin(p["b"]))

    w = r(4)
    got = srcgrad.grad(f, engine=engine)({"a": w, "b": w[1:3]})
    np.testing.assert_allclose(got["a"], 3.0 * np.ones(4))
    np.testing.assert_allclose(got["b"], np.cos(w[1:3]))


def test_an_in_place_write_into_a_leaf_sharing_memory_is_refused():
    def f(p):
        p["a"][0] = 5.0
        return np.sum(p["a"] * p["b"])

    w = np.ones(3)
    with pytest.raises(TransformError, match="share its memory"):
        srcgrad.grad(f, engine="source")({"a": w, "b": w[:]})
    np.testing.assert_array_equal(w, np.ones(3))


MUTATIONS = {
    "item write": "def f(p):\n    p['w'] = p['w'] * 2.0\n    return np.sum(p['w'])\n",
    "append": "def f(p):\n    p['l'].append(p['w'])\n    return np.sum(p['w'])\n",
    "del": "def f(p):\n    del p['l']\n    return np.sum(p['w'])\n",
    "setdefault": "def f(p):\n    return np.sum(p.setdefault('w', 1.0))\n",
    "update": "def f(p):\n    p.update(w=1.0)\n    return np.sum(p['w'])\n",
    "alias write": "def f(p):\n    q = p\n    q['w'] = 2.0 * q['w']\n    return np.sum(p['w'])\n",
    "augmented": "def f(p):\n    p['w'] += 1.0\n    return np.sum(p['w'])\n",
    "aliased list": "def f(p):\n    l = p['l']\n    l += [p['w']]\n    return np.sum(p['w'])\n",
    "identity": "def f(p):\n    q = p\n    return np.sum(p['w']) if q is p else 0.0\n",
    "callee returns it": "def f(p):\n    return np.sum(g(p)['w'])\n\n"
                         "def g(p):\n    return p\n",
    "kept in a list": "def f(p):\n    q = [p]\n    return np.sum(q[0]['w'])\n",
    "in a list": "def f(p):\n    return np.sum([p][0]['w'])\n",
    "branch rebinding": "def f(p, c=True):\n    if c:\n        p = {'w': 1.0}\n"
                        "    return np.sum(p['w'])\n",
    "nested function": "def f(p):\n    h = lambda: p['w']\n    return np.sum(h())\n",
    "dynamic key": "def f(p, k='w'):\n    return np.sum(p[k])\n",
    "missing key": "def f(p):\n    return np.sum(p['nope'])\n",
}


def _load(source, tmp_path, name):
    path = tmp_path / f"{name.replace(' ', '_')}.py"
    path.write_text("import numpy as np\n\n" + source)
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_container_mutation_and_escape_are_refused_and_the_tape_is_right(name, tmp_path):
    f = _load(MUTATIONS[name], tmp_path, name)
    p = {"w": r(3), "l": [r(3)]}
    before = {"w": p["w"].copy(), "l": list(p["l"])}
    with pytest.raises(TransformError) as info:
        srcgrad.grad(f, engine="source")(p)
    assert info.value.lineno and info.value.filename.endswith(".py")
    # the user's tree is never changed: the function got a rebuilt one
    assert set(p) == {"w", "l"} and len(p["l"]) == 1 and p["l"][0] is before["l"][0]
    np.testing.assert_array_equal(p["w"], before["w"])
    raised = {"missing key": KeyError, "augmented": RuntimeError}   # (the tape's own errors)
    if name in raised:
        with pytest.raises(raised[name]), warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            srcgrad.grad(f)(p)
        return
    with pytest.warns(FallbackWarning):
        got = srcgrad.grad(f)(p)
    np.testing.assert_allclose(flat(got), numerical(f, p), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p["w"], before["w"])


class Props:
    pass


@dataclasses.dataclass
class WithProperty:
    w: np.ndarray

    @property
    def doubled(self):
        return 2 * self.w


@dataclasses.dataclass
class Shadowed:
    w: np.ndarray


class _Twice:
    def __get__(self, obj, kind=None):
        return 2 * obj.__dict__["w"]

    def __set__(self, obj, value):
        obj.__dict__["w"] = value


@dataclasses.dataclass
class WithGetattr:
    w: np.ndarray

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        return value * 2 if name == "w" else value


class NamedWithProperty(P):
    @property
    def w(self):
        return 10 * self[0]


class NamedWithGetitem(P):
    def __getitem__(self, i):
        return 3 * tuple.__getitem__(self, i)


@pytest.mark.parametrize("make", [
    lambda w: WithGetattr(w),
    lambda w: NamedWithProperty(w, w),
    lambda w: NamedWithGetitem(w, w),
], ids=["dataclass __getattribute__", "namedtuple property", "namedtuple __getitem__"])
def test_classes_changing_reads_are_refused_and_the_tape_is_right(make):
    def f(p):
        return np.sum(p.w ** 2) if not isinstance(p, tuple) else np.sum(p.w * p[1])

    w = r(3)
    p = make(w)
    with pytest.raises(TransformError, match="namedtuples and plain dataclasses"):
        srcgrad.grad(f, engine="source")(p)
    with pytest.warns(FallbackWarning):
        got = srcgrad.grad(f)(p)
    np.testing.assert_allclose(flat(got), numerical(f, p), rtol=1e-5, atol=1e-6)


def test_dataclass_property_read_is_refused_fields_are_read():
    def f(p):
        return np.sum(p.doubled) + np.sum(p.w)

    p = WithProperty(r(3))
    with pytest.raises(TransformError, match=r"attribute \.doubled"):
        srcgrad.grad(f, engine="source")(p)
    with pytest.warns(FallbackWarning):
        got = srcgrad.grad(f)(p)
    np.testing.assert_allclose(got.w, 3 * np.ones(3))


def test_dict_subclass_is_a_leaf_named_by_path():
    class Special(dict):
        def __getitem__(self, k):
            return 2 * dict.__getitem__(self, k)

    def f(params):
        return np.sum(params["inner"]["w"])

    with pytest.raises(TypeError, match=r'params\["inner"\] is a Special'):
        srcgrad.grad(f)({"inner": Special(w=r(2))})


def test_a_generated_function_is_never_reused_for_another_structure():
    def f(p):
        return np.sum(p[0] * 2.0) + np.sum(p[-1] * 3.0)

    g = srcgrad.grad(f, engine="source")
    a, b, c = r(2), r(2), r(2)
    np.testing.assert_allclose(g([a, b])[1], 3.0 * np.ones(2))
    got = g([a, b, c])
    np.testing.assert_allclose(got[1], np.zeros(2))
    np.testing.assert_allclose(got[2], 3.0 * np.ones(2))
    got = g((a,))
    np.testing.assert_allclose(got[0], 5.0 * np.ones(2))


def test_a_callee_changing_its_container_sends_the_caller_to_the_tape(tmp_path):
    f = _load("def f(p):\n    return g(p) + np.sum(p['w'])\n\n"
              "def g(p):\n    p['w'] = p['w'] * 2.0\n    return np.sum(p['w'] ** 2)\n",
              tmp_path, "callee_mutates")
    p = {"w": r(3), "l": [r(3)]}
    before = p["w"].copy()
    with pytest.raises(TransformError, match="write into the container"):
        srcgrad.grad(f, engine="source")(p)
    with pytest.warns(FallbackWarning):
        got = srcgrad.grad(f)(p)
    # what Python computes: g doubles the caller's p["w"] first, f then reads the doubled one
    np.testing.assert_allclose(got["w"], 8 * before + 2.0)
    np.testing.assert_array_equal(p["w"], before)


def _star_callee(*xs):
    return xs[0] * 2.0


def _calls_star_callee(x):
    return np.sum(_star_callee(x))


def test_an_active_value_passed_to_star_args_is_refused_not_zero():
    # (its gradient was silently zero: *args has no parameter the callee is differentiated by)
    x = r(3)
    with pytest.raises(TransformError, match=r"\*xs"):
        srcgrad.grad(_calls_star_callee, engine="source")(x)
    with pytest.warns(FallbackWarning):
        np.testing.assert_allclose(srcgrad.grad(_calls_star_callee)(x), 2.0 * np.ones(3))
