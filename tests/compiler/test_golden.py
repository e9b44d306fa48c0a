"""Golden tests: the exact generated source for a few small functions.

They pin down the conventions of generated code: the user's names, ``b``
adjoints, ``# grad of:`` comments, no dead statements, no copies, loops
saving only what the reverse sweep reads.  Update them deliberately.
"""

from __future__ import annotations

import pytest

from srcgrad.compiler import compile_grad

from . import golden_functions

EXPECTED = {
    ('tanh_layer', (1, 2)): '''\
def tanh_layer_grad(x, w, b):
    t = x @ w
    h = np.tanh(t + b)
    sum_1 = np.sum(h * h)
    bsum_1 = one_like(sum_1)
    # grad of: return np.sum(h * h)
    bh = 2 * bsum_1 * h
    # grad of: h = np.tanh(x @ w + b)
    bt_1 = bh * (1 - h * h)
    bb = unbroadcast(bt_1, b)
    bw = matmul_right_cotangent(unbroadcast(bt_1, t), x, w)
    return sum_1, (as_gradient(bw, w), as_gradient(bb, b))
''',
    ('piecewise', (0,)): '''\
def piecewise_grad(x):
    cond = x > 0.0
    if cond:
        y = x * x
    else:
        y = -x
    t = y * 3.0
    bt = one_like(t)
    # grad of: return y * 3.0
    by = bt * 3.0
    if cond:
        # grad of: y = x * x
        bx = 2 * by * x
    else:
        # grad of: y = -x
        bx = -by
    return t, (as_gradient(bx, x),)
''',
    ('running_sum', (0,)): '''\
def running_sum_grad(x, n):
    s_shapes = ShapeStack()
    sin_shapes = ShapeStack()
    t_stack = []
    sin = None
    t = None
    s = 0.0
    for i in range(n):
        t_stack.append(t)
        t = x * i
        sin_shapes.append(sin)
        sin = np.sin(t)
        s_shapes.append(s)
        s = s + sin
    sum_1 = np.sum(s)
    bsum_1 = one_like(sum_1)
    # grad of: return np.sum(s)
    bs = expand_reduced(bsum_1, s)
    bx = None
    for i in reversed(range(n)):
        # grad of: s = s + np.sin(x * i)
        s = s_shapes.pop()
        bsin = unbroadcast(bs, sin)
        bs = unbroadcast(bs, s)
        bt = bsin * np.cos(t)
        sin = sin_shapes.pop()
        tbx = bt * i
        bx = tbx if bx is None else bx + tbx
        t = t_stack.pop()
    return sum_1, (grad_or_zeros(bx, x),)
''',
    ('softplus_sum', (0,)): '''\
def softplus_sum_grad(x):
    exp = np.exp(x)
    log1p = np.log1p(exp)
    sum_1 = np.sum(log1p)
    bsum_1 = one_like(sum_1)
    # grad of: return np.sum(np.log1p(np.exp(x)))
    bx = expand_reduced(bsum_1, log1p) / (1 + exp) * exp
    return sum_1, (as_gradient(bx, x),)
''',
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=[k[0] for k in EXPECTED])
def test_generated_source(key):
    name, argnums = key
    compiled = compile_grad(getattr(golden_functions, name), argnums)
    assert compiled.source == EXPECTED[key]


@pytest.mark.parametrize("key", list(EXPECTED), ids=[k[0] for k in EXPECTED])
def test_conventions(key):
    source = EXPECTED[key]
    assert "# grad of: " in source
    assert " = None\n" not in source.split("bsum")[0] or "_stack" in source
    for line in source.splitlines():
        stripped = line.strip()
        if " = " in stripped and not stripped.startswith("#"):
            target, value = stripped.split(" = ", 1)
            assert target != value, f"copy of a name: {line}"
