"""Generated code reads like a person wrote it, and stays right."""

from __future__ import annotations

import warnings

import numpy as np

import srcgrad
from tests.compiler import readable_functions as rf
from tests.compiler.fd import assert_close, numerical_grad


def _check(f, x):
    assert_close(srcgrad.grad(f, engine="source")(x), numerical_grad(f, (x,), 0))
    v = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
    _, tangent = srcgrad.jvp(f, (x,), (v,))
    assert_close(tangent, np.sum(numerical_grad(f, (x,), 0) * v))


def test_math_of_constants_is_folded():
    for text in (srcgrad.jvp_source(rf.log_scaled), srcgrad.grad(rf.log_scaled).source):
        assert "2.718281828459045" not in text and "math.log(2.0)" not in text, text
    _check(rf.log_scaled, 1.7)


def test_tangent_calls_leave_out_the_defaults_the_user_left_out():
    text = srcgrad.jvp_source(rf.reductions)
    assert "np.mean(dt)" in text and "np.sum(dx, 0)" in text, text
    assert "where=True" not in text and "None, None" not in text, text
    assert "keepdims=True" in text and "ddof=1" in text, text
    _check(rf.reductions, np.array([[0.3, -1.2, 0.5], [2.0, 0.1, -0.4]]))


def test_comments_quote_whole_statements_without_comments():
    text = srcgrad.grad(rf.commented).source + srcgrad.jvp_source(rf.reductions)
    assert "# grad of: y = np.sin(x) * 2.0\n" in text, text
    assert '# grad of: y = y * len("a # b")\n' in text, text
    assert "# tangent of: y = np.mean(x * 2.0) + np.sum(x, axis=0)\n" in text, text
    assert "a statement over two lines" not in text and "a branch" not in text
    _check(rf.commented, np.array([0.3, 1.1]))


def _check_two(f, x, w):
    got = srcgrad.grad(f, (0, 1), engine="source")(x, w)
    for k, g in enumerate(got):
        assert_close(g, numerical_grad(f, (x, w), k))


def test_straight_line_calls_of_callees_carry_no_none_tests():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)   # the tape-run callee
        text = srcgrad.grad(rf.calls_callees, (0, 1), engine="source").source
        assert "_on_the_tape_pullback(" in text and "_squashed_pullback(" in text, text
        assert " is None" not in text and " is not None" not in text, text
        assert "add(" not in text and "grad_or_zeros" not in text, text
        _check_two(rf.calls_callees, np.array([0.3, -1.2, 0.8]), np.array([1.1, 0.4, -0.7]))


def test_a_callee_that_may_give_none_keeps_its_test():
    text = srcgrad.grad(rf.calls_a_callee_giving_none, (0, 1), engine="source").source
    assert "if by is not None:" in text, text
    for x in (np.array([0.3, 1.2]), np.array([-0.3, -1.2])):      # both of the callee's paths
        _check_two(rf.calls_a_callee_giving_none, x, np.array([1.1, 0.4]))


def test_one_function_where_the_scalar_variant_would_be_the_same_code():
    for f, x in ((rf.branchy, 0.7), (rf.branchy, -0.4)):
        text = srcgrad.grad(f).source
        assert text.count("def ") == 1 and "SCALAR_TYPES" not in text, text
        assert "_scalar" not in srcgrad.jvp_source(f)
        _check(f, x)
        _check(f, np.array(x))
        _check(f, np.float64(x))


def test_the_scalar_variant_stays_where_it_drops_bookkeeping():
    text = srcgrad.grad(rf.broadcasting_scalar).source
    assert "def broadcasting_scalar_grad_scalar(x, y):" in text, text
    generic, scalar = text.split("def broadcasting_scalar_grad_scalar")
    assert "unbroadcast(" in generic and "unbroadcast(" not in scalar, text
    f = rf.broadcasting_scalar
    got = srcgrad.grad(f, (0, 1))(0.3, 1.2)
    for k, g in enumerate(got):
        assert_close(g, numerical_grad(f, (0.3, 1.2), k))
    total = lambda x, y: np.sum(f(x, y))  # noqa: E731
    for x, y in ((np.array([0.3, -0.5]), 1.2), (0.3, np.array([1.2, 0.4]))):
        out, pullback = srcgrad.vjp(f, x, y)
        for k, g in enumerate(pullback(np.ones_like(out))):
            assert_close(g, numerical_grad(total, (x, y), k))


def test_generated_names_never_take_the_users_names():
    x, w = np.array([0.3, -0.5]), np.array([1.1, 0.4])
    f = rf.takes_the_names
    text = srcgrad.grad(f, (0, 1), engine="source").source
    # the user's globals and locals are read as the user's...
    assert "t_shapes + ShapeStack + one_like + s_shapes + taken_vjp" in text, text
    assert "sin_shapes = saved + value" in text, text
    # ...and the generated stacks, helpers and callee derivatives got names of their own
    for generated in ("ShapeStack_1()", "one_like_1(", "unbroadcast_1(", "taken_vjp_1(",
                      "taken_pullback_1(", "s_shapes_1 = ", "grad_or_zeros_1("):
        assert generated in text, (generated, text)
    assert "\n    s_shapes = " not in text and "\n    t_shapes = " not in text, text
    _check_two(f, x, w)
    out, tangent = srcgrad.jvp(lambda v: f(v, w), (x,), (np.ones(2),))
    assert_close(tangent, np.sum(numerical_grad(f, (x, w), 0)))
    g = rf.takes_the_names_of_scalars
    text = srcgrad.grad(g).source
    assert "def takes_the_names_of_scalars_grad_scalar_1(x):" in text, text
    assert "SCALAR_TYPES_1" in text, text
    for x in (0.3, np.array([0.3, -0.2])):
        h = (lambda v: np.sum(g(v))) if isinstance(x, np.ndarray) else g
        assert_close(srcgrad.grad(h, engine="source")(x), numerical_grad(h, (x,), 0))


def test_a_generated_local_named_like_a_global_it_reads_is_refused():
    import pytest

    from srcgrad.compiler.parse import parse_function
    from srcgrad.compiler.transform import _check_fresh

    parsed = parse_function(rf.branchy)
    text = ("def f(x):\n    unbroadcast = x\n    return unbroadcast\n"
            "def g(y):\n    return lambda one_like: one_like + y\n")
    code = compile(text, "<generated>", "exec")
    for clashing in ("unbroadcast", "one_like", "y", "x"):
        with pytest.raises(srcgrad.TransformError, match=f"the name of the global '{clashing}'"):
            _check_fresh(code, {clashing: object()}, parsed)
    _check_fresh(code, {"np": object(), "f": object()}, parsed)      # no clash: accepted


def test_rule_bodies_leave_out_what_the_callee_would_default_to_anyway():
    text = srcgrad.jvp_source(rf.spreads) + srcgrad.grad(rf.spreads).source
    assert "None, keepdims=False" not in text and "axis=None" not in text, text
    assert "keepdims=False" not in text and " - 0)" not in text, text
    assert "if True else" not in text and "np.sum(dx * norm_partials(x, norm))" in text, text
    assert "np.mean(x, keepdims=True)" in text, text
    assert "reduced_count(x) - 1" in text, text          # ddof=1, which the user gave
    _check(rf.spreads, np.array([[0.3, -1.2, 0.5], [2.0, 0.1, -0.4]]))


def test_a_rule_called_by_name_is_named_after_its_primitive():
    text = srcgrad.jvp_source(rf.clipped) + srcgrad.grad(rf.clipped).source
    assert "clip_rule(" in text and " rule(" not in text, text
    _check(rf.clipped, np.array([0.3, -1.7, 2.5, 0.9]))
