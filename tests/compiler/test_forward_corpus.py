"""Every corpus function in forward mode: tangents match gradients and differences."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from srcgrad.compiler.transform import compile_function

from .corpus import CASES
from .fd import assert_close


def _direction(value, rng):
    if isinstance(value, (list, tuple)):
        return type(value)(_direction(v, rng) for v in value)
    if isinstance(value, np.ndarray):
        return rng.standard_normal(value.shape).astype(value.dtype)
    return float(rng.standard_normal())


def _step(value, direction, eps):
    if isinstance(value, (list, tuple)):
        return type(value)(_step(v, d, eps) for v, d in zip(value, direction, strict=True))
    return value + eps * direction


def _inner(a, b) -> float:
    if isinstance(a, (list, tuple)):
        return sum(_inner(u, v) for u, v in zip(a, b, strict=True))
    return float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_jvp_matches_gradient_and_finite_differences(case):
    rng = np.random.default_rng(3)
    tangents = [_direction(case.args[i], rng) for i in case.argnums]
    compiled = compile_function(case.fun, case.argnums, "jvp")
    out, tangent = compiled.function(*copy.deepcopy(tangents), *copy.deepcopy(case.args))
    assert_close(out, case.fun(*copy.deepcopy(case.args)), rtol=1e-10, atol=1e-12)

    grads = compile_function(case.fun, case.argnums, "grad").function(
        *copy.deepcopy(case.args))[1]
    expected = sum(_inner(g, t) for g, t in zip(grads, tangents, strict=True))
    assert float(tangent) == pytest.approx(expected, rel=1e-9, abs=1e-9)

    eps = 1e-6

    def at(sign: float) -> float:
        args = list(copy.deepcopy(case.args))
        for i, t in zip(case.argnums, tangents, strict=True):
            args[i] = _step(args[i], t, sign * eps)
        return float(case.fun(*args))

    assert float(tangent) == pytest.approx((at(1) - at(-1)) / (2 * eps), rel=1e-5, abs=1e-6)


def _appended_in_loop(x):
    items = [1.0]
    for k in range(3):
        if k > 0:
            items.append(x * k)
    return items[-1] + items[0]


def _appended_after_constants(x):
    items = [1.0]
    items.append(np.sin(x))
    return items[1] * 3.0


# (Appending to a list argument, `items = base; items.append(...)`, changes the
# caller's list; the source engine refuses it: see tests/compiler/test_refusals.py.)
@pytest.mark.parametrize("fun", [_appended_after_constants, _appended_in_loop],
                         ids=lambda f: f.__name__)
def test_a_list_without_tangent_gets_one_when_a_tangent_is_appended(fun):
    compiled = compile_function(fun, (0,), "jvp")
    out, tangent = compiled.function(1.0, 0.7)
    eps = 1e-6
    expected = (fun(0.7 + eps) - fun(0.7 - eps)) / (2 * eps)
    assert out == pytest.approx(fun(0.7))
    assert tangent == pytest.approx(expected, rel=1e-6)
