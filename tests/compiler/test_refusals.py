"""Unsupported code is refused at transform time, pointing at the user's line."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from srcgrad.compiler import compile_grad
from srcgrad.errors import NoRuleError, TransformError

from . import refusals


def _line_of(fun, text: str) -> int:
    lines, first = inspect.getsourcelines(fun)
    for k, line in enumerate(lines):
        if text in line:
            return first + k
    raise AssertionError(text)


@pytest.mark.parametrize("fun, text, construct", [
    (refusals.uses_try, "try:", "try statement"),
    (refusals.uses_with, "with open", "with statement"),
    (refusals.uses_yield, "yield x", "yield"),
    (refusals.uses_global, "global COUNTER", "global statement"),
    (refusals.uses_nonlocal, "nonlocal total", "nonlocal statement"),
    (refusals.uses_eval, "eval(\"", "eval"),
    (refusals.calls_stored_function, "MODEL.act", "a function kept on an object"),
    (refusals.builds_object, "Model(x)", "user class"),
    (refusals.uses_async, "async def", "async"),
    # (ufuncs and builtins are not asked: a fast path in normalization)
    (refusals.calls_generator_function, "list(_doubled(x))", "generator function"),
    (refusals.calls_coroutine_function, "_doubled_later(x)", "generator function"),
    (refusals.uses_while_else, "while x < 1", "else clause"),
    (refusals.attribute_store, "MODEL.w = x", "attribute"),
    (refusals.lambda_as_value, "lambda v", "lambda used as a value"),
    (refusals.deletes_an_item, "del items[0]", "del statement on an item"),
    # these two were accepted before, but their gradients crashed and an append to
    # the caller's list is not modelled: refused (the tape runs them, see below)
    (refusals.appends_to_argument, "items.append", "list argument in place"),
    (refusals.appends_to_argument_in_loop, "items.append", "list argument in place"),
])
def test_refusal_is_located(fun, text, construct):
    with pytest.raises(TransformError) as info:
        compile_grad(fun, (0,))
    error = info.value
    assert construct in error.construct
    assert error.filename == inspect.getsourcefile(fun)
    assert error.lineno == _line_of(fun, text)
    assert text.strip() in error.line
    assert error.col_offset >= 0
    message = str(error)
    assert f"{error.filename}:{error.lineno}:" in message
    assert 'engine="tape"' in message


def test_column_points_at_the_construct():
    with pytest.raises(TransformError) as info:
        compile_grad(refusals.uses_eval, (0,))
    error = info.value
    assert error.line[error.col_offset:].startswith("eval(")


def test_no_rule_error_names_the_function():
    with pytest.raises(NoRuleError) as info:
        compile_grad(refusals.no_rule, (0,))
    error = info.value
    assert error.lineno == _line_of(refusals.no_rule, "np.roots")
    assert "roots" in str(error)
    assert "defvjp" in str(error)


def test_no_rule_error_points_at_the_call_not_the_statement():
    def g(x):
        y = np.sin(x) + (np.roots(x)
                         .real.sum()) * 2.0
        return np.sum(y)

    with pytest.raises(NoRuleError) as info:
        compile_grad(g, (0,))
    error = info.value
    assert error.lineno == g.__code__.co_firstlineno + 1
    assert error.line[error.col_offset:].startswith("np.roots(x)"), error.line
    # file, line and column; the quoted line with the caret under the call; the fix
    assert f"{__file__}:{error.lineno}:{error.col_offset + 1}:" in str(error)
    quoted, caret = str(error).splitlines()[1:3]
    assert quoted.strip().startswith("y = np.sin(x)")
    assert quoted[caret.index("^"):].startswith("np.roots(x)"), str(error)
    assert "srcgrad.defvjp(numpy.roots, lambda g, ans, x:" in str(error)


def test_function_without_source():
    namespace: dict = {}
    exec("def made(x):\n    return x * 2\n", namespace)
    with pytest.raises(TransformError) as info:
        compile_grad(namespace["made"], (0,))
    assert "source" in str(info.value)


def test_builtin_is_refused():
    with pytest.raises(TransformError):
        compile_grad(np.sin, (0,))


def test_nondifferentiable_call_on_inactive_value_is_fine():
    def f(x):
        n = np.argmax(x)
        return x[n] * 2.0

    value, (g,) = compile_grad(f, (0,)).function(np.array([1.0, 3.0, 2.0]))
    assert value == 6.0
    np.testing.assert_allclose(g, [0.0, 2.0, 0.0])


@pytest.mark.parametrize("fun", [refusals.appends_to_argument,
                                 refusals.appends_to_argument_in_loop])
def test_appending_to_an_argument_runs_on_the_tape(fun):
    import warnings

    import srcgrad

    eps = 1e-6
    expected = (fun(0.7 + eps, [1.0]) - fun(0.7 - eps, [1.0])) / (2 * eps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        assert srcgrad.grad(fun)(0.7, [1.0]) == pytest.approx(expected, rel=1e-6)
        _, tangent = srcgrad.jvp(lambda v: fun(v, [1.0]), (0.7,), (1.0,))
    assert tangent == pytest.approx(expected, rel=1e-6)
