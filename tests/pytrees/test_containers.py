"""Differentiating with respect to pytrees: every container type, both engines, mixed mode.

Each gradient is checked against central differences through ``srcgrad.tree.ravel``
and against the other engine.
"""

import dataclasses
import warnings
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import FallbackWarning, TransformError

pytest.importorskip("optree")

RNG = np.random.default_rng(7)
Layer = namedtuple("Layer", "W b")


@dataclasses.dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray


@dataclasses.dataclass(frozen=True)
class Frozen:
    w: np.ndarray
    scale: float


def r(*shape):
    return RNG.normal(size=shape)


def numerical(f, tree, *rest, eps=1e-6):
    """The gradient of ``f(tree, *rest)`` by central differences, as a flat vector."""
    v, unravel = srcgrad.tree.ravel(tree)
    g = np.zeros_like(v)
    for i in range(v.size):
        e = np.zeros_like(v)
        e[i] = eps
        g[i] = (f(unravel(v + e), *rest) - f(unravel(v - e), *rest)) / (2 * eps)
    return g


def flat(tree):
    return srcgrad.tree.ravel(tree)[0]


def same_structure(a, b):
    assert srcgrad.tree.structure(a) == srcgrad.tree.structure(b)
    for x, y in zip(srcgrad.tree.leaves(a), srcgrad.tree.leaves(b), strict=True):
        assert type(x) is type(y) or (isinstance(x, np.ndarray) and isinstance(y, np.ndarray))
        assert np.shape(x) == np.shape(y)


def dict_mlp(p, x):
    h = np.tanh(x @ p["W1"] + p["b1"])
    return np.sum((h @ p["W2"] + p["b2"]) ** 2)


def list_layers(layers, x):
    for W, b in layers:
        x = np.tanh(x @ W + b)
    return np.sum(x ** 2)


def tuple_pair(p, x):
    W, b = p
    return np.sum(np.sin(x @ W) * b)


def namedtuple_fields(layer, x):
    return np.sum(np.tanh(x @ layer.W + layer.b))


def dataclass_fields(lin, x):
    return np.sum((x @ lin.W + lin.b) ** 2)


def frozen_dataclass(fr, x):
    return np.sum(np.exp(fr.w * x)) * fr.scale


def nested(p, x):
    enc, dec = p["enc"], p["dec"]
    h = np.tanh(x @ enc[0].W + enc[0].b)
    h = np.tanh(h @ enc[1].W + enc[1].b)
    return np.sum((h @ dec["W"]) ** 2) + p["scale"] * np.sum(h)


def with_none(p, x):
    return np.sum(p["w"] * x) + 0.0 * len(p)


def get_and_items(p, x):
    total = p.get("bias", 0.5)
    for _name, w in p.items():
        total = total + np.sum(np.cos(w * x))
    return total + np.sum(p.get("w") ** 2)


def comprehension(p, x):
    return sum(np.sum(w ** 2) for w in p.values()) + sum([np.sum(w * x) for w in p.values()])


def spread_keywords(p, x):
    return affine(x, **p)


def spread_positional(p, x):
    return affine(x, *p)


def affine(x, W, b):
    return np.sum(np.tanh(x @ W + b))


def alias_and_slice(layers, x):
    rest = layers[1:]
    first = layers[0]
    y = x @ first["W"]
    for layer in rest:
        y = np.tanh(y @ layer["W"])
    return np.sum(y) + len(rest)


def leaf_written_in_place(p, x):
    w = p["w"] * 1.0
    w[0] = 3.0
    return np.sum(w * x * p["w"])


def predict(p, x):
    return np.tanh(x @ p["W"] + p["b"])


def mlp_with_callees(p, x):
    h = x
    for layer in p["layers"]:
        h = predict(layer, h)
    return mse(h, p["target"])


def mse(y, t):
    return np.mean((y - t) ** 2)


def subtree_to_callee(p, x):
    return np.sum(predict(p["enc"], x)) + np.sum(p["enc"]["b"])


def constant_keys(p, x):
    total = sum(np.sum(p[k] ** 2) for k in ("W", "V"))
    for k in ["W", "V"]:
        total = total + np.sum(np.sin(p[k] * x))
    return total + np.sum(p["b"])


def list_params():
    return [(r(3, 4), r(4)), (r(4, 2), r(2))]


CASES = [
    (dict_mlp, lambda: {"W1": r(3, 4), "b1": r(4), "W2": r(4, 2), "b2": r(2)}),
    (list_layers, list_params),
    (tuple_pair, lambda: (r(3, 2), r(2))),
    (namedtuple_fields, lambda: Layer(r(3, 2), r(2))),
    (dataclass_fields, lambda: Linear(r(3, 2), r(2))),
    (frozen_dataclass, lambda: Frozen(r(3), 1.5)),
    (nested, lambda: {"enc": [Layer(r(3, 4), r(4)), Layer(r(4, 4), r(4))],
                      "dec": {"W": r(4, 2), "unused": None}, "scale": 0.7}),
    (with_none, lambda: {"w": r(3), "nothing": None}),
    (get_and_items, lambda: {"w": r(3), "v": r(3)}),
    (comprehension, lambda: {"a": r(3), "b": r(3)}),
    (spread_keywords, lambda: {"W": r(3, 2), "b": r(2)}),
    (spread_positional, lambda: [r(3, 2), r(2)]),
    (alias_and_slice, lambda: [{"W": r(3, 4)}, {"W": r(4, 4)}, {"W": r(4, 2)}]),
    (leaf_written_in_place, lambda: {"w": r(3)}),
    (mlp_with_callees, lambda: {"layers": [{"W": r(3, 4), "b": r(4)}, {"W": r(4, 2), "b": r(2)}],
                                "target": r(5, 2)}),
    (subtree_to_callee, lambda: {"enc": {"W": r(3, 4), "b": r(4)}}),
    (constant_keys, lambda: {"W": r(3), "V": r(3), "b": r(2)}),
]
IDS = [f.__name__ for f, _ in CASES]


def x_for(f):
    return r(5, 3) if f not in (frozen_dataclass, with_none, get_and_items, comprehension,
                                leaf_written_in_place, constant_keys) else r(3)


@pytest.mark.parametrize("f, make", CASES, ids=IDS)
def test_grad_matches_finite_differences_and_the_tape(f, make):
    p, x = make(), None
    x = x_for(f)
    before = flat(p).copy()
    expected = numerical(f, p, x)
    source = srcgrad.grad(f, engine="source")
    g_source = source(p, x)
    assert source.engine == "source"
    g_tape = srcgrad.grad(f, engine="tape")(p, x)
    same_structure(g_source, p)
    same_structure(g_tape, p)
    np.testing.assert_allclose(flat(g_source), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flat(g_tape), flat(g_source), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(flat(p), before)      # the user's tree is not changed


@pytest.mark.parametrize("f, make", CASES[:7], ids=IDS[:7])
def test_value_and_grad_vjp_and_auto(f, make):
    p, x = make(), x_for(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        value, g = srcgrad.value_and_grad(f)(p, x)
    assert np.isclose(value, f(p, x))
    out, pullback = srcgrad.vjp(f, p, x)
    (gp, gx) = pullback(1.0)
    same_structure(gp, p)
    np.testing.assert_allclose(flat(gp), flat(g), rtol=1e-9)
    np.testing.assert_allclose(gx, srcgrad.grad(f, argnums=1, engine="tape")(p, x), rtol=1e-9)


def test_generated_code_reads_leaves_by_name():
    g = srcgrad.grad(dict_mlp, engine="source")
    g({"W1": r(3, 4), "b1": r(4), "W2": r(4, 2), "b2": r(2)}, r(5, 3))
    assert "def dict_mlp_grad(p_W1, p_b1, p_W2, p_b2, x):" in g.source
    assert "bp_W2 = " in g.source


def test_two_tree_arguments_and_argnums_tuples():
    def f(a, scale, b):
        return np.sum(a["w"] * b[0]) * scale + np.sum(b[1] ** 2)

    a, b, s = {"w": r(3)}, [r(3), r(2)], 1.3
    for engine in ("source", "tape"):
        ga, gs, gb = srcgrad.grad(f, argnums=(0, 1, 2), engine=engine)(a, s, b)
        np.testing.assert_allclose(ga["w"], b[0] * s)
        assert isinstance(gs, float) and np.isclose(gs, np.sum(a["w"] * b[0]))
        assert isinstance(gb, list)
        np.testing.assert_allclose(gb[0], a["w"] * s)
        np.testing.assert_allclose(gb[1], 2 * b[1])
        gb2, ga2 = srcgrad.grad(f, argnums=(2, 0), engine=engine)(a, s, b)
        np.testing.assert_allclose(ga2["w"], ga["w"])
        np.testing.assert_allclose(gb2[1], gb[1])


def test_has_aux_returns_trees():
    def f(p, x):
        y = p["w"] * x
        return np.sum(y ** 2), {"y": y, "n": [1, 2]}

    p, x = {"w": r(3)}, r(3)
    for engine in ("source", "tape"):
        (g, aux) = srcgrad.grad(f, has_aux=True, engine=engine)(p, x)
        np.testing.assert_allclose(g["w"], 2 * (p["w"] * x) * x)
        np.testing.assert_allclose(aux["y"], p["w"] * x)
        assert aux["n"] == [1, 2]


def test_integer_bool_and_string_leaves_are_constants():
    def f(p, x):
        return np.sum(p["w"] * x) * p["n"] + (1.0 if p["on"] else 0.0) + len(p["name"])

    p = {"w": r(3), "n": 3, "on": True, "name": "abc", "steps": np.arange(3)}
    x = r(3)
    for engine in ("source", "tape"):
        g = srcgrad.grad(f, engine=engine)(p, x)
        assert g["n"] is None and g["on"] is None and g["name"] is None and g["steps"] is None
        np.testing.assert_allclose(g["w"], 3 * x)


@pytest.mark.parametrize("engine", ["source", "tape", "auto"])
def test_bad_leaf_is_named_by_its_path(engine):
    def f(params):
        return np.sum(params["enc"][0])

    with pytest.raises(TypeError, match=r'params\["enc"\]\[1\] is a object'):
        srcgrad.grad(f, engine=engine)({"enc": [r(2), object()]})


def test_registered_container_runs_on_the_tape_in_auto():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    srcgrad.tree.register(Pair, lambda p: ((p.a, p.b), None), lambda _, ch: Pair(*ch))

    def f(p, x):
        return np.sum(p.a * x) + np.sum(p.b ** 2)

    p, x = Pair(r(3), r(3)), r(3)
    with pytest.raises(TransformError, match="Pair"):
        srcgrad.grad(f, engine="source")(p, x)
    with pytest.warns(FallbackWarning):
        g = srcgrad.grad(f)(p, x)
    assert isinstance(g, Pair)
    np.testing.assert_allclose(g.a, x)
    np.testing.assert_allclose(g.b, 2 * p.b)
    np.testing.assert_allclose(flat(g), numerical(f, p, x), rtol=1e-5, atol=1e-6)


def test_ordered_dict_runs_on_the_tape():
    def f(p):
        return np.sum(p["a"] ** 2) + np.sum(list(p.values())[-1])

    p = OrderedDict([("a", r(2)), ("b", r(3))])
    with pytest.raises(TransformError):
        srcgrad.grad(f, engine="source")(p)
    with pytest.warns(FallbackWarning):
        g = srcgrad.grad(f)(p)
    assert type(g) is OrderedDict and list(g) == ["a", "b"]
    np.testing.assert_allclose(g["a"], 2 * p["a"])
    np.testing.assert_allclose(g["b"], np.ones(3))


def test_tensor_mode_grad_takes_a_dict_of_tensors():
    W = srcgrad.tensor(r(3, 2), requires_grad=True)
    b = srcgrad.tensor(r(2), requires_grad=True)
    x = srcgrad.tensor(r(4, 3))
    loss = ((x @ W + b) ** 2).sum()
    got = srcgrad.autograd.grad(loss, {"W": W, "b": b})
    assert list(got) == ["W", "b"]
    y = x.numpy() @ W.detach().numpy() + b.detach().numpy()
    np.testing.assert_allclose(got["W"].numpy(), 2 * x.numpy().T @ y)
    np.testing.assert_allclose(got["b"].numpy(), 2 * y.sum(axis=0))


def small(p, x):
    return np.sum(np.sin(p["a"] * x) * p["b"][0]) + p["b"][1] ** 2 * np.sum(p["a"])


def small_tree():
    return {"a": r(2), "b": (r(2), 0.7)}


@pytest.mark.parametrize("engine", ["source", "tape"])
def test_forward_mode_and_second_order_on_trees(engine):
    p, x = small_tree(), r(2)
    t = {"a": r(2), "b": (r(2), 0.3)}
    v = flat(t)
    grad = srcgrad.grad(small, engine="tape")
    g = flat(grad(p, x))
    # jvp: the gradient dotted with the tangent
    out, tangent = srcgrad.jvp(small, (p, x), (t, np.zeros(2)), engine=engine)
    assert np.isclose(out, small(p, x)) and np.isclose(tangent, g @ v)
    # jacobian of a scalar: the gradient, as a tree
    jac = srcgrad.jacobian(small, engine=engine)(p, x)
    same_structure(jac, p)
    np.testing.assert_allclose(flat(jac), g)
    # hessian: a tree of trees, [outer leaf][inner leaf], as JAX nests it
    hess = srcgrad.hessian(small, engine=engine)(p, x)
    _, unravel = srcgrad.tree.ravel(p)
    columns = []
    for i in range(v.size):
        e = np.zeros(v.size)
        e[i] = 1e-6
        columns.append((flat(grad(unravel(flat(p) + e), x)) -
                        flat(grad(unravel(flat(p) - e), x))) / 2e-6)
    numeric = np.array(columns)       # numeric[i, j] = d g_j / d v_i
    assert hess["b"][1]["a"].shape == (2,) and hess["a"]["b"][0].shape == (2, 2)
    np.testing.assert_allclose(hess["a"]["b"][0], numeric[0:2, 2:4], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hess["b"][1]["a"], numeric[4, 0:2], rtol=1e-5, atol=1e-6)
    assert np.isclose(hess["b"][1]["b"][1], numeric[4, 4], rtol=1e-5)
    # hvp: the Hessian times the tangent, shaped like the primals
    hv_p, hv_x = srcgrad.hvp(small, (p, x), (t, np.zeros(2)), engine=engine)
    same_structure(hv_p, p)
    np.testing.assert_allclose(flat(hv_p), numeric.T @ v, rtol=1e-5, atol=1e-6)


def test_hessian_nesting_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def f_jax(p):
        return jnp.sum(jnp.sin(p["a"]) * p["b"][0]) * p["b"][1]

    def f(p):
        return np.sum(np.sin(p["a"]) * p["b"][0]) * p["b"][1]

    p = {"a": r(2), "b": [r(2), 1.5]}
    expected = jax.hessian(f_jax)(jax.tree_util.tree_map(jnp.asarray, p))
    jax_leaves = [np.asarray(v) for v in jax.tree_util.tree_leaves(expected)]
    for engine in ("source", "tape"):
        got = srcgrad.hessian(f, engine=engine)(p)
        # the same nesting: [outer leaf's path][inner leaf's path]
        assert type(got["b"]) is list and type(got["b"][1]) is dict
        assert type(got["b"][1]["b"]) is list and type(got["a"]["b"]) is list
        np.testing.assert_allclose(got["b"][1]["a"], np.asarray(expected["b"][1]["a"]))
        leaves = srcgrad.tree.leaves(got)
        assert len(leaves) == len(jax_leaves)
        for mine, theirs in zip(leaves, jax_leaves, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_ravel_feeds_scipy_minimize():
    optimize = pytest.importorskip("scipy.optimize")

    def loss(p):
        return np.sum((p["w"] - 3.0) ** 2) + (p["c"] + 1.0) ** 2

    p0 = {"w": np.zeros(3), "c": 0.0, "n": 4}
    v0, unravel = srcgrad.tree.ravel(p0)
    vg = srcgrad.value_and_grad(loss)

    def fun(v):
        value, g = vg(unravel(v))
        return value, srcgrad.tree.ravel(g)[0]

    result = optimize.minimize(fun, v0, jac=True, method="L-BFGS-B")
    best = unravel(result.x)
    np.testing.assert_allclose(best["w"], 3.0, atol=1e-6)
    assert isinstance(best["c"], float) and abs(best["c"] + 1.0) < 1e-6
    assert best["n"] == 4


def test_tree_map_leaves_and_unflatten():
    p = {"b": [1.0, np.ones(2)], "a": Layer(np.zeros(2), None)}
    leaves, treedef = srcgrad.tree.flatten(p)
    assert len(leaves) == 3 and srcgrad.tree.leaves(p)[0] == 1.0   # insertion order
    back = srcgrad.tree.unflatten(treedef, leaves)
    assert list(back) == ["b", "a"] and type(back["a"]) is Layer and back["a"].b is None
    doubled = srcgrad.tree.map(lambda v, g: v - 0.5 * g, p, p)
    np.testing.assert_allclose(doubled["b"][1], 0.5 * np.ones(2))
    grads = {"b": [None, np.ones(2)], "a": Layer(np.ones(2), None)}
    stepped = srcgrad.tree.map(lambda v, g: v - g, p, grads)
    assert stepped["b"][0] == 1.0       # a None gradient leaves the leaf as it is
