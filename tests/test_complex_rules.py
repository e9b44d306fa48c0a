"""Every rule declared ``complex``: checked against finite differences on complex values.

For each sample of ``tests/rule_samples/`` of such a rule, the float arguments it
differentiates are made complex (a random imaginary part is added), all of them
or only the first, and with ``J_x``, ``J_y`` the central-difference derivatives
of the output in the real and the imaginary direction of each coordinate:

* the VJP of cotangent ``u`` is JAX's ``sum(u J_x) - 1j * sum(u J_y)`` (real
  parts of the pairings), its real part for an argument left real;
* the JVP of tangent ``a + 1j b`` is ``J_x a + J_y b``.

Rules not declared ``complex`` are refused on complex values by both engines
(``test_real_only_rules_refuse_complex_values``).
"""

from __future__ import annotations

import warnings
import zlib
from typing import Any

import numpy as np
import pytest

from srcgrad.rules.registry import refuse_complex
from srcgrad.runtime import real_cotangent
from tests.test_rules import CASES_BY_RULE, DIFFERENTIABLE, Case, _diff_argnums

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning",
                                        "error::numpy.exceptions.ComplexWarning")

COMPLEX = [r for r in DIFFERENTIABLE if r.complex]
CASES = [(case, which) for rule in COMPLEX for case in CASES_BY_RULE.get(id(rule), [])
         for which in ("all", "first")]


def _rng(case: Case, salt: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{case.id}/{salt}".encode()))


def _complexify(v: Any, rng: np.random.Generator) -> Any:
    if isinstance(v, (list, tuple)):
        return type(v)(_complexify(e, rng) for e in v)
    if isinstance(v, np.floating):
        return np.complex128(complex(v, rng.uniform(-0.4, 0.4)))
    if isinstance(v, float):
        return complex(v, rng.uniform(-0.4, 0.4))
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(np.complex128) + 1j * rng.uniform(-0.4, 0.4, v.shape)
    return v


def _flat(v: Any) -> np.ndarray:
    if isinstance(v, (list, tuple)):
        parts = [_flat(e) for e in v]
        return np.concatenate(parts) if parts else np.zeros(0, complex)
    return np.ravel(np.asarray(v, dtype=np.complex128))


def _unflat(vec: np.ndarray, template: Any) -> Any:
    if isinstance(template, (list, tuple)):
        out, start = [], 0
        for t in template:
            n = int(np.size(_flat(t)))
            out.append(_unflat(vec[start:start + n], t))
            start += n
        return type(template)(out)
    dtype = np.result_type(template)
    values = vec if dtype.kind == "c" else vec.real
    if isinstance(template, np.ndarray):
        return values.astype(dtype).reshape(template.shape)
    if isinstance(template, np.generic):
        return dtype.type(values[0])
    return complex(values[0]) if dtype.kind == "c" else float(values[0])


def _is_complex_tree(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_is_complex_tree(e) for e in v)
    return np.iscomplexobj(v)


def _primal(rule: Any, args: list, kwargs: dict) -> Any:
    # (a sample may cast to a real dtype: NumPy warns that it drops the imaginary part)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        return rule.primitive(*args, **kwargs)


def _call(rule: Any, args: list, kwargs: dict) -> np.ndarray:
    out = _primal(rule, args, kwargs)
    return _flat(list(out) if rule.outputs > 1 else out)


def _with(args: list, i: int, vec: np.ndarray) -> list:
    new = list(args)
    new[i] = _unflat(vec, args[i])
    return new


def _derivatives(rule: Any, args: list, kwargs: dict, i: int) -> tuple[np.ndarray, np.ndarray]:
    """``(J_x, J_y)``: central differences along the real and imaginary directions."""
    x = _flat(args[i])
    complex_arg = _is_complex_tree(args[i])
    cols_x, cols_y = [], []
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        for step, cols in ((h, cols_x), (1j * h, cols_y)):
            if step == 1j * h and not complex_arg:
                cols.append(np.zeros_like(cols_x[-1]))
                continue
            up, down = x.copy(), x.copy()
            up[k] += step
            down[k] -= step
            cols.append((_call(rule, _with(args, i, up), kwargs)
                         - _call(rule, _with(args, i, down), kwargs)) / (2 * h))
    return np.stack(cols_x, axis=1), np.stack(cols_y, axis=1)


def _draw(case: Case, which: str) -> tuple[list, dict, list[int]]:
    args, kwargs = case.draw()
    argnums = _diff_argnums(case.rule, args)
    rng = _rng(case, "imag")
    for n, i in enumerate(argnums):
        if which == "all" or n == 0:
            args[i] = _complexify(args[i], rng)
    return args, kwargs, argnums


def _output_cotangent(rule: Any, ans: Any, u: np.ndarray) -> Any:
    outs = list(ans) if rule.outputs > 1 else ans
    g = _unflat(u, outs) if not isinstance(outs, list) or rule.outputs > 1 else _unflat(u, outs)
    return tuple(g) if rule.outputs > 1 else g


def _close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


@pytest.mark.parametrize("case, which", [pytest.param(c, w, id=f"{c.id}-{w}")
                                         for c, w in CASES])
def test_complex_vjp_and_jvp_match_finite_differences(case, which):
    rule = case.rule
    args, kwargs, argnums = _draw(case, which)
    try:
        ans = _primal(rule, args, kwargs)
    except (TypeError, AttributeError) as err:      # NumPy itself refuses (astype of complex)
        pytest.skip(f"{rule.name} refuses these complex arguments: {err}")
    out = _flat(list(ans) if rule.outputs > 1 else ans)
    rng = _rng(case, "directions")
    for i in argnums:
        what = f"{rule.name} argument {i} at {case.sample!r} ({which} complex)"
        jx, jy = _derivatives(rule, args, kwargs, i)
        assert np.all(np.isfinite(jx)) and np.all(np.isfinite(jy)), "not differentiable here"
        u = rng.standard_normal(out.size)
        if _is_complex_tree(ans):
            u = u + 1j * rng.standard_normal(out.size)
        got = rule.vjps[i](_output_cotangent(rule, ans, u), ans, *args, **kwargs)
        if not isinstance(args[i], (list, tuple)):
            got = real_cotangent(got, args[i])
        want = (u @ jx).real - 1j * (u @ jy).real
        _close(_flat(got), want if _is_complex_tree(args[i]) else want.real, "VJP of " + what)
        x = _flat(args[i])
        a = rng.standard_normal(x.size)
        b = rng.standard_normal(x.size) if _is_complex_tree(args[i]) else np.zeros(x.size)
        tangent = _unflat(a + 1j * b, args[i])
        got = rule.jvps[i](tangent, ans, *args, **kwargs)
        if rule.outputs > 1:
            got = [np.zeros(np.shape(o)) if t is None else t for t, o in zip(got, ans,
                                                                              strict=True)]
        _close(_flat(got), jx @ a + jy @ b, "JVP of " + what)


REAL_ONLY = [r for r in DIFFERENTIABLE if not r.complex and CASES_BY_RULE.get(id(r))]


@pytest.mark.parametrize("rule", REAL_ONLY, ids=lambda r: r.name)
def test_real_only_rules_refuse_complex_values(rule):
    case = CASES_BY_RULE[id(rule)][0]
    args, kwargs, argnums = _draw(case, "first")
    with pytest.raises(TypeError, match="for real values only"):
        refuse_complex(rule.name, *args, *kwargs.values())


def test_every_complex_rule_has_complex_samples():
    missing = [r.name for r in COMPLEX if not CASES_BY_RULE.get(id(r))]
    assert not missing, missing
