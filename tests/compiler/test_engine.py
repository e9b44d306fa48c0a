"""Caching, determinism, linecache registration and the Compiled interface."""

from __future__ import annotations

import linecache
import traceback

import numpy as np
import pytest

from srcgrad.compiler import compile_grad, compile_vjp

from . import corpus


def test_same_function_reuses_cached_code():
    first = compile_grad(corpus.straight_line, (0, 1))
    again = compile_grad(corpus.straight_line, (0, 1))
    assert first is again
    assert compile_grad(corpus.straight_line, (0,)) is not first
    assert compile_vjp(corpus.straight_line, (0, 1)) is not first


def test_cache_follows_global_values():
    namespace = {"np": np, "SCALE": 2.0}
    source = "def scaled(x):\n    return x * SCALE\n"
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "scaled_mod.py"
        path.write_text(source)
        code = compile(source, str(path), "exec")
        exec(code, namespace)
        fun = namespace["scaled"]
        first = compile_grad(fun, (0,))
        assert first.function(3.0)[1][0] == 2.0
        assert compile_grad(fun, (0,)) is first
        namespace["SCALE"] = 5.0
        second = compile_grad(fun, (0,))
        assert second is not first
        assert second.function(3.0)[1][0] == 5.0


def test_output_is_deterministic():
    import importlib

    from srcgrad.compiler import transform

    texts = set()
    for _ in range(2):
        transform.clear_cache()
        importlib.invalidate_caches()
        texts.add(compile_grad(corpus.scalar_loop, (0, 1)).source)
    assert len(texts) == 1


def test_generated_code_is_in_linecache():
    compiled = compile_grad(corpus.straight_line, (0, 1))
    assert compiled.filename.startswith("<srcgrad grad of straight_line at corpus.py:")
    lines = linecache.getlines(compiled.filename)
    assert "".join(lines) == compiled.source


def test_traceback_shows_generated_line():
    def bad(x):
        return np.sum(np.log(x) * x)

    compiled = compile_grad(bad, (0,))
    with pytest.raises(TypeError) as info:
        compiled.function("not an array")
    text = "".join(traceback.format_exception(info.value))
    assert compiled.filename in text


def test_vjp_pullback_returns_tuple():
    out, pullback = compile_vjp(corpus.helper, (0, 1)).function(np.ones(2), np.ones(2) * 3.0)
    grads = pullback(np.ones(2))
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_allclose(grads[1], np.tanh(np.ones(2)))


def test_has_aux():
    def f(x):
        loss = np.sum(x * x)
        return loss, {"norm": np.sqrt(loss)}

    (value, aux), (g,) = compile_grad(f, (0,), has_aux=True).function(np.array([3.0, 4.0]))
    assert value == 25.0 and aux["norm"] == 5.0
    np.testing.assert_allclose(g, [6.0, 8.0])


def test_unused_argument_gets_zeros():
    def f(x, y):
        return np.sum(x * 2.0)

    _, (gx, gy) = compile_grad(f, (0, 1)).function(np.ones(3), np.ones((2, 2)))
    np.testing.assert_allclose(gx, 2.0)
    assert gy.shape == (2, 2) and not gy.any()


def test_float32_stays_float32():
    def f(x):
        return np.sum(np.sin(x) * 2.0 + x * x)

    _, (g,) = compile_grad(f, (0,)).function(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_python_float_in_float_out():
    _, (g,) = compile_grad(corpus.scalar_python, (0,)).function(0.5, 2.0)
    assert isinstance(g, float)


def test_caller_arrays_not_mutated_by_item_assignment():
    x = np.array([1.0, 2.0, 3.0])
    value, (g,) = compile_grad(corpus.setitem_does_not_mutate, (0,)).function(x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert value == 25.0 + 4.0 + 9.0
    np.testing.assert_allclose(g, [0.0, 4.0, 6.0])


def test_scalar_and_array_variants_agree():
    compiled = compile_grad(corpus.scalar_loop, (0, 1))
    assert "scalar_loop_grad_scalar" in compiled.source
    _, scalar = compiled.function(0.3, 0.5)
    _, arrays = compiled.function(np.array(0.3), np.array(0.5))
    np.testing.assert_allclose(arrays, scalar)


def test_keyword_arguments_and_defaults():
    compiled = compile_grad(corpus.keyword_args, (0,))
    m = np.ones((2, 3))
    value, (g,) = compiled.function(m, 3.0, shift=0.5)
    assert value == corpus.keyword_args(m, 3.0, shift=0.5)
    np.testing.assert_allclose(g, 3.0)


def test_vjp_of_tuple_output():
    def f(x):
        return x * 2.0, np.sin(x)

    (a, b), pullback = compile_vjp(f, (0,)).function(np.array([0.5, 1.0]))
    (g,) = pullback((np.ones(2), np.ones(2)))
    np.testing.assert_allclose(g, 2.0 + np.cos([0.5, 1.0]))


def test_vjp_has_aux():
    def f(x):
        y = np.sum(x * x)
        return y, y + 1.0

    (out, aux), pullback = compile_vjp(f, (0,), has_aux=True).function(np.ones(2))
    assert (out, aux) == (2.0, 3.0)
    np.testing.assert_allclose(pullback(1.0)[0], [2.0, 2.0])


def test_untransformable_call_handler_hook():
    from srcgrad.compiler import set_untransformable_call_handler

    def inner(x):
        try:
            return x * 3.0
        except ValueError:
            return x

    def outer(x):
        return np.sin(inner(x))

    calls = []

    def handler(fun, argnums, error, mode):
        calls.append((fun.__name__, argnums, error.construct, mode))

        def vjp(x):
            return fun(x), lambda g: (g * 3.0,)
        return vjp

    previous = set_untransformable_call_handler(handler)
    try:
        value, (g,) = compile_grad(outer, (0,)).function(0.2)
    finally:
        set_untransformable_call_handler(previous)
    # once per generated variant (the generic one, and the one for scalar arguments)
    assert calls and set(calls) == {("inner", (0,), "a try statement", "vjp")}
    assert np.isclose(g, 3.0 * np.cos(0.6))


def test_defaults_are_the_functions_own_values():
    scale = np.array([1.0, 2.0])

    def f(x, w=scale, *, shift=-1.0):
        return np.sum(x * w + shift)

    compiled = compile_grad(f, (0,))
    value, (g,) = compiled.function(np.ones(2))
    assert value == 1.0
    np.testing.assert_allclose(g, [1.0, 2.0])
    assert "shift=-1.0" in compiled.source.replace("(-1.0)", "-1.0")


def test_output_does_not_depend_on_hash_seed():
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = (
        "import hashlib\n"
        "from tests.compiler.corpus import CASES\n"
        "from srcgrad.compiler import compile_grad, compile_vjp\n"
        "h = hashlib.sha256()\n"
        "for c in CASES:\n"
        "    h.update(compile_grad(c.fun, c.argnums).source.encode())\n"
        "    h.update(compile_vjp(c.fun, c.argnums).source.encode())\n"
        "print(h.hexdigest())\n")
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                cwd=root, env=env, check=True)
        digests.add(result.stdout.strip())
    assert len(digests) == 1
