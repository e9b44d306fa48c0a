"""Pytree outputs: ``vjp`` takes cotangents shaped like the output, ``jvp`` returns tangents
shaped like it, ``jacobian`` nests [output tree][argument tree] as JAX does.

Each function is written once over an array module and run with NumPy through both
engines (and ``auto``) and with ``jax.numpy`` through JAX; results are compared leaf by
leaf, structures included, and against central differences.
"""

import dataclasses
import warnings
from collections import namedtuple

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

pytest.importorskip("optree")

RNG = np.random.default_rng(11)
Pair = namedtuple("Pair", "first second")


@dataclasses.dataclass
class Stats:
    mean: object
    spread: object


def make(xp):
    """The functions under test, over array module ``xp``."""
    def dict_out(x):
        return {"a": xp.sin(x), "b": (x ** 2, xp.sum(x * x))}

    def tree_in_out(p):
        return {"y": p["w"] * 2.0, "z": (xp.sum(p["w"] * p["v"][0]), xp.exp(p["v"]))}

    def list_with_dict(x, y):
        return [x * y, {"k": xp.exp(x) * xp.sum(y), "j": xp.tanh(y)}]

    def nested_dicts(p, x):
        h = xp.tanh(x @ p["W"])
        return {"hidden": h, "out": {"sum": xp.sum(h ** 2), "first": h[0] * p["b"]}}

    return {"dict_out": dict_out, "tree_in_out": tree_in_out,
            "list_with_dict": list_with_dict, "nested_dicts": nested_dicts}


NP = make(np)
ARGS = {
    "dict_out": lambda: (RNG.normal(size=3),),
    "tree_in_out": lambda: ({"w": RNG.normal(size=3), "v": RNG.normal(size=2)},),
    "list_with_dict": lambda: (RNG.normal(size=3), RNG.normal(size=3)),
    "nested_dicts": lambda: ({"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)},
                             RNG.normal(size=(2, 3))),
}
NAMES = list(ARGS)
ENGINES = ["source", "tape", "auto"]


def leaves(tree):
    return srcgrad.tree.leaves(tree)


def canonical(tree):
    """``tree`` with its dicts' keys sorted (JAX sorts them; srcgrad keeps insertion order)."""
    if isinstance(tree, dict):
        return {k: canonical(tree[k]) for k in sorted(tree)}
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        return type(tree)(canonical(v) for v in tree)
    return tree


def assert_trees_close(got, expected, rtol=1e-7, atol=1e-9):
    """Same structure (containers and keys), leaves equal to tolerance."""
    got, expected = canonical(got), canonical(expected)
    assert srcgrad.tree.structure(got) == srcgrad.tree.structure(expected), (got, expected)
    for g, e in zip(leaves(got), leaves(expected), strict=True):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=rtol, atol=atol)


def random_like(tree):
    return srcgrad.tree.map(lambda v: RNG.normal(size=np.shape(v)), tree)


@pytest.fixture(scope="module")
def jax_side():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def to_jax(tree):
        return jax.tree_util.tree_map(jnp.asarray, tree)

    def to_numpy(tree):
        return jax.tree_util.tree_map(np.asarray, tree)

    return jax, make(jnp), to_jax, to_numpy


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_vjp_takes_a_cotangent_shaped_like_the_output(name, engine, jax_side):
    jax, JX, to_jax, to_numpy = jax_side
    args = ARGS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        out, pullback = srcgrad.vjp(NP[name], *args, engine=engine)
    cotangent = random_like(out)
    got = pullback(cotangent)
    j_out, j_pullback = jax.vjp(JX[name], *to_jax(args))
    expected = to_numpy(j_pullback(to_jax(cotangent)))
    assert_trees_close(out, to_numpy(j_out))
    assert_trees_close(got, expected)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_jvp_returns_tangents_shaped_like_the_output(name, engine, jax_side):
    jax, JX, to_jax, to_numpy = jax_side
    args = ARGS[name]()
    tangents = random_like(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        out, tangent = srcgrad.jvp(NP[name], args, tangents, engine=engine)
    j_out, j_tangent = jax.jvp(JX[name], to_jax(args), to_jax(tangents))
    assert_trees_close(out, to_numpy(j_out))
    assert_trees_close(tangent, to_numpy(j_tangent))


JACOBIANS = ["jacobian", "jacfwd", "jacrev"]


@pytest.mark.parametrize("kind", JACOBIANS)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_jacobian_nests_output_tree_of_argument_trees(name, engine, kind, jax_side):
    jax, JX, to_jax, to_numpy = jax_side
    args = ARGS[name]()
    nums = tuple(range(len(args)))
    for argnums in (0, nums):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            got = getattr(srcgrad, kind)(NP[name], argnums=argnums, engine=engine)(*args)
        expected = to_numpy(getattr(jax, kind)(JX[name], argnums=argnums)(*to_jax(args)))
        assert_trees_close(got, expected)


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_jacobian_of_a_tree_output_against_finite_differences(engine):
    """J contracted with a direction v, leaf by leaf, equals the central difference of f
    along v (for every output leaf)."""
    f = NP["nested_dicts"]
    p, x = ARGS["nested_dicts"]()
    jac = srcgrad.jacobian(f, engine=engine)(p, x)
    v = random_like(p)
    eps = 1e-6
    plus = f(srcgrad.tree.map(lambda a, d: a + eps * d, p, v), x)
    minus = f(srcgrad.tree.map(lambda a, d: a - eps * d, p, v), x)
    numeric = srcgrad.tree.map(lambda a, b: (a - b) / (2 * eps), plus, minus)
    contracted = srcgrad.tree.map(
        lambda blocks: sum(np.tensordot(blocks[k], v[k], axes=np.ndim(v[k])) for k in v),
        jac, is_leaf=lambda b: isinstance(b, dict) and set(b) == set(p))
    assert_trees_close(contracted, numeric, rtol=1e-5, atol=1e-6)


def namedtuple_out(x):
    return Pair(np.sin(x), x * 2.0)


def dataclass_out(x):
    return Stats(np.mean(x), np.std(x))


@pytest.mark.parametrize("f", [namedtuple_out, dataclass_out])
def test_namedtuple_and_dataclass_outputs_run_on_the_tape(f):
    """The source engine does not build user classes: a located refusal, and auto runs
    the tape (once warning); results keep the output's class."""
    x = RNG.normal(size=3)
    with pytest.raises(TransformError, match="user class"):
        srcgrad.vjp(f, x, engine="source")
    with pytest.warns(FallbackWarning):
        out, pullback = srcgrad.vjp(f, x)
    assert type(out) is type(f(x))
    cotangent = random_like(out)
    (g,) = pullback(cotangent)
    eps = 1e-6
    numeric = np.zeros(3)
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        plus, minus = leaves(f(x + e)), leaves(f(x - e))
        numeric[k] = sum(np.sum(c * (p - m) / (2 * eps))
                         for c, p, m in zip(leaves(cotangent), plus, minus, strict=True))
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    out, tangent = srcgrad.jvp(f, (x,), (np.ones(3),), engine="tape")
    assert type(tangent) is type(out)
    jac = srcgrad.jacobian(f, engine="tape")(x)
    assert type(jac) is type(out)
    for block, t in zip(leaves(jac), leaves(tangent), strict=True):
        np.testing.assert_allclose(block @ np.ones(3), t, rtol=1e-9, atol=1e-12)


def test_namedtuple_output_matches_jax(jax_side):
    jax, _, to_jax, to_numpy = jax_side
    import jax.numpy as jnp

    x = RNG.normal(size=3)
    got = srcgrad.jacobian(namedtuple_out, engine="tape")(x)
    expected = jax.jacobian(lambda v: Pair(jnp.sin(v), v * 2.0))(to_jax(x))
    assert type(got) is Pair and type(expected) is Pair
    assert_trees_close(got, to_numpy(expected))


def integer_leaves(x):
    return {"a": x * 2.0, "n": 3, "k": np.arange(2)}


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_output_leaves_follow_jax(engine, jax_side):
    """vjp ignores their cotangents, jvp gives float0 tangents, a Jacobian refuses them."""
    jax, _, to_jax, _ = jax_side
    import jax.numpy as jnp

    x = RNG.normal(size=3)
    out, pullback = srcgrad.vjp(integer_leaves, x, engine=engine)
    assert out["n"] == 3 and out["k"].dtype.kind == "i"
    (g,) = pullback({"a": np.ones(3), "n": 0, "k": np.zeros(2, int)})
    np.testing.assert_allclose(g, 2.0 * np.ones(3))
    out, tangent = srcgrad.jvp(integer_leaves, (x,), (np.ones(3),), engine=engine)
    assert out["n"] == 3 and out["k"].tolist() == [0, 1]
    _, j_tangent = jax.jvp(lambda v: {"a": v * 2.0, "n": 3, "k": jnp.arange(2)},
                           (to_jax(x),), (to_jax(np.ones(3)),))
    for key in ("n", "k"):
        assert tangent[key].dtype == jax.dtypes.float0 == srcgrad.outputs.FLOAT0
        assert np.shape(tangent[key]) == np.shape(j_tangent[key])
    np.testing.assert_allclose(tangent["a"], 2.0 * np.ones(3))
    for kind in JACOBIANS:
        with pytest.raises(TypeError, match=r'out\["n"\] is a scalar \(int\)'):
            getattr(srcgrad, kind)(integer_leaves, engine=engine)(x)


@pytest.mark.parametrize("engine", ENGINES)
def test_cotangent_must_have_the_output_structure(engine):
    out, pullback = srcgrad.vjp(NP["dict_out"], RNG.normal(size=3), engine=engine)
    reordered = {"b": (np.ones(3), 1.0), "a": np.ones(3)}       # keys in another order: fine
    pullback(reordered)
    with pytest.raises(ValueError, match="structure"):
        pullback({"a": np.ones(3)})
    with pytest.raises(ValueError, match="structure"):
        pullback({"a": np.ones(3), "b": [np.ones(3), 1.0]})


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_has_aux_dicts_holding_differentiated_values(engine):
    def f(x):
        y = np.sum(x ** 2)
        return y, {"y": y, "x": x, "double": {"x2": x * 2}}

    x = RNG.normal(size=3)
    g, aux = srcgrad.grad(f, has_aux=True, engine=engine)(x)
    np.testing.assert_allclose(g, 2 * x)
    assert_trees_close(aux, {"y": np.sum(x ** 2), "x": x, "double": {"x2": x * 2}})


def dict_item_store(x):
    d = {"a": x}
    d["b"] = x * 3.0
    return d


def computed_key(x):
    key = "k" + str(x.ndim)
    return {key: x * 2.0}


def dict_callee(x):
    return {"a": np.sin(x), "b": x * 2.0}


def key_read_from_call(x):
    r = dict_callee(x)
    return np.sum(r["a"] * r["b"])


def dict_to_call(x):
    d = {"a": x}
    return np.sum(first_value(d))


def first_value(d):
    return d["a"] * 2.0


def dict_mutated_by_method(x):
    d = {"a": x}
    d.update(b=x * 2.0)
    return d


@pytest.mark.parametrize("f, args, construct", [
    (dict_item_store, (), "an item assignment into a dict"),
    (computed_key, (), "a dict with a computed key"),
    (key_read_from_call, (), "reading the item 'a' of a value with a derivative"),
    (dict_to_call, (), "a use of d"),
    (dict_mutated_by_method, (), r"the method \.update\(\)"),
])
def test_source_engine_refuses_what_it_does_not_follow_and_auto_runs_the_tape(f, args,
                                                                             construct):
    """Each of these once gave a zero or a crash: now a located refusal, and auto runs
    the tape, whose result is checked against central differences."""
    x = RNG.normal(size=3)
    with pytest.raises(TransformError, match=construct) as info:
        srcgrad.vjp(f, x, *args, engine="source")
    assert info.value.filename == __file__
    with pytest.warns(FallbackWarning):
        out, pullback = srcgrad.vjp(f, x, *args)
    cotangent = random_like(out)
    g = pullback(cotangent)[0]
    eps = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = eps
        plus, minus = f(x + e, *args), f(x - e, *args)
        numeric = sum(np.sum(c * (p - m)) / (2 * eps) for c, p, m in
                      zip(leaves(cotangent), leaves(plus), leaves(minus), strict=True))
        np.testing.assert_allclose(g[k], numeric, rtol=1e-6, atol=1e-8)


def untransformable_dict(x):
    total = x * 1.0
    try:
        total = total * 2.0
    finally:
        pass
    return {"t": total, "s": np.sin(x)}


def calls_untransformable(x):
    y = x * 3.0
    return {"inner": untransformable_dict(y), "sum": np.sum(y)}


def test_mixed_mode_a_callee_on_the_tape_returns_a_dict():
    """The caller is generated code; the callee (a try statement) runs on the tape and
    gets its part of the caller's tree cotangent."""
    x = RNG.normal(size=3)
    with pytest.warns(FallbackWarning, match="untransformable_dict"):
        vjp_fn = srcgrad.vjp(calls_untransformable, x, engine="source")
    out, pullback = vjp_fn
    cotangent = random_like(out)
    (g,) = pullback(cotangent)
    (expected,) = srcgrad.vjp(calls_untransformable, x, engine="tape")[1](cotangent)
    c = cotangent
    by_hand = 3.0 * (2.0 * c["inner"]["t"] + np.cos(3.0 * x) * c["inner"]["s"]) + 3.0 * c["sum"]
    np.testing.assert_allclose(g, by_hand, rtol=1e-9)
    np.testing.assert_allclose(expected, by_hand, rtol=1e-9)
    with pytest.warns(FallbackWarning, match="generated tangent code"):
        out, tangent = srcgrad.jvp(calls_untransformable, (x,), (np.ones(3),), engine="source")
    np.testing.assert_allclose(tangent["inner"]["s"], 3.0 * np.cos(3.0 * x))
    np.testing.assert_allclose(tangent["sum"], 9.0)
