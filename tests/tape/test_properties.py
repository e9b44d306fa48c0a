"""Property tests: random chains of Tensor operations, backward against finite differences.

Every operation here is smooth on its whole input domain (kinked ones such as
``relu``, ``abs`` or ``max`` are left to the example-based tests), so central
differences in float64 are a faithful reference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import srcgrad as torch


def _weights(shape) -> np.ndarray:
    n = int(np.prod(shape))
    return np.cos(np.arange(n) * 1.7 + 0.3).reshape(shape)


def _numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    t = torch.tensor(x.copy())
    buf = t.numpy()
    with torch.no_grad():
        for i in np.ndindex(x.shape):
            old = buf[i]
            buf[i] = old + eps
            plus = float(f(t).item())
            buf[i] = old - eps
            minus = float(f(t).item())
            buf[i] = old
            g[i] = (plus - minus) / (2 * eps)
    return g


def _check(analytic: np.ndarray, numeric: np.ndarray) -> None:
    scale = 1.0 + float(np.abs(numeric).max(initial=0.0))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-5 * scale)


# (name, applicable(shape), op(tensor)) -- every op keeps values finite and smooth
UNARY = [
    ("sin", lambda s: True, lambda t: t.sin()),
    ("cos", lambda s: True, lambda t: torch.cos(t)),
    ("tanh", lambda s: True, lambda t: t.tanh()),
    ("exp", lambda s: True, lambda t: (t * 0.5).exp()),
    ("sigmoid", lambda s: True, lambda t: t.sigmoid()),
    ("log", lambda s: True, lambda t: (t * t + 1).log()),
    ("sqrt", lambda s: True, lambda t: (t * t + 0.5).sqrt()),
    ("pow3", lambda s: True, lambda t: t**3 * 0.1),
    ("pow_scalar_base", lambda s: True, lambda t: 1.5**t),
    ("recip", lambda s: True, lambda t: 1 / (t * t + 1)),
    ("div", lambda s: True, lambda t: t / 3 - 2 * t),
    ("neg_sub", lambda s: True, lambda t: 1 - (-t)),
    ("softmax", lambda s: len(s) >= 1, lambda t: t.softmax(-1)),
    ("log_softmax", lambda s: len(s) >= 1, lambda t: t.log_softmax(0)),
    ("sum_all", lambda s: True, lambda t: t.sum()),
    ("sum_dim0", lambda s: len(s) >= 1, lambda t: t.sum(0)),
    ("mean_keepdim", lambda s: len(s) >= 1, lambda t: t.mean(-1, keepdim=True)),
    ("mean_all", lambda s: True, lambda t: torch.mean(t)),
    ("reshape", lambda s: True, lambda t: t.reshape(-1)),
    ("unsqueeze", lambda s: len(s) < 3, lambda t: t.unsqueeze(0)),
    ("transpose", lambda s: len(s) >= 2, lambda t: t.transpose(0, -1)),
    ("t", lambda s: len(s) == 2, lambda t: t.t()),
    ("permute", lambda s: len(s) == 3, lambda t: t.permute(2, 0, 1)),
    ("flatten", lambda s: len(s) >= 1, lambda t: t.flatten()),
    ("slice", lambda s: len(s) >= 1 and s[0] >= 2, lambda t: t[1:]),
    ("select", lambda s: len(s) >= 1, lambda t: t[0]),
    ("fancy", lambda s: len(s) >= 1, lambda t: t[[0, 0, -1]]),
    ("squeeze", lambda s: True, lambda t: t.unsqueeze(0).squeeze(0) if t.ndim < 3 else t * 1),
    ("cat", lambda s: len(s) >= 1, lambda t: torch.cat([t, t * 2], 0)),
    ("stack", lambda s: len(s) < 3, lambda t: torch.stack([t, t.sin()])),
    ("self_mul", lambda s: True, lambda t: t * t.cos()),
    ("matmul_self_t", lambda s: len(s) == 2, lambda t: t @ t.T),
    ("matvec", lambda s: len(s) == 2, lambda t: t @ t[0]),
    ("expand", lambda s: len(s) < 3, lambda t: t.expand(2, *t.shape)),
    ("where", lambda s: True, lambda t: torch.where(t > 0, t * 2, t * t)),
    ("clone", lambda s: True, lambda t: t.clone()),
]

shapes = st.sampled_from([(), (1,), (3,), (2, 3), (3, 1), (1, 4), (2, 2, 3), (2, 1, 2)])
values = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def chains(draw):
    shape = draw(shapes)
    x = draw(hnp.arrays(np.float64, shape, elements=values))
    n = draw(st.integers(1, 4))
    names = []
    s = shape
    for _ in range(n):
        options = [u for u in UNARY if u[1](s)]
        name, _, op = draw(st.sampled_from(options))
        names.append(name)
        with torch.no_grad():
            s = tuple(op(torch.zeros(s, dtype=torch.float64)).shape)
        if len(s) > 3 or int(np.prod(s)) > 40:
            break
    return x, names


_BY_NAME = {name: op for name, _, op in UNARY}


@given(chains())
def test_random_chain_backward_matches_finite_differences(case):
    x, names = case
    assume(not ("where" in names and np.any(np.abs(x) < 1e-3)))

    def f(t):
        for name in names:
            t = _BY_NAME[name](t)
        return (t * torch.tensor(_weights(tuple(t.shape)))).sum()

    xt = torch.tensor(x, requires_grad=True)
    out = f(xt)
    assert out.requires_grad, names
    out.backward()
    assert xt.grad.shape == x.shape
    _check(xt.grad.numpy(), _numeric_grad(f, x))


@given(chains())
def test_random_chain_autograd_grad_agrees_with_backward(case):
    x, names = case

    def f(t):
        for name in names:
            t = _BY_NAME[name](t)
        return (t * torch.tensor(_weights(tuple(t.shape)))).sum()

    a = torch.tensor(x, requires_grad=True)
    f(a).backward()
    b = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(f(b), b)
    np.testing.assert_array_equal(a.grad.numpy(), g.numpy())


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "maximum": lambda a, b: torch.maximum(a, b),
    "minimum": lambda a, b: torch.minimum(a, b),
    "where": lambda a, b: torch.where(a > b, a, b * 2),
    "mixed": lambda a, b: (a * b).sin() + a / (b * b + 1),
}


@given(
    hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    st.sampled_from(sorted(BINARY)),
    st.data(),
)
def test_random_broadcasting_pairs(shapes_, op_name, data):
    sa, sb = shapes_.input_shapes
    a = data.draw(hnp.arrays(np.float64, sa, elements=values))
    b = data.draw(hnp.arrays(np.float64, sb, elements=values))
    if op_name in ("maximum", "minimum", "where"):
        assume(np.all(np.abs(np.subtract(a, b)) > 1e-3))
    op = BINARY[op_name]
    w = _weights(shapes_.result_shape)

    def loss(x, y):
        return (op(x, y) * torch.tensor(w)).sum()

    at = torch.tensor(a, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    loss(at, bt).backward()
    assert at.grad.shape == sa and bt.grad.shape == sb
    bconst = torch.tensor(b)
    aconst = torch.tensor(a)
    _check(at.grad.numpy(), _numeric_grad(lambda t: loss(t, bconst), a))
    _check(bt.grad.numpy(), _numeric_grad(lambda t: loss(aconst, t), b))


@given(hnp.arrays(np.float64, st.sampled_from([(3,), (2, 2)]), elements=values),
       st.sampled_from(["sin", "tanh", "exp", "log", "recip", "self_mul", "softmax"]))
def test_second_derivatives_match_finite_differences(x, name):
    op = _BY_NAME[name]
    v = _weights(x.shape)

    def f(t):
        return (op(t) * torch.tensor(v)).sum()

    def directional(t):
        # d/dx of <grad f(x), v>, computed with the tape in create_graph mode
        with torch.enable_grad():
            t = t.detach().requires_grad_()
            (g,) = torch.autograd.grad(f(t), t, create_graph=True)
            return (g * torch.tensor(v)).sum()

    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(f(xt), xt, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.tensor(v)).sum(), xt)
    _check(hv.numpy(), _numeric_grad(directional, x))


# In-place operations on a non-leaf copy of the input; each is smooth on all values.
IN_PLACE = {
    "add_": lambda y, x: y.add_(x * 0.5),
    "mul_": lambda y, x: y.mul_(x.cos()),
    "sub_": lambda y, x: y.sub_(1.5),
    "div_": lambda y, x: y.div_(x * x + 1),
    "tanh_": lambda y, x: y.tanh_(),
    "sigmoid_": lambda y, x: y.sigmoid_(),
    "iadd": lambda y, x: y.__iadd__(x.sin()),
    "set_first": lambda y, x: y.__setitem__(0, x[-1] * 3),
    "set_slice": lambda y, x: y.__setitem__(slice(1, None), x[1:].exp()),
    "set_const": lambda y, x: y.__setitem__(-1, 2.0),
    "set_fancy": lambda y, x: y.__setitem__([0, -1], x[:1] * 2),
    "copy_": lambda y, x: y.copy_(x.sin() * 2),
    "zero_": lambda y, x: y.zero_(),
}


@given(hnp.arrays(np.float64, st.integers(2, 4), elements=values),
       st.lists(st.sampled_from(sorted(IN_PLACE)), min_size=1, max_size=5))
def test_random_in_place_sequences(x, ops):
    w = _weights(x.shape)

    def f(t):
        y = t * 1
        for name in ops:
            IN_PLACE[name](y, t)
        return (y * torch.tensor(w)).sum()

    xt = torch.tensor(x, requires_grad=True)
    f(xt).backward()
    _check(xt.grad.numpy(), _numeric_grad(f, x))
