"""Tensor mode against real PyTorch (skipped when PyTorch is not installed).

The same expressions run in both on the same float64 data: values, gradients,
node names and the whole ``next_functions`` structure must agree, and so must
second derivatives computed with ``create_graph=True``.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad as sg

from .test_parity_literals import ERRORS, INPLACE, NODES, REPRS

real = pytest.importorskip("torch")


def _structure(fn, depth=0):
    """The graph below ``fn`` as nested (name, ((child, index), ...)) tuples."""
    if fn is None:
        return None
    name = type(fn).__name__
    if name == "AccumulateGrad" or depth > 12:
        return name
    return (name, tuple((_structure(f, depth + 1), i) for f, i in fn.next_functions))


def _data(seed):
    rng = np.random.default_rng(seed)
    return {"x": rng.uniform(0.05, 0.95, 3), "y": rng.uniform(0.05, 0.95, 3),
            "m": rng.uniform(0.05, 0.95, (3, 3))}


def _run(lib, expr, data, weights_seed):
    leaves = {k: lib.tensor(v.copy(), requires_grad=True) for k, v in data.items()}
    out = eval(expr, {"torch": lib, **leaves})
    value = out.detach().numpy().copy()
    structure = _structure(out.grad_fn)
    w = np.random.default_rng(weights_seed).standard_normal(value.shape)
    (out * lib.tensor(w)).sum().backward()
    grads = {k: (None if t.grad is None else t.grad.numpy().copy()) for k, t in leaves.items()}
    return value, structure, grads


def _compare(expr, seed, rtol=1e-10):
    data = _data(seed)
    v1, s1, g1 = _run(sg, expr, data, seed)
    v2, s2, g2 = _run(real, expr, data, seed)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-14, err_msg=expr)
    for k in data:
        if g2[k] is None:
            assert g1[k] is None or not np.any(g1[k]), (expr, k)
        else:
            assert g1[k] is not None, (expr, k)
            np.testing.assert_allclose(g1[k], g2[k], rtol=rtol, atol=1e-12, err_msg=expr)
    return s1, s2


_CHAINED = {"m[0, 1]"}  # PyTorch chains two SelectBackward0 nodes; the tape records one


@pytest.mark.parametrize("expr", [n[0] for n in NODES])
def test_literal_expressions(expr):
    s1, s2 = _compare(expr, seed=len(expr))
    if expr not in _CHAINED:
        assert s1 == s2


# random compositions of operations both libraries spell the same way
# (torch.outer is left out: PyTorch records it as a MulBackward0 of views)
_UNARY = ["({a}).sin()", "({a}).exp()", "torch.tanh({a})", "({a}).sigmoid()", "({a}) ** 2",
          "2 - ({a})", "({a}) / 3", "({a}).relu()", "({a}).abs()", "({a}).clamp(0.2, 0.8)",
          "({a}).softmax(0)", "({a}).log_softmax(0)", "(({a}) ** 2 + 0.1).sqrt()", "-({a})",
          "({a}).cos()",
          "({a}).flip(0)", "({a})[[2, 0, 1]]", "({a}).sigmoid().log1p()", "({a}).pow(3)"]
_BINARY = ["({a}) + ({b})", "({a}) * ({b})", "({a}) - ({b})", "({a}) / (({b}) + 1)",
           "torch.maximum({a}, {b})", "torch.minimum({a}, {b})",
           "torch.where({a} > {b}, {a}, {b})", "torch.cat([{a}, {b}])[1:4]",
           "torch.stack([{a}, {b}]).sum(0)", "torch.stack([{a}, {b}]).mean(0)",
           "({a}) * ({a}).dot({b})",
           "(torch.stack([{a}, {b}]).t() @ torch.stack([{b}, {a}])).sum(1)"]
_LEAVES = ["x", "y", "m @ x", "m.sum(0)", "m[1]", "m.t() @ y", "m.mean(1)", "m.max(0)[0]",
           "m.amax(1)", "x.unsqueeze(0).squeeze(0)", "m.view(9)[:3]", "m.T[0]"]


def _random_expr(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        return _LEAVES[rng.integers(len(_LEAVES))]
    if rng.random() < 0.55:
        return _UNARY[rng.integers(len(_UNARY))].format(a=_random_expr(rng, depth - 1))
    return _BINARY[rng.integers(len(_BINARY))].format(a=_random_expr(rng, depth - 1),
                                                      b=_random_expr(rng, depth - 1))


_RANDOM = [_random_expr(np.random.default_rng(i), 4) for i in range(60)]


@pytest.mark.parametrize("expr", _RANDOM)
def test_random_expressions(expr):
    s1, s2 = _compare(expr, seed=abs(hash(expr)) % 1000)
    assert s1 == s2


# -- second derivatives -----------------------------------------------------------------------

_SCALAR = [
    "(x ** 3).sum()",
    "(x.sin() * y).sum()",
    "(x.exp() * y.exp()).sum() / (x * y).sum()",
    "(m @ x).tanh().sum()",
    "((m @ x) * y).sum() ** 2",
    "x.softmax(0).dot(y)",
    "x.log_softmax(0).mul(y).sum()",
    "(x * y).mean() * x.sum()",
    "x.sigmoid().prod()",
    "(m.t() @ m @ x).dot(x)",
    "torch.stack([x, y]).pow(2).sum(0).sqrt().sum()",
    "(x / (y + 1)).sum() + (x ** y).sum()",
    "x.cumsum(0).exp().sum()",
    "(x.unsqueeze(1) * m).sum() ** 2",
    "(m[0] * x + m[:, 1] * y).cos().sum()",
    "torch.where(x > y, x * x, y.exp()).sum()",
    "torch.maximum(x * y, x.sin()).pow(2).sum()",
    "torch.cat([x * y, m.view(9)]).exp().sum()",
    "(m * m).amax(1).dot(x ** 2)",
    "(x.clamp(0.2, 0.8) * y).pow(3).sum() + (x - y).abs().pow(3).sum()",
    "(x - 0.5).relu().pow(2).sum() + (m.max(0)[0] * x).sum() ** 2",
    "(m[[0, 2]] ** 2).sum() * x[1:].prod()",
    "((x * 1).sin() * y).sum() + (m.softmax(1) * m).sum()",
    "m.logsumexp(1).dot(x)",
    "(m.var(0) * x).sum() + m.std()",
    "(1 / x + 2 ** y + x ** y).sum()",
]


def _second(lib, expr, data, v):
    leaves = {k: lib.tensor(a.copy(), requires_grad=True) for k, a in data.items()}
    out = eval(expr, {"torch": lib, **leaves})
    xs = [leaves["x"], leaves["y"], leaves["m"]]
    grads = lib.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    total = 0
    for g, k in zip(grads, "xym", strict=True):
        if g is not None and g.requires_grad:
            total = total + (g * lib.tensor(v[k])).sum()
    if isinstance(total, int):
        return [None, None, None], [g.detach().numpy() if g is not None else None for g in grads]
    hv = lib.autograd.grad(total, xs, allow_unused=True)
    return ([None if h is None else h.numpy() for h in hv],
            [None if g is None else g.detach().numpy() for g in grads])


@pytest.mark.parametrize("expr", _SCALAR)
def test_double_backward(expr):
    data = _data(11)
    rng = np.random.default_rng(5)
    v = {k: rng.standard_normal(a.shape) for k, a in data.items()}
    h1, g1 = _second(sg, expr, data, v)
    h2, g2 = _second(real, expr, data, v)
    for a, b in zip(g1 + h1, g2 + h2, strict=True):
        if b is None or not np.any(b):
            assert a is None or not np.any(a), expr
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=expr)


def test_functional_hessian_against_torch():
    data = _data(2)
    f = "(x.exp() * x.sin()).sum() + (x ** 3).prod()"
    h1 = sg.autograd.functional.hessian(lambda x: eval(f, {"x": x}), sg.tensor(data["x"]))
    h2 = real.autograd.functional.hessian(lambda x: eval(f, {"x": x}), real.tensor(data["x"]))
    np.testing.assert_allclose(h1.numpy(), h2.numpy(), rtol=1e-10)


# -- the recorded literals are what PyTorch says ------------------------------------------------


@pytest.mark.parametrize(("case", "code", "kind", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_recorded_error_texts_are_pytorchs(case, code, kind, message):
    from torch.autograd import Function

    ns = {"torch": real, "Function": Function}
    with pytest.raises(kind) as info:
        exec(code, ns)
    assert str(info.value).replace("torch.", "srcgrad.") == message


@pytest.mark.parametrize(("expr", "text"), REPRS, ids=[r[0] for r in REPRS])
def test_recorded_reprs_are_pytorchs(expr, text):
    real.set_printoptions(profile="default")
    assert repr(eval(expr, {"torch": real})).replace("torch.", "srcgrad.") == text


def test_recorded_node_literals_are_pytorchs():
    for expr, name, nexts in NODES:
        leaves = {k: real.tensor(v, requires_grad=True) for k, v in _data(0).items()}
        out = eval(expr, {"torch": real, **leaves})
        assert type(out.grad_fn).__name__ == name
        assert tuple((None if f is None else type(f).__name__, i)
                     for f, i in out.grad_fn.next_functions) == nexts


# More of the API, compared for values and gradients; the graph structure too except where
# PyTorch records a different decomposition (listed with the reason).
_EXTRA = [
    "m.sum((0, 1))", "m.mean(1, keepdim=True)", "m.max(1, keepdim=True)[0]", "m.min(0).values",
    "m.var(0)", "m.std()", "m.prod(1)", "m.norm()", "m.cumsum(1)", "m.flip(0)", "m.roll(1, 0)",
    "m.tril()", "m.triu(1)", "m.diag()", "m.trace()", "m.split(1)[1]", "m.chunk(3, 1)[2]",
    "m.unbind(0)[1]", "m.gather(1, torch.tensor([[0], [2], [1]]))",
    "m.index_select(0, torch.tensor([2, 0]))", "m.masked_fill(m > 0.5, 0.0)", "m.expand(2, 3, 3)",
    "x.expand_as(m)", "x.repeat(2)", "m.logsumexp(1)", "x.clamp(max=0.5)",
    "torch.clamp(x, 0.1, 0.6)", "x.clamp_min(0.3)", "m.reshape(-1, 1)",
    "m.view(3, 3, 1).squeeze(-1)", "m[1:, :2]", "m[..., None]", "m[torch.tensor([0, 2])]",
    "m[m > 0.5]", "m[[0, 1], [1, 2]]", "torch.einsum('ij,j->i', m, x)", "x.exp2()", "x.tan()",
    "x.atan()", "x.asin()", "x.sinh()", "x.cosh()", "x.rsqrt()", "x.log2()", "x.log10()",
    "x.expm1()", "torch.where(x > 0.5, x, 0.0)", "m.softmax(0)", "m.log_softmax(-1)", "m.mT",
    "m.permute(1, 0).reshape(9)", "torch.stack([x, y], 1)", "torch.cat([m, m], 1)",
    "x.mul(y).add(1).sub(y).div(2)", "x.neg().abs()", "x.sign() * x", "x.floor() + x",
    "x % 0.3", "torch.max(x, y)", "torch.min(x, y)", "x.max(dim=0)[0]", "torch.sum(m, dim=0)",
    "torch.mean(m, 1, True)", "torch.exp(x) + torch.log(y)", "torch.matmul(x, m)",
    "torch.mm(m, m.t())", "torch.mv(m, x)", "torch.dot(x, y)", "torch.t(m)",
    "torch.transpose(m, 0, 1)", "torch.reshape(m, (9,))", "torch.flatten(m)",
    "torch.squeeze(x[None])", "torch.unsqueeze(x, 1)", "torch.softmax(x, 0)",
    "torch.relu(x - 0.5)", "torch.abs(x - 0.5)", "torch.sqrt(x)", "torch.sigmoid(x)",
    "torch.tanh(x)", "torch.pow(x, y)", "torch.pow(2, x)", "x.pow(y)", "m @ m @ m", "x @ m",
    "m.T @ x", "(m * 2).sum(-1)", "m[:, [0, 2]]", "m[1][2]", "x[-1]", "x[::2]", "m[:, 0:1]",
    "m.amin(0)", "x.min()", "x.clone().detach() * x", "x.contiguous()", "x.float() * 1",
    "x.double() * 1", "x.to(torch.float32)", "x.half().float()", "1.5 - x", "1.5 / x",
    "1.5 ** x",
]
_OTHER_DECOMPOSITION = {
    "m.norm()": "the tape flattens first (ViewBackward0 below the norm)",
    "m.diag()": "PyTorch names it DiagonalBackward0_copy",
    "m.split(1)[1]": "PyTorch records one SplitBackward0 for all pieces",
    "m.chunk(3, 1)[2]": "PyTorch records one SplitBackward0 for all pieces",
    "m.unbind(0)[1]": "PyTorch records one UnbindBackward0 for all pieces",
    "m.masked_fill(m > 0.5, 0.0)": "PyTorch has MaskedFillBackward0",
    "x.clamp_min(0.3)": "PyTorch has ClampMinBackward0",
    "m[1:, :2]": "PyTorch chains one SliceBackward0 per indexed dimension",
    "torch.einsum('ij,j->i', m, x)": "PyTorch decomposes einsum into views and bmm",
    "x.rsqrt()": "PyTorch has RsqrtBackward0",
    "m.permute(1, 0).reshape(9)": "PyTorch copies a non-contiguous input first",
    "x.floor() + x": "PyTorch records FloorBackward0 (zero gradient); the tape a constant",
    "torch.matmul(x, m)": "PyTorch goes through MmBackward0 of an unsqueezed vector",
    "x @ m": "PyTorch goes through MmBackward0 of an unsqueezed vector",
}


@pytest.mark.parametrize("expr", _EXTRA)
def test_more_of_the_api(expr):
    # PyTorch rounds the gradient of a float32 intermediate to float32; the tape keeps the
    # float64 cotangent until it reaches the leaf
    low_precision = any(k in expr for k in ("float()", "float32", "half()"))
    s1, s2 = _compare(expr, seed=3, rtol=1e-6 if low_precision else 1e-10)
    if expr not in _OTHER_DECOMPOSITION:
        assert s1 == s2


@pytest.mark.parametrize("expr", [c[0] for c in INPLACE])
def test_in_place_gradients(expr):
    xv = np.array([0.1, 0.45, 0.7])
    w = np.array([1.0, -2.0, 3.0])
    grads = []
    for lib in (sg, real):
        x = lib.tensor(xv, requires_grad=True)
        y = x * 2
        eval(expr, {"torch": lib, "x": x, "y": y})
        (y * lib.tensor(w)).sum().backward()
        grads.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


# Engine corner cases: each snippet leaves its answer in ``out`` (tensors or tuples of them).
_SNIPPETS = {
    "duplicate_inputs": "y = (x * x).sum(); out = torch.autograd.grad(y, [x, x])",
    "grad_of_output_itself": "y = (x * x).sum(); out = torch.autograd.grad(y, y)",
    "intermediate_and_leaf": "h = x * 3; z = (h * x).sum(); out = torch.autograd.grad(z, [h, x])",
    "scaled_grad_output": "z = (x * x * 3).sum(); "
                          "out = torch.autograd.grad(z, [x], grad_outputs=torch.tensor(2.0))",
    "detached_branch": "b = x * 2; c = b.detach().requires_grad_(); (c * x).sum().backward(); "
                       "out = (x.grad, c.grad)",
    "retain_then_free": "f = (x * x).sum(); f.backward(retain_graph=True); f.backward(); "
                        "out = x.grad",
    "python_sum_of_tensors": "s = sum([x * 1, x * 2, x.exp()]); s.sum().backward(); out = x.grad",
    "create_graph_grad": "(g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True); "
                         "out = torch.autograd.grad((g * g).sum(), x)",
    "backward_inputs_subset": "w = x * 1; w.retain_grad(); "
                              "(w.exp() * x).sum().backward(inputs=[w]); out = w.grad",
    "backward_inputs_non_leaf": "w = x * 1; (w.exp() * x).sum().backward(inputs=[w, x]); "
                                "out = (w.grad, x.grad)",
    "hook_scales": "x.register_hook(lambda g: g * 3); (x.sin()).sum().backward(); out = x.grad",
    "setitem_chain": "y = x * 1; y[0] = y[1] * 2; y[1:] = x[:1].exp() * 3; "
                     "(y * y).sum().backward(); out = x.grad",
    "saved_view_modified": "y = x * 1; p = y[:1] * x[:1]; y[1:] = 7.0\n"
                           "try:\n    p.sum().backward(); out = x.grad\n"
                           "except RuntimeError as e:\n"
                           "    out = torch.tensor(float('modified by an inplace' in str(e)))",
    "mask_setitem": "y = x.clone(); y[y < 0] = 0.0; (y * y).sum().backward(); out = x.grad",
}


@pytest.mark.parametrize("name", sorted(_SNIPPETS))
def test_engine_corner_cases(name):
    results = []
    for lib in (sg, real):
        ns = {"torch": lib, "x": lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)}
        exec(_SNIPPETS[name], ns)
        out = ns["out"]
        out = out if isinstance(out, tuple) else (out,)
        results.append([None if t is None else t.detach().numpy().copy() for t in out])
    for a, b in zip(*results, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)
