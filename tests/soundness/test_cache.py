"""The transform cache never serves stale code, stays bounded, and is thread-safe."""

from __future__ import annotations

import gc
import os
import threading
import time
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.compiler import cache, transform
from srcgrad.errors import TransformError

from ..compiler.fd import assert_close, numerical_grad
from .modules import load_module


@pytest.fixture
def builds(monkeypatch):
    """Counts the transforms run (cache misses), by function name."""
    counts: dict[str, int] = {}
    original = transform._Builder.build

    def counting(self):
        name = getattr(self.fun, "__name__", "?")
        counts[name] = counts.get(name, 0) + 1
        return original(self)

    monkeypatch.setattr(transform._Builder, "build", counting)
    return counts


def check(fun, x, *args):
    """The source engine's gradient equals the tape's and central differences."""
    got = srcgrad.grad(fun, engine="source")(x, *args)
    assert_close(got, srcgrad.grad(fun, engine="tape")(x, *args))
    assert_close(got, numerical_grad(fun, (x, *args), 0), rtol=1e-5, atol=1e-6)
    return got


# -- what the key covers ---------------------------------------------------------------

def test_closures_with_defaults_of_one_factory(tmp_path):
    mod = load_module(tmp_path, """
        def make(c):
            def f(x, scale=c):
                return scale * x ** 2
            return f
    """)
    assert check(mod.make(2.0), 1.5) == pytest.approx(6.0)
    assert check(mod.make(5.0), 1.5) == pytest.approx(15.0)


def test_assigned_defaults_and_kwdefaults(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        def f(x, a=2.0, *, b=1.0):
            return a * np.sin(x) + b * x ** 2
    """)
    assert check(mod.f, 0.5) == pytest.approx(2.0 * np.cos(0.5) + 1.0)
    mod.f.__defaults__ = (3.0,)
    assert check(mod.f, 0.5) == pytest.approx(3.0 * np.cos(0.5) + 1.0)
    mod.f.__kwdefaults__ = {"b": -4.0}
    assert check(mod.f, 0.5) == pytest.approx(3.0 * np.cos(0.5) - 4.0)


def test_array_defaults_are_the_current_ones(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        def f(x, w=np.ones(3)):
            return np.sum(w * x ** 2)
    """)
    x = np.array([0.5, -1.0, 2.0])
    assert_close(check(mod.f, x), 2 * x)
    mod.f.__defaults__ = (np.array([1.0, 2.0, 3.0]),)
    assert_close(check(mod.f, x), 2 * x * [1.0, 2.0, 3.0])


@pytest.mark.parametrize("depth", [1, 2])
def test_globals_read_by_callees(tmp_path, depth):
    mod = load_module(tmp_path, """
        import numpy as np

        W = 2.0
        V = np.array([1.0, 1.0])

        def deepest(x):
            return W * x + V

        def inner(x):
            return deepest(x) if DEPTH == 2 else W * x + V

        def outer(x):
            return np.sum(inner(x) ** 2)
    """.replace("DEPTH", str(depth)))
    x = np.array([0.3, -0.7])
    check(mod.outer, x)
    mod.W = 3.0
    assert_close(check(mod.outer, x), 2 * (3.0 * x + 1.0) * 3.0)
    mod.V = np.array([2.0, -1.0])
    assert_close(check(mod.outer, x), 2 * (3.0 * x + [2.0, -1.0]) * 3.0)


def test_callee_rebound_in_a_module_attribute(tmp_path):
    helpers = load_module(tmp_path, """
        def loss(x):
            return x ** 2
    """)
    mod = load_module(tmp_path, f"""
        import {helpers.__name__} as helpers

        def f(x):
            return 3.0 * helpers.loss(x)
    """)
    assert check(mod.f, 2.0) == pytest.approx(12.0)
    helpers.loss = load_module(tmp_path, """
        def loss(x):
            return x ** 3
    """).loss
    assert check(mod.f, 2.0) == pytest.approx(36.0)


def test_same_body_on_the_same_line_in_two_modules(tmp_path):
    text = """
        import numpy as np

        def f(x):
            return np.sin(x) * x
    """
    a, b = load_module(tmp_path, text, "a"), load_module(tmp_path, text, "b")
    assert a.f.__code__ == b.f.__code__          # equal, though from two files
    compiled_a = srcgrad.compiler.compile_grad(a.f, (0,))
    compiled_b = srcgrad.compiler.compile_grad(b.f, (0,))
    assert compiled_a.namespace["__name__"] == a.__name__
    assert compiled_b.namespace["__name__"] == b.__name__
    assert b.__name__ in compiled_b.filename and a.__name__ not in compiled_b.filename


def test_rebinding_a_helper_name_to_a_number(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        c = np.array([1.0, 2.0])

        def f(x):
            return np.sum(c * x)
    """)
    x = np.array([0.5, 0.25])
    assert_close(check(mod.f, x), np.array([1.0, 2.0]))
    mod.c = 3.0                  # an array, then a number: no scalar-only code reused
    assert_close(check(mod.f, x), np.array([3.0, 3.0]))
    mod.c = np.array([[1.0], [2.0]])   # another shape
    assert_close(check(mod.f, x), np.array([3.0, 3.0]))


def test_hvp_sees_globals_rebound_under_a_callee(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        W = np.array([1.0, 2.0])

        def inner(x):
            return W * x ** 3

        def f(x):
            return np.sum(inner(x))
    """)
    x, v = np.array([0.5, -1.0]), np.array([1.0, 3.0])
    assert_close(srcgrad.hvp(mod.f, (x,), (v,)), 6 * mod.W * x * v)
    mod.W = np.array([-2.0, 0.5])
    assert_close(srcgrad.hvp(mod.f, (x,), (v,)), 6 * mod.W * x * v)
    assert_close(srcgrad.hvp(mod.f, (x,), (v,), engine="tape"), 6 * mod.W * x * v)


def test_a_rule_registered_again(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        def cube(x):
            return x ** 3

        def f(x):
            return 2.0 * cube(x)
    """)
    srcgrad.defvjp(mod.cube, lambda g, ans, x: g * 10.0)      # a deliberately odd rule
    assert srcgrad.grad(mod.f, engine="source")(1.0) == pytest.approx(20.0)
    srcgrad.defvjp(mod.cube, lambda g, ans, x: g * 3.0 * x ** 2)
    assert srcgrad.grad(mod.f, engine="source")(1.0) == pytest.approx(6.0)


# -- growth and lifetime --------------------------------------------------------------

def test_many_closures_share_one_entry_and_release_their_arrays(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        def make(w):
            def f(x):
                return np.sum(w * np.sin(x))
            return f
    """)
    x = np.linspace(-1.0, 1.0, 1024)
    cache.clear()
    closures, arrays, timings = [], [], []
    for k in range(2000):
        w = np.full(1024, float(k))
        arrays.append(weakref.ref(w))
        f = mod.make(w)
        start = time.perf_counter()
        g = srcgrad.grad(f)
        timings.append(time.perf_counter() - start)
        if k % 500 == 0:
            assert_close(g(x), k * np.cos(x))
        closures.append(f)
        del w, g
    assert cache.size() <= 2
    first, last = np.median(timings[10:210]), np.median(timings[-200:])
    assert last < 3 * first + 1e-4, (first, last)
    del closures, f
    gc.collect()
    assert sum(r() is not None for r in arrays) == 0


def test_cache_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE_LIMIT", 16)
    mod = load_module(tmp_path, """
        def make(c):
            def f(x):
                return c * x * x
            return f
    """)
    keep = [mod.make(float(k)) for k in range(40)]
    for k, f in enumerate(keep):
        assert srcgrad.grad(f)(1.0) == pytest.approx(2.0 * k)
    assert cache.size() <= 16
    assert srcgrad.grad(keep[0])(1.0) == 0.0 and srcgrad.grad(keep[39])(2.0) == 156.0


def test_entries_die_with_their_function(tmp_path):
    mod = load_module(tmp_path, """
        import numpy as np

        def make(c):
            def f(x):
                return np.sum(c * x ** 2)
            return f
    """)
    cache.clear()
    fs = [mod.make(float(k)) for k in range(10)]   # numbers: one entry each
    for f in fs:
        srcgrad.grad(f)(np.ones(2))
    assert cache.size() == 10
    del fs, f
    gc.collect()
    assert cache.size() == 0


def test_training_loop_rebinding_a_global_batch(tmp_path, builds):
    mod = load_module(tmp_path, """
        import numpy as np

        batch = np.zeros((4, 3))

        def model(w, x):
            return np.tanh(x @ w)

        def loss(w):
            return np.mean(model(w, batch) ** 2)
    """)
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    old = []
    for _ in range(12):
        mod.batch = rng.normal(size=(4, 3))
        old.append(weakref.ref(mod.batch))
        g = srcgrad.grad(mod.loss)(w)
        expected = numerical_grad(mod.loss, (w,), 0)
        assert_close(g, expected)
    assert builds.get("loss") == 1 and builds.get("model") == 1
    gc.collect()
    assert sum(r() is not None for r in old) == 1   # only the current batch


def test_a_gradient_kept_across_a_rebinding(tmp_path):
    # the documented difference between the engines (docs/source-engine.md, "Semantics
    # to know"): generated code keeps the values it was made with, the tape reads the
    # values of the moment; a gradient made after the rebinding agrees on both
    mod = load_module(tmp_path, """
        import numpy as np

        X = np.array([1.0, 2.0])

        def loss(w):
            return np.sum((X * w) ** 2)
    """)
    w = np.array([0.5, 0.5])
    kept = {e: srcgrad.grad(mod.loss, engine=e) for e in ("source", "tape")}
    before = 2 * mod.X ** 2 * w
    mod.X = np.array([3.0, 3.0])
    after = 2 * mod.X ** 2 * w
    assert_close(kept["source"](w), before)
    assert_close(kept["tape"](w), after)
    for engine in ("source", "tape"):
        assert_close(srcgrad.grad(mod.loss, engine=engine)(w), after)


def test_a_refusal_is_cached(tmp_path, builds):
    mod = load_module(tmp_path, """
        def f(x):
            return eval("x") * x
    """)
    errors = []
    for _ in range(3):
        with pytest.raises(TransformError) as info:
            srcgrad.grad(mod.f, engine="source")
        errors.append(info.value)
    assert errors[0] is errors[1] is errors[2]
    assert builds == {"f": 1}
    with pytest.warns(srcgrad.FallbackWarning):
        assert srcgrad.grad(mod.f)(3.0) == pytest.approx(6.0)
    assert builds == {"f": 1}


# -- threads ------------------------------------------------------------------------

_THREADED = """
import numpy as np

def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)

def even(n, x):
    if n == 0:
        return np.cos(x)
    return odd(n - 1, x * 1.5)

def odd(n, x):
    if n == 0:
        return np.sin(x)
    return even(n - 1, x + 0.1)

def make(s):
    def f(x):
        return s * power(x, 3) + even(2, x)
    return f
"""


def _functions(tmp_path, count):
    text = _THREADED + "".join(
        f"\ndef f{k}(x):\n    return np.sin({k + 1}.0 * x) * power(x, 3) + even(3, x)\n"
        for k in range(count))
    return load_module(tmp_path, text, "threads")


def test_threads_transform_the_same_new_function(tmp_path):
    rounds, threads = 24, 8
    mod = _functions(tmp_path, rounds)
    x = 0.4
    failures: list = []
    made: list = []
    barrier = threading.Barrier(threads)

    def work(k: int) -> None:
        f = getattr(mod, f"f{k}")
        expected = numerical_grad(f, (x,), 0)
        try:
            barrier.wait()
            g = srcgrad.grad(f, engine="source")
            made.append((g, expected))
            assert abs(g(x) - expected) < 1e-6
        except Exception as err:          # noqa: BLE001 (collected, reported below)
            failures.append(repr(err))

    for k in range(rounds):
        pool = [threading.Thread(target=work, args=(k,)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    assert not failures, failures[:3]
    for g, expected in made:            # every gradient made concurrently still works
        assert abs(g(x) - expected) < 1e-6


def test_threads_over_recursion_and_rebinding(tmp_path):
    mod = _functions(tmp_path, 1)
    barrier = threading.Barrier(6)
    failures: list = []

    def work(k: int) -> None:
        barrier.wait()
        try:
            for step in range(15):
                scale = float(k + step)
                f = mod.make(scale)
                check(f, 0.3 + 0.01 * k)
        except Exception as err:          # noqa: BLE001
            failures.append(repr(err))

    pool = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not failures, failures[:3]


def test_a_failed_transform_leaves_no_broken_entry(tmp_path, monkeypatch):
    mod = load_module(tmp_path, """
        import numpy as np

        def first(x, n):
            if n == 0:
                return np.sin(x)
            return second(x * 1.1, n - 1)

        def second(x, n):
            return first(x, n) * 2.0

        def third(x):
            return second(x, 2) + x

        def fourth(x):
            return first(x, 2) * x
    """)
    original = transform._Builder.build

    def failing(self):
        compiled = original(self)
        if self.fun is mod.second:     # after first, which calls it back, was transformed
            raise self.parsed.error(self.parsed.node, "a construct refused late")
        return compiled

    monkeypatch.setattr(transform._Builder, "build", failing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)   # second runs on the tape
        srcgrad.grad(mod.third)
    monkeypatch.setattr(transform._Builder, "build", original)
    g = srcgrad.grad(mod.fourth, engine="source")      # calls first's derivative
    assert g(0.3) == pytest.approx(numerical_grad(mod.fourth, (0.3,), 0), rel=1e-6)


# -- differential fuzzer: re-definitions, closures, defaults, callees' globals, threads -----

BODIES = [
    "np.sum(s * leaf(x) ** 2) + t * np.sum(x)",
    "np.sum(np.tanh(s * mid(x))) - t * np.sum(x * x)",
    "np.sum(s * np.sin(x) * leaf(x)) + t",
    "np.sum(mid(x) * x) * s + t * np.sum(np.cos(x))",
    "np.sum(B * np.exp(-s * x * x)) + A * t * np.sum(x)",
]

_MODULE = '''
import numpy as np

A = {a!r}
B = np.array({b!r})

def leaf(x):
    return A * np.sin(x) + B * x

def mid(x):
    return leaf(x) * 1.5 + A

def make(c, w):
    def f(x, s=c, *, t=0.5):
        return np.sum(w * np.tanh(s * x)) + c * np.sum(leaf(x))
    return f

def f(x, s=1.0, *, t=0.5):
    return {body}
'''

STEPS = ["redefine", "closure", "defaults", "kwdefaults", "leaf global", "mid global",
         "threads"]


def _assert_gradients(fun, x, tag):
    got = srcgrad.grad(fun, engine="source")(x)
    tape = srcgrad.grad(fun, engine="tape")(x)
    assert_close(got, tape, rtol=1e-9, atol=1e-12)
    assert_close(got, numerical_grad(fun, (x,), 0), rtol=1e-5, atol=1e-6)
    return got


# a longer run: SRCGRAD_CACHE_EXAMPLES=500 pytest tests/soundness/test_cache.py -k random
_EXAMPLES = int(os.environ.get("SRCGRAD_CACHE_EXAMPLES", 0)) or (
    6 if os.environ.get("SRCGRAD_QUICK") else 20)


@settings(max_examples=_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(STEPS), min_size=3, max_size=7), st.integers(0, 2 ** 31 - 1))
def test_random_redefinitions_closures_defaults_and_threads(tmp_path, steps, seed):
    rng = np.random.default_rng(seed)

    def numbers(n):
        return [round(float(v), 3) for v in rng.uniform(-1.5, 1.5, n)]

    def module(body):
        text = _MODULE.format(a=numbers(1)[0], b=numbers(3), body=body)
        return load_module(tmp_path, text, "fuzz")

    mod = module(BODIES[int(rng.integers(len(BODIES)))])
    fun = mod.f
    x = np.array(numbers(3))
    _assert_gradients(fun, x, "start")
    for step in steps:
        if step == "redefine":            # same name, same line, another body and file
            mod = module(BODIES[int(rng.integers(len(BODIES)))])
            fun = mod.f
        elif step == "closure":
            fun = mod.make(numbers(1)[0], np.array(numbers(3)))
        elif step == "defaults":
            fun.__defaults__ = (numbers(1)[0],)
        elif step == "kwdefaults":
            fun.__kwdefaults__ = {"t": numbers(1)[0]}
        elif step == "leaf global":       # read by a callee one or two levels down
            if rng.integers(2):
                mod.A = numbers(1)[0]
            else:
                mod.B = np.array(numbers(3))
        elif step == "mid global":        # rebinding the callee itself
            source = mod.leaf if rng.integers(2) else module("x").leaf
            mod.leaf = source
        if step == "threads":
            expected = _assert_gradients(fun, x, step)
            barrier = threading.Barrier(4)
            results: list = []

            def work(target=fun):
                barrier.wait()
                fresh = mod.make(0.7, np.ones(3))       # a new function in every thread
                results.append((srcgrad.grad(target, engine="source")(x),
                                srcgrad.grad(fresh, engine="source")(x)))

            pool = [threading.Thread(target=work) for _ in range(4)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            assert len(results) == 4
            reference = srcgrad.grad(mod.make(0.7, np.ones(3)), engine="tape")(x)
            for got, fresh in results:
                assert_close(got, expected, rtol=1e-12, atol=1e-14)
                assert_close(fresh, reference, rtol=1e-9, atol=1e-12)
        else:
            _assert_gradients(fun, x, step)
