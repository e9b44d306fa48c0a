"""Forward-mode AD on the tape (``srcgrad.autograd.forward_ad``): tangents checked
against float64 central differences and against the source engine's forward mode,
and the cases the tape refuses.  PyTorch parity is in ``test_forward_ad_torch.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
import srcgrad as torch
from srcgrad.autograd import forward_ad as fwAD
from srcgrad.rules import registry

RNG = np.random.default_rng(7)


def _t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _tangent(f, xs, vs):
    """The tangent of ``f(*xs)`` along ``vs`` by forward AD on the tape."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(_t(x), _t(v)) for x, v in zip(xs, vs, strict=True)]
        out = f(*duals)
        primal, tangent = fwAD.unpack_dual(out)
        return primal.numpy().copy(), None if tangent is None else tangent.numpy().copy()


def _central(f, xs, vs, h=1e-6):
    plus = f(*[_t(x + h * v) for x, v in zip(xs, vs, strict=True)]).numpy()
    minus = f(*[_t(x - h * v) for x, v in zip(xs, vs, strict=True)]).numpy()
    return (plus - minus) / (2 * h)


X = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 2))
FUNCTIONS = {
    "elementwise": (lambda x, w: (x.sin() * x.exp() - x.tanh() / (1 + x * x)).cos(), (X, W)),
    "powers": (lambda x, w: (x * x + 1) ** 1.5 + 2.0 ** x - 1 / (x.abs() + 1), (X, W)),
    "matmul": (lambda x, w: (x @ w).tanh() @ w.T, (X, W)),
    "reductions": (lambda x, w: x.sum(0) * x.mean(1, keepdim=True) + x.prod(1, keepdim=True)
                   + x.var(1, keepdim=True) + x.std(), (X, W)),
    "max_min": (lambda x, w: x.max(1)[0] - x.min(0)[0].sum() + x.amax(1) * x.max(), (X, W)),
    "norm_softmax": (lambda x, w: x.softmax(1) * x.norm() + x.log_softmax(0), (X, W)),
    "repeated_indices": (lambda x, w: x[[0, 0, 2, 0], [1, 1, 3, 1]] * x[0, 1], (X, W)),
    "slices_and_masks": (lambda x, w: x[1:, ::2].sum() + x[x > 0].sum() * x[..., -1], (X, W)),
    "views": (lambda x, w: x.reshape(2, 6).T.reshape(12)[::3] * x.flatten()[2]
              + x.t().contiguous().view(-1)[5], (X, W)),
    "broadcasting": (lambda x, w: x * w.sum(1)[None, :] + x[:1] - w.T[:, :1].sum(), (X, W)),
    "joins": (lambda x, w: torch.cat([x, x.exp()], 1)[:, 2:6]
              + torch.stack([x, x * x]).sum(0), (X, W)),
    "numpy_on_tensors": (lambda x, w: np.sum(np.sin(x) @ np.cos(w), axis=1)
                         + np.concatenate([x, x], 1)[:, 1], (X, W)),
    "splits": (lambda x, w: x.split(2, 1)[1] * x.chunk(2, 1)[0], (X, W)),
    "sort_gather": (lambda x, w: x.sort(1)[0] + x.gather(1, torch.tensor(
        [[0, 0, 3, 1]] * 3)), (X, W)),
    "where_clamp": (lambda x, w: torch.where(x > 0, x.clamp(0.1, 0.9), x ** 3), (X, W)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_tangents_match_central_differences(name):
    f, xs = FUNCTIONS[name]
    vs = [RNG.standard_normal(np.shape(x)) for x in xs]
    primal, tangent = _tangent(f, xs, vs)
    np.testing.assert_allclose(primal, f(*[_t(x) for x in xs]).numpy())
    np.testing.assert_allclose(tangent, _central(f, xs, vs), rtol=1e-6, atol=1e-7)


def _numpy_function(x, w):
    h = np.tanh(x @ w)
    return np.sum(h * h, axis=0) + np.max(x) * np.sum(np.exp(-x ** 2))


def test_tangents_are_the_source_engines_forward_mode():
    vx, vw = RNG.standard_normal(X.shape), RNG.standard_normal(W.shape)
    out, want = srcgrad.jvp(_numpy_function, (X, W), (vx, vw), engine="source")
    primal, got = _tangent(_numpy_function, (X, W), (vx, vw))
    np.testing.assert_allclose(primal, out)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_tangent_sums_over_several_dual_inputs_and_leaves_constants_alone():
    a = RNG.standard_normal(5)
    with fwAD.dual_level():
        x = fwAD.make_dual(_t(a), _t(np.ones(5)))
        y = fwAD.make_dual(_t(a), _t(2 * np.ones(5)))
        c = _t(a)
        out = x * y + c * c
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(), 3 * a)
        assert fwAD.unpack_dual(c * c).tangent is None
        assert fwAD.unpack_dual(x > 0).tangent is None       # comparisons carry none
        assert fwAD.unpack_dual(x.argmax()).tangent is None


def test_tangents_of_integer_outputs_are_none_and_values_carry_theirs():
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([[1.0, 5.0, 2.0]]), _t([[0.1, 0.2, 0.3]]))
        values, indices = x.max(1)
        assert fwAD.unpack_dual(indices).tangent is None
        assert fwAD.unpack_dual(values).tangent.tolist() == [0.2]


def test_tangents_vanish_when_the_level_exits():
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0, 2.0]), _t([3.0, 4.0]))
        y = x * 2
    assert fwAD.unpack_dual(x).tangent is None and fwAD.unpack_dual(y).tangent is None
    assert "tangent" not in repr(y)
    with fwAD.dual_level():                   # a new level does not see the old tangents
        assert fwAD.unpack_dual(y).tangent is None
        assert fwAD.unpack_dual(y * 3).tangent is None


def test_dual_level_as_a_decorator_and_level_numbers():
    @fwAD.dual_level()
    def tangent_of_square(a, v):
        return fwAD.unpack_dual(fwAD.make_dual(a, v) ** 2).tangent

    assert tangent_of_square(_t([3.0]), _t([1.0])).tolist() == [6.0]
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level(level=0)


@pytest.fixture
def local_rules():
    """Primitives a test registers rules for, removed afterwards (the registry's walks
    in other test modules see only srcgrad's own rules)."""
    funs: list = []
    yield funs
    for fun in funs:
        registry._RULES.pop(fun, None)
    registry.GENERATION[0] += 1


def test_a_rule_without_a_jvp_is_refused_with_its_name(local_rules):
    @srcgrad.primitive
    def cube(x):
        return x ** 3

    local_rules.append(cube)

    srcgrad.defvjp(cube, lambda g, ans, x: 3 * g * x ** 2)
    x = _t([2.0], requires_grad=True)
    cube(x).sum().backward()                     # reverse mode works
    assert x.grad.tolist() == [12.0]
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([2.0]), _t([1.0]))
        with pytest.raises(NotImplementedError, match=r"Trying to use forward AD with .*cube"
                           r".* srcgrad.defjvp"):
            cube(d)
        assert fwAD.unpack_dual(cube(_t([2.0]))).tangent is None   # no tangent: no JVP
    srcgrad.defjvp(cube, lambda dx, ans, x: 3 * dx * x ** 2)
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([2.0]), _t([1.0]))
        assert fwAD.unpack_dual(cube(d)).tangent.tolist() == [12.0]


def test_complex_values_are_refused_by_real_only_rules():
    with fwAD.dual_level():
        z = fwAD.make_dual(torch.tensor([1 + 2j]), torch.tensor([1 + 0j]))
        with pytest.raises(TypeError, match="real values only"):
            torch.tensor([1.0]).maximum(z)


def test_forward_over_reverse_gives_hessian_vector_products():
    def f(x):
        return (x.sin() * x.exp()).sum() + (x ** 3).sum() * x.prod()

    a, v = RNG.standard_normal(4), RNG.standard_normal(4)
    x = _t(a, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _t(v))
        for create_graph in (False, True):
            (g,) = torch.autograd.grad(f(d), x, create_graph=create_graph)
            hv = fwAD.unpack_dual(g).tangent.detach().numpy()

            def gradient(b):
                xb = _t(b, requires_grad=True)
                (gb,) = torch.autograd.grad(f(xb), xb)
                return gb.numpy()

            h = 1e-6
            want = (gradient(a + h * v) - gradient(a - h * v)) / (2 * h)
            np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)


def test_reverse_over_forward_differentiates_the_tangent():
    a, v = RNG.standard_normal(3), RNG.standard_normal(3)
    x = _t(a, requires_grad=True)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual((fwAD.make_dual(x, _t(v)).sin() ** 2).sum()).tangent
    (g,) = torch.autograd.grad(jvp, x)     # d/dx of v . grad f(x) = H v
    np.testing.assert_allclose(g.numpy(), 2 * np.cos(2 * a) * v, rtol=1e-12)


def test_a_backward_pass_through_a_tangent_computation_gives_no_tangents():
    # the gradient of a tangent would need the tangent's own tangent (a second level)
    x = _t([0.5, 1.5], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _t([1.0, 1.0]))
        y = (d ** 3).sum()
        yt = fwAD.unpack_dual(y).tangent
        (g,) = torch.autograd.grad(y + yt, x)
        np.testing.assert_allclose(g.numpy(), 3 * np.array([0.25, 2.25]) + 6 * np.array(
            [0.5, 1.5]))
        assert fwAD.unpack_dual(g).tangent is None


def test_in_place_change_of_an_indexed_view_updates_the_bases_tangent():
    base = _t(np.zeros((2, 3)))
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([1.0, 2.0, 3.0]), _t([1.0, 1.0, 1.0]))
        row, col = base[1], base[:, 2]
        row.add_(d * d)                          # row's change reaches base and col
        col.mul_(d[:2])
        tb = fwAD.unpack_dual(base).tangent.numpy()
        np.testing.assert_allclose(tb, [[0, 0, 0], [2, 4, 6 * 2 + 9 * 1]])
        np.testing.assert_allclose(fwAD.unpack_dual(row).tangent.numpy(), tb[1])
        np.testing.assert_allclose(fwAD.unpack_dual(col).tangent.numpy(), tb[:, 2])


def test_in_place_change_through_a_reshaped_view_needs_a_tangent_it_shares():
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([1.0, 2.0, 3.0, 4.0]), _t([1.0, 0.0, 0.0, 1.0]))
        e = d * 1.0
        r = e.reshape(2, 2)                      # its tangent is a view of e's
        r.mul_(3)
        np.testing.assert_allclose(fwAD.unpack_dual(e).tangent.numpy(), [3, 0, 0, 3])
        plain = _t(np.zeros(4))
        with pytest.raises(RuntimeError, match="not made by indexing its base"):
            plain.reshape(2, 2).add_(d.reshape(2, 2))
        np.testing.assert_allclose(plain.numpy(), np.zeros(4))


def test_a_reshaped_view_of_a_base_changed_in_place_refuses_its_old_tangent():
    with fwAD.dual_level():
        d = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        base = _t([5.0, 6.0])
        view = base.reshape(2, 1)
        base.mul_(d)                             # base gets a tangent view cannot follow
        assert fwAD.unpack_dual(base).tangent.tolist() == [5.0, 6.0]
        with pytest.raises(RuntimeError, match="out of date"):
            view + 1
        fresh = base.reshape(2, 1)
        assert fwAD.unpack_dual(fresh).tangent.tolist() == [[5.0], [6.0]]


def test_in_place_change_of_a_tensor_that_requires_grad_records_and_carries():
    x = _t([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _t([1.0, -1.0]))
        y = d * 1.0
        y.mul_(d)                                # y = x * x, tangent 2 x v
        assert fwAD.unpack_dual(y).tangent.tolist() == [2.0, -4.0]
        with pytest.raises(RuntimeError, match="leaf Variable"):
            d.mul_(2)                            # a view of a leaf that requires grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_gradcheck_checks_forward_mode_of_custom_functions():
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not called: check_backward_ad=False")

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 2 * x * t

    class Wrong(Square):
        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return x * t

    x = _t([0.5, -1.5, 2.0], requires_grad=True)
    assert torch.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True,
                                    check_backward_ad=False)
    with pytest.raises(torch.autograd.GradcheckError, match="forward mode"):
        torch.autograd.gradcheck(Wrong.apply, (x,), check_forward_ad=True,
                                 check_backward_ad=False)
    assert torch.autograd.gradcheck(lambda a: (a.sin() * a).cumsum(0), (x,),
                                    check_forward_ad=True)


def test_a_tangent_at_an_argument_without_any_derivative_is_refused(local_rules):
    @srcgrad.primitive
    def scaled(x, k):
        return x * k

    local_rules.append(scaled)

    srcgrad.defrule(scaled, vjps=(lambda g, ans, x, k: g * k,),
                    jvps=(lambda dx, ans, x, k: dx * k,))
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0, 2.0]), _t([1.0, 1.0]))
        assert fwAD.unpack_dual(scaled(x, 3.0)).tangent.tolist() == [3.0, 3.0]
        with pytest.raises(srcgrad.errors.MissingDerivativeError, match="no JVP for its "
                           "argument 1"):
            scaled(_t([1.0, 2.0]), x)


def test_a_long_level_forgets_the_tensors_that_died():
    with fwAD.dual_level():
        x = fwAD.make_dual(_t([1.0]), _t([1.0]))
        for _ in range(5000):
            x = x * 1.0001
        assert len(fwAD._TRACKED) < 2100
        assert fwAD.unpack_dual(x).tangent.item() == pytest.approx(1.0001 ** 5000)
