"""Hypothesis-generated programs (straight-line code, branches, loops) vs finite differences."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srcgrad.compiler import compile_grad, compile_jvp

from ..soundness.modules import load_module
from .fd import assert_close, numerical_grad

# keepdims reductions exercise the shape facts: what a reduction of the same name
# broadcasts into needs no sum, one of another name may (x (2,) against y (3, 1))
UNARY = ["np.sin({})", "np.cos({})", "np.tanh({})", "np.exp(0.3 * {})", "({}) ** 2",
         "np.sqrt({} * {} + 1.0)", "np.log1p({} * {})", "-({})", "abs({}) + 0.5",
         "{} - np.max({}, keepdims=True)", "np.exp({}) / np.sum(np.exp({}), keepdims=True)"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (1.5 + np.cos({}))", "np.maximum({}, {})",
          "0.5 * {} + {}", "{} - np.mean({}, keepdims=True)"]



@st.composite
def expressions(draw, names):
    kind = draw(st.sampled_from(["unary", "binary", "const"]))
    a = draw(st.sampled_from(names))
    if kind == "unary":
        template = draw(st.sampled_from(UNARY))
        return template.format(*([a] * template.count("{}")))
    if kind == "binary":
        b = draw(st.sampled_from(names))
        template = draw(st.sampled_from(BINARY))
        return template.format(a, b) if template.count("{}") == 2 else template.format(a, b)
    return f"{a} * {draw(st.floats(0.2, 1.5)):.3f}"


@st.composite
def blocks(draw, names, depth):
    lines = []
    names = list(names)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["assign", "assign", "if", "for"] if depth < 2
                                    else ["assign"]))
        if kind == "assign":
            target = draw(st.sampled_from(names + [f"v{len(names)}"]))
            lines.append(f"{target} = {draw(expressions(names))}")
            if target not in names:
                names.append(target)
        elif kind == "if":
            cond = draw(st.sampled_from(names))
            body, _ = draw(blocks(names, depth + 1))
            orelse, _ = draw(blocks(names, depth + 1))
            lines.append(f"if np.sum({cond}) > 0.1:")
            lines += ["    " + ln for ln in body]
            lines.append("else:")
            lines += ["    " + ln for ln in orelse]
        else:
            n = draw(st.integers(0, 3))
            body, _ = draw(blocks(names, depth + 1))
            lines.append(f"for i{depth} in range({n}):")
            lines += ["    " + ln for ln in body]
    return lines, names


@st.composite
def control_blocks(draw, names, depth, in_loop):
    """Statements with the harder control flow: while, break, continue, early return, lists."""
    lines = []
    names = list(names)
    choices = ["assign", "assign", "list"]
    if depth < 2:
        choices += ["while", "for", "if"]
    if in_loop:
        choices += ["break", "continue"]
    if depth > 0:
        choices += ["return"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(choices))
        if kind == "assign":
            target = draw(st.sampled_from(names + [f"v{len(names)}"]))
            lines.append(f"{target} = {draw(expressions(names))}")
            if target not in names:
                names.append(target)
        elif kind == "list":
            a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            lines.append(f"acc.append({draw(expressions(names))})")
            lines.append(f"{a} = {a} + 0.1 * acc[-1] * np.cos({b})")
        elif kind in ("break", "continue"):
            cond = draw(st.sampled_from(names))
            lines.append(f"if np.sum({cond}) > {draw(st.floats(-1, 1)):.2f}:")
            lines.append(f"    {kind}")
        elif kind == "return":
            cond = draw(st.sampled_from(names))
            lines.append(f"if np.sum({cond}) > {draw(st.floats(-1, 1)):.2f}:")
            lines.append(f"    return np.sum({draw(expressions(names))}) + len(acc)")
        elif kind == "if":
            cond = draw(st.sampled_from(names))
            body, _ = draw(control_blocks(names, depth + 1, in_loop))
            lines.append(f"if np.sum({cond}) > 0.1:")
            lines += ["    " + ln for ln in body]
        elif kind == "for":
            body, _ = draw(control_blocks(names, depth + 1, True))
            lines.append(f"for i{depth} in range({draw(st.integers(0, 3))}):")
            lines += ["    " + ln for ln in body]
        else:
            body, _ = draw(control_blocks(names, depth + 1, True))
            lines.append(f"k{depth} = 0")
            lines.append(f"while k{depth} < {draw(st.integers(0, 3))}:")
            lines.append(f"    k{depth} += 1")
            lines += ["    " + ln for ln in body]
    return lines, names


@st.composite
def control_programs(draw):
    lines, names = draw(control_blocks(["x", "y"], 0, False))
    result = " + ".join(f"np.sum({n})" for n in names)
    return ["acc = []"] + lines + [f"return {result} + sum(np.sum(a) for a in acc)"]


@st.composite
def programs(draw):
    lines, names = draw(blocks(["x", "y"], 0))
    result = " + ".join(f"np.sum({n})" for n in names)
    return lines + [f"return {result}"]


def _load(lines, tmp_path):
    source = "import numpy as np\n\n\ndef f(x, y):\n" + "".join(f"    {ln}\n" for ln in lines)
    return load_module(tmp_path, source, "random_program").f, source


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(programs(), st.sampled_from(["scalar", "same", "broadcast"]))
def test_random_program_gradients(tmp_path, lines, arrays):
    with np.errstate(all="ignore"):
        _check_program(tmp_path, lines, arrays)


def _check_program(tmp_path, lines, arrays):
    f, source = _load(lines, tmp_path)
    x = {"scalar": 0.3, "same": np.array([0.3, -0.7]),
         "broadcast": np.array([0.3, -0.7])}[arrays]
    y = {"scalar": -0.6, "same": np.array([0.9, 0.4]),
         "broadcast": np.array([[0.9], [0.4], [-0.2]])}[arrays]
    try:
        expected_value = f(x, y)
    except (FloatingPointError, OverflowError, ZeroDivisionError):
        return
    if not np.all(np.isfinite(expected_value)) or np.max(np.abs(expected_value)) > 1e3:
        return
    value, grads = compile_grad(f, (0, 1)).function(x, y)
    assert_close(value, expected_value, rtol=1e-10, atol=1e-12)
    for argnum, grad in zip((0, 1), grads, strict=True):
        expected = numerical_grad(f, (x, y), argnum)
        # A generated branch test can sit exactly at the input (``if x > 0.30`` at
        # x = 0.3): there the function jumps and has no derivative to compare.
        coarse = numerical_grad(f, (x, y), argnum, eps=1e-4)
        if not np.allclose(expected, coarse, rtol=1e-2, atol=1e-3):
            continue
        # Nor where a max or abs meets a tie (``x - np.max(x)`` with equal elements): the
        # function has a kink there, which central differences average over.
        if not _one_sided_slopes_agree(f, (x, y), argnum):
            continue
        assert_close(grad, expected, rtol=1e-4, atol=1e-5), source
    # forward mode on the same program: the tangent is the gradient times the direction
    dx, dy = np.cos(np.arange(np.size(x)) + 1.0), np.sin(np.arange(np.size(y)) + 2.0)
    dx = float(dx[0]) if np.ndim(x) == 0 else dx.reshape(np.shape(x))
    dy = float(dy[0]) if np.ndim(y) == 0 else dy.reshape(np.shape(y))
    out, tangent = compile_jvp(f, (0, 1)).function(dx, dy, x, y)
    assert_close(out, expected_value, rtol=1e-10, atol=1e-12)
    expected_tangent = np.sum(np.asarray(grads[0]) * dx) + np.sum(np.asarray(grads[1]) * dy)
    assert_close(tangent, expected_tangent, rtol=1e-8, atol=1e-10), source


def _one_sided_slopes_agree(f, args, argnum, eps=1e-5):
    """Do the forward and backward difference quotients of ``f`` agree in every element
    of ``args[argnum]`` (no kink there)?"""
    x = np.asarray(args[argnum], dtype=np.float64)
    at = float(np.sum(f(*args)))
    for i in range(x.size):
        slopes = []
        for step in (eps, -eps):
            moved = x.copy().reshape(-1)
            moved[i] += step
            new = list(args)
            new[argnum] = float(moved[0]) if np.ndim(args[argnum]) == 0 else \
                moved.reshape(x.shape)
            slopes.append((float(np.sum(f(*new))) - at) / step)
        if not np.isclose(slopes[0], slopes[1], rtol=1e-2, atol=1e-3):
            return False
    return True


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(control_programs(), st.sampled_from(["scalar", "same", "broadcast"]))
def test_random_control_flow_gradients(tmp_path, lines, arrays):
    test_random_program_gradients.hypothesis.inner_test(tmp_path, lines, arrays)
