"""The registry test: every derivative rule against finite differences.

Walks ``srcgrad.rules.all_rules()`` and the sample calls in
``tests/rule_samples/*.py``.  For every differentiable rule and sample:

* the VJP of each differentiated argument equals ``J^T u`` for a random
  cotangent ``u``, with ``J`` the float64 central-difference Jacobian (a complex
  value counts as its real and imaginary parts; a VJP takes and gives JAX's
  cotangents, the conjugates of these real-pair ones);
* the JVP equals the directional central difference ``J v``, with the
  output's shape;
* the two are transposes: ``<jvp(v), u> == <v, vjp(u)>``;
* float32 inputs give float32 cotangents and tangents;
* (sample modules with ``CHECK_DUCK``) the rules give the same values on an
  ``__array_ufunc__``/``__array_function__`` wrapper, which is how the tape
  calls them on its Tensors.

A differentiable rule without samples fails by name, so no rule goes untested.
"""

from __future__ import annotations

import importlib
import math
import operator
import pkgutil
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import srcgrad.rules
import tests.rule_samples as rule_samples
from srcgrad.rules import all_rules, load_optional, lookup
from srcgrad.rules import nn as nn_rules
from srcgrad.rules.registry import Rule
from tests.rule_samples import Sample

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

load_optional(import_libraries=True)  # SciPy's rules too, when SciPy is installed
RULES = all_rules()
DIFFERENTIABLE = [r for r in RULES if r.differentiable]

# --- collecting the samples ---------------------------------------------------


def _load_sample_modules() -> tuple[list[ModuleType], dict[str, str]]:
    modules, errors = [], {}
    for info in sorted(pkgutil.iter_modules(rule_samples.__path__), key=lambda m: m.name):
        name = f"{rule_samples.__name__}.{info.name}"
        try:
            modules.append(importlib.import_module(name))
        except Exception as exc:  # reported by test_sample_modules_import
            errors[name] = f"{type(exc).__name__}: {exc}"
    return modules, errors


SAMPLE_MODULES, IMPORT_ERRORS = _load_sample_modules()


@dataclass
class Case:
    rule: Rule
    index: int
    sample: Sample
    module: ModuleType

    @property
    def id(self) -> str:
        return f"{self.rule.name}-{self.index}"

    def draw(self) -> tuple[list, dict]:
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        args, kwargs = self.sample.draw(rng)
        return list(args), kwargs

    def rng(self, salt: str) -> np.random.Generator:
        return np.random.default_rng(zlib.crc32(f"{self.id}/{salt}".encode()))


def _collect() -> tuple[dict[int, list[Case]], list[str]]:
    by_rule: dict[int, list[Case]] = {}
    unknown = []
    for module in SAMPLE_MODULES:
        for fun, samples in getattr(module, "SAMPLES", {}).items():
            rule = lookup(fun)
            if rule is None:
                unknown.append(f"{module.__name__}: {fun!r} has samples but no rule")
                continue
            cases = by_rule.setdefault(id(rule), [])
            for sample in samples:
                cases.append(Case(rule, len(cases), sample, module))
    return by_rule, unknown


CASES_BY_RULE, UNKNOWN_SAMPLES = _collect()
CASES = [case for rule in DIFFERENTIABLE for case in CASES_BY_RULE.get(id(rule), [])]


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, id=case.id) for case in cases]


# --- values, flattening, finite differences -----------------------------------


def _is_float(v: Any) -> bool:
    """A real or complex floating value (differentiated; complex ones by their two parts)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, float):
        return True
    return isinstance(v, (np.ndarray, np.generic)) and np.issubdtype(v.dtype, np.inexact)


def _conj(value: Any) -> Any:
    """Complex arrays conjugated (lists walked, the rest as is): JAX's cotangent of a
    complex value is the conjugate of the pair of real cotangents of its two parts."""
    if isinstance(value, (list, tuple)):
        return type(value)(_conj(v) for v in value)
    return np.conj(value) if np.iscomplexobj(value) else value


def _complex(value: Any) -> bool:
    """Does a value (or any item of a list or tuple) hold complex numbers?"""
    if isinstance(value, (list, tuple)):
        return any(_complex(v) for v in value)
    return np.iscomplexobj(value)


def _is_float_tree(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_is_float_tree(e) for e in v)
    return _is_float(v)


def _diff_argnums(rule: Rule, args: list) -> list[int]:
    """The argument positions this call differentiates: float values with a VJP."""
    found = []
    for i in rule.argnums:
        if i >= len(args):
            continue
        if i in rule.sequence_argnums:
            seq = args[i]
            if _is_float_tree(seq):
                found.append(i)  # a list or tuple of floats (nested for np.array), or an array
        elif _is_float(args[i]):
            found.append(i)
    return found


def _flat(value: Any) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        if not value:
            return np.zeros(0)
        return np.concatenate([_flat(v) for v in value])
    if np.iscomplexobj(value):
        value = np.asarray(value)
        return np.concatenate([_flat(value.real), _flat(value.imag)])
    return np.ravel(np.asarray(value, dtype=np.float64))


def _unflat(vec: np.ndarray, template: Any, dtype: Any = None) -> Any:
    """``vec`` shaped (and typed) like ``template``: arrays, NumPy/Python scalars, lists."""
    if isinstance(template, (list, tuple)):
        out, start = [], 0
        for t in template:
            n = _size(t)
            out.append(_unflat(vec[start : start + n], t, dtype))
            start += n
        return type(template)(out)
    if np.iscomplexobj(template):
        n, real = np.size(template), np.real(template)
        value = _unflat(vec[:n], real, dtype) + 1j * _unflat(vec[n:], real, dtype)
        return value if dtype is None else value.astype(np.result_type(dtype, np.complex64))
    if isinstance(template, np.ndarray):
        return np.array(vec, dtype=dtype or template.dtype).reshape(template.shape)
    if isinstance(template, np.generic):
        return (np.dtype(dtype).type if dtype else type(template))(vec[0])
    return float(vec[0])


def _outputs(rule: Rule, ans: Any) -> list:
    return list(ans) if _several(rule, ans) else [ans]


def _several(rule: Rule, ans: Any) -> bool:
    """Did the call return several outputs (its arguments may choose: svd's compute_uv)?"""
    return rule.outputs > 1 and isinstance(ans, tuple)


def _is_float_output(o: Any) -> bool:
    """A float output, or one output that is a sequence of floats (np.split's pieces)."""
    if isinstance(o, (list, tuple)):
        return bool(o) and all(_is_float(e) for e in o)
    return _is_float(o)


def _size(o: Any) -> int:
    """Number of elements of an output, summed over the pieces of a sequence."""
    if isinstance(o, (list, tuple)):
        return sum(_size(e) for e in o)
    return int(np.size(o)) * (2 if np.iscomplexobj(o) else 1)


def _cotangent(rule: Rule, ans: Any, vec: np.ndarray, dtype: Any = None) -> Any:
    """``vec`` as a cotangent of ``ans``; integer outputs (indices) get zeros."""
    outs = _outputs(rule, ans)
    pieces = _unflat(vec, outs, dtype)
    pieces = [
        p if _is_float_output(o) else np.zeros(np.shape(o))
        for p, o in zip(pieces, outs, strict=True)
    ]
    return tuple(pieces) if _several(rule, ans) else pieces[0]


def _float_rows(rule: Rule, ans: Any) -> np.ndarray:
    """Which entries of the flattened outputs are floats (the others have no cotangent)."""
    return np.concatenate([np.full(_size(o), _is_float_output(o)) for o in _outputs(rule, ans)])


def _flat_outputs(rule: Rule, value: Any, ans: Any) -> np.ndarray:
    """A (tuple of) output(s) or tangent(s) as one float64 vector; None counts as zero."""
    if _several(rule, ans):
        parts = [
            np.zeros(_size(a)) if v is None else _flat(v) for v, a in zip(value, ans, strict=True)
        ]
        return np.concatenate(parts)
    return _flat(value)


def _call(rule: Rule, args: list, kwargs: dict) -> np.ndarray:
    out = rule.primitive(*args, **kwargs)
    return np.concatenate([_flat(o) for o in _outputs(rule, out)])


def _with_arg(args: list, i: int, vec: np.ndarray) -> list:
    new = list(args)
    new[i] = _unflat(vec, args[i])
    return new


def _step(x: np.ndarray) -> float:
    return 1e-6 * max(1.0, float(np.max(np.abs(x), initial=0.0)))


def _jacobian(rule: Rule, args: list, kwargs: dict, i: int) -> np.ndarray:
    x = _flat(args[i])
    columns = []
    for j in range(x.size):
        h = 1e-6 * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        plus = _call(rule, _with_arg(args, i, up), kwargs)
        minus = _call(rule, _with_arg(args, i, down), kwargs)
        columns.append((plus - minus) / (2 * h))
    jac = np.stack(columns, axis=1)
    assert np.all(np.isfinite(jac)), "sample is not differentiable here: pick another domain"
    return jac


def _same_structure(got: Any, template: Any, what: str) -> None:
    if isinstance(template, (list, tuple)):
        assert isinstance(got, (list, tuple)), f"{what}: expected a sequence, got {type(got)}"
        assert len(got) == len(template), f"{what}: {len(got)} items, expected {len(template)}"
        for k, (a, b) in enumerate(zip(got, template, strict=True)):
            _same_structure(a, b, f"{what}[{k}]")
        return
    assert np.shape(got) == np.shape(template), (
        f"{what}: shape {np.shape(got)}, expected {np.shape(template)}"
    )


def _close(got: np.ndarray, want: np.ndarray, sample: Sample, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=sample.rtol, atol=sample.atol * scale, err_msg=what)


def _snapshot(values: list) -> list:
    return [_flat(v).copy() if _is_float(v) else None for v in values]


def _unchanged(before: list, values: list, what: str) -> None:
    for k, (old, v) in enumerate(zip(before, values, strict=True)):
        if old is not None:
            np.testing.assert_array_equal(_flat(v), old, err_msg=f"{what} modified argument {k}")


def _case_args(case: Case) -> tuple[list, dict, Any, list[int]]:
    args, kwargs = case.draw()
    ans = case.rule.primitive(*args, **kwargs)
    argnums = _diff_argnums(case.rule, args)
    assert argnums, f"{case.sample!r} differentiates no argument of {case.rule.name}"
    return args, kwargs, ans, argnums


# --- every rule is covered ------------------------------------------------------


@pytest.mark.parametrize("module", sorted(IMPORT_ERRORS) or [None])
def test_sample_modules_import(module):
    assert module is None, f"{module} failed to import: {IMPORT_ERRORS.get(module)}"


def test_samples_refer_to_rules():
    assert not UNKNOWN_SAMPLES, "\n".join(UNKNOWN_SAMPLES)


@pytest.mark.parametrize("rule", DIFFERENTIABLE, ids=lambda r: r.name)
def test_every_rule_has_samples(rule):
    if not CASES_BY_RULE.get(id(rule)):
        pytest.fail(f"{rule.name} has no samples: add some to tests/rule_samples/", pytrace=False)


@pytest.mark.parametrize("rule", DIFFERENTIABLE, ids=lambda r: r.name)
def test_every_vjp_has_a_jvp(rule):
    assert rule.vjps, f"{rule.name} is differentiable but has no VJP"
    assert set(rule.jvps) == set(rule.vjps), (
        f"{rule.name}: VJPs for arguments {sorted(rule.vjps)}, JVPs for {sorted(rule.jvps)}"
    )
    assert set(rule.sequence_argnums) <= set(rule.vjps)


# --- finite differences ----------------------------------------------------------


@pytest.mark.parametrize("case", _params(CASES))
def test_vjp_matches_finite_differences(case):
    rule = case.rule
    args, kwargs, ans, argnums = _case_args(case)
    for i in argnums:
        what = f"{rule.name} VJP of argument {i} at {case.sample!r}"
        jac = _jacobian(rule, args, kwargs, i)
        u = case.rng(f"u{i}").standard_normal(jac.shape[0]) * _float_rows(rule, ans)
        g = _conj(_cotangent(rule, ans, u))
        before = _snapshot(args if _several(rule, ans) else [*args, g])
        got = rule.vjps[i](g, ans, *args, **kwargs)
        _unchanged(before, args if _several(rule, ans) else [*args, g], what)
        _same_structure(got, args[i], what)
        assert _complex(got) == _complex(args[i]), f"{what}: dtypes {_dtypes(got)}"
        _close(_flat(_conj(got)), jac.T @ u, case.sample, what)


@pytest.mark.parametrize("case", _params(CASES))
def test_jvp_matches_finite_differences(case):
    rule = case.rule
    args, kwargs, ans, argnums = _case_args(case)
    for i in argnums:
        what = f"{rule.name} JVP of argument {i} at {case.sample!r}"
        x = _flat(args[i])
        v = case.rng(f"v{i}").standard_normal(x.size)
        h = _step(x)
        plus = _call(rule, _with_arg(args, i, x + h * v), kwargs)
        minus = _call(rule, _with_arg(args, i, x - h * v), kwargs)
        want = (plus - minus) / (2 * h)
        assert np.all(np.isfinite(want)), "sample is not differentiable here"
        before = _snapshot(args)
        got = rule.jvps[i](_unflat(v, args[i]), ans, *args, **kwargs)
        _unchanged(before, args, what)
        if _several(rule, ans):
            assert len(got) == len(ans), f"{what}: {len(got)} tangents"
            for k, (t, a) in enumerate(zip(got, ans, strict=True)):
                if t is not None:
                    _same_structure(t, a, f"{what}, output {k}")
        else:
            _same_structure(got, ans, what)
        _close(_flat_outputs(rule, got, ans), want, case.sample, what)


@pytest.mark.parametrize("case", _params(CASES))
def test_jvp_is_transpose_of_vjp(case):
    rule = case.rule
    args, kwargs, ans, argnums = _case_args(case)
    n_out = sum(_size(a) for a in _outputs(rule, ans))
    for i in argnums:
        u = case.rng(f"u{i}").standard_normal(n_out) * _float_rows(rule, ans)
        v = case.rng(f"v{i}").standard_normal(_flat(args[i]).size)
        ju = float(
            _flat_outputs(rule, rule.jvps[i](_unflat(v, args[i]), ans, *args, **kwargs), ans) @ u
        )
        vj = float(v @ _flat(_conj(rule.vjps[i](_conj(_cotangent(rule, ans, u)), ans, *args,
                                                **kwargs))))
        scale = max(1.0, abs(ju), abs(vj))
        assert abs(ju - vj) <= 1e-9 * scale, (
            f"{rule.name} argument {i}: <jvp(v), u> = {ju!r} but <v, vjp(u)> = {vj!r}"
        )


# --- float32 -------------------------------------------------------------------


def _to_float32(value: Any) -> Any:
    if isinstance(value, list):
        return [_to_float32(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_float32(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, np.ndarray) and value.dtype == np.complex128:
        return value.astype(np.complex64)
    return value


def _is_float32(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_is_float32(e) for e in v)
    return isinstance(v, (np.ndarray, np.generic)) and v.dtype in _SINGLE


_SINGLE = (np.float32, np.complex64)


def _dtypes(v: Any) -> list:
    """dtypes of a result; ``None`` (no tangent for an integer output) has none."""
    if isinstance(v, (list, tuple)):
        return [d for e in v for d in _dtypes(e)]
    if v is None:
        return []
    return [getattr(v, "dtype", type(v).__name__)]


def _float32_applies(case: Case) -> bool:
    if not getattr(case.module, "CHECK_FLOAT32", True) or not case.sample.float32:
        return False
    args, _ = case.draw()
    return any(_is_float32(_to_float32(args[i])) for i in _diff_argnums(case.rule, args))


FLOAT32_CASES = [case for case in CASES if _float32_applies(case)]


@pytest.mark.parametrize("case", _params(FLOAT32_CASES))
def test_float32_stays_float32(case):
    rule = case.rule
    args, kwargs = case.draw()
    args = _to_float32(args)
    ans = rule.primitive(*args, **kwargs)
    floats = [a for a in _outputs(rule, ans) if _is_float_output(a)]
    if not floats or not all(_is_float32(a) for a in floats):
        pytest.skip(f"{rule.name} does not compute in float32 here")
    n_out = sum(_size(a) for a in _outputs(rule, ans))
    g = _cotangent(rule, ans, np.ones(n_out), np.float32)
    for i in _diff_argnums(rule, args):
        if not _is_float32(args[i]):
            continue
        got = rule.vjps[i](g, ans, *args, **kwargs)
        assert all(d in _SINGLE for d in _dtypes(got)), (
            f"{rule.name} VJP of float32 argument {i} gives {_dtypes(got)}"
        )
        tangent = rule.jvps[i](_unflat(_flat(args[i]), args[i]), ans, *args, **kwargs)
        assert all(d in _SINGLE for d in _dtypes(tangent)), (
            f"{rule.name} JVP of float32 argument {i} gives {_dtypes(tangent)}"
        )


# --- rules on array-like objects (the tape's Tensors) ------------------------------


class Duck(np.lib.mixins.NDArrayOperatorsMixin):
    """The smallest NumPy-protocol array: no ``__array__``, so nothing may coerce it."""

    def __init__(self, value: Any) -> None:
        self.value = np.asarray(value)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            return NotImplemented
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, index):
        return _wrap(self.value[_unwrap(index)])

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"Duck({self.value!r})"


def _wrap(v: Any) -> Any:
    if isinstance(v, (np.ndarray, np.generic)):
        return Duck(v)
    if isinstance(v, (list, tuple)):
        return type(v)(_wrap(e) for e in v)
    return v


def _unwrap(v: Any) -> Any:
    if isinstance(v, Duck):
        return v.value
    if isinstance(v, list):
        return [_unwrap(e) for e in v]
    if isinstance(v, tuple):
        return tuple(_unwrap(e) for e in v)
    if isinstance(v, dict):
        return {k: _unwrap(e) for k, e in v.items()}
    return v


def _all_ducks(v: Any) -> bool:
    """Every item is a Duck holding numbers (an ``np.asarray`` would give object arrays)."""
    if isinstance(v, (list, tuple)):
        return all(_all_ducks(e) for e in v if e is not None)
    return isinstance(v, Duck) and v.dtype != object


DUCK_CASES = [
    case for case in CASES if getattr(case.module, "CHECK_DUCK", False) and case.sample.duck
]


@pytest.mark.parametrize("case", _params(DUCK_CASES))
def test_rules_work_on_array_protocol_objects(case):
    rule = case.rule
    args, kwargs, ans, argnums = _case_args(case)
    n_out = sum(_size(a) for a in _outputs(rule, ans))
    g = _cotangent(rule, ans, case.rng("u").standard_normal(n_out))
    dargs = [_wrap(a) for a in args]
    single = not _several(rule, ans) and not isinstance(g, (list, tuple))
    dans, dg = _wrap(ans), _wrap(np.asarray(g) if single else g)
    for i in argnums:
        what = f"{rule.name} argument {i} on array-protocol objects"
        plain = rule.vjps[i](g, ans, *args, **kwargs)
        ducked = rule.vjps[i](dg, dans, *dargs, **kwargs)
        assert _all_ducks(ducked), f"{what}: VJP left the protocol, returned {ducked!r}"
        np.testing.assert_allclose(_flat(_unwrap(ducked)), _flat(plain), rtol=1e-12, err_msg=what)
        v = _unflat(case.rng(f"v{i}").standard_normal(_flat(args[i]).size), args[i])
        plain = rule.jvps[i](v, ans, *args, **kwargs)
        ducked = rule.jvps[i](
            _wrap(np.asarray(v)) if not isinstance(v, list) else _wrap(v), dans, *dargs, **kwargs
        )
        assert _all_ducks(ducked), f"{what}: JVP left the protocol, returned {ducked!r}"
        np.testing.assert_allclose(_flat(_unwrap(ducked)), _flat(plain), rtol=1e-12, err_msg=what)


# --- the awkward points -------------------------------------------------------------


def _vjp(fun, argnum, g, *args, **kwargs):
    rule = lookup(fun)
    return rule.vjps[argnum](g, fun(*args, **kwargs), *args, **kwargs)


def _jvp(fun, argnum, t, *args, **kwargs):
    rule = lookup(fun)
    return rule.jvps[argnum](t, fun(*args, **kwargs), *args, **kwargs)


def test_abs_derivative_at_zero_is_zero():
    x = np.array([-2.0, 0.0, 3.0])
    for fun in (np.abs, np.fabs, abs, operator.abs):
        np.testing.assert_array_equal(_vjp(fun, 0, np.ones(3), x), [-1.0, 0.0, 1.0])
        np.testing.assert_array_equal(_jvp(fun, 0, np.ones(3), x), [-1.0, 0.0, 1.0])
    assert _vjp(math.fabs, 0, 1.0, 0.0) == 0.0


def test_ties_split_the_gradient_evenly():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    for fun, wx in [
        (np.maximum, [0.5, 1, 0]),
        (np.minimum, [0.5, 0, 1]),
        (np.fmax, [0.5, 1, 0]),
        (np.fmin, [0.5, 0, 1]),
    ]:
        np.testing.assert_array_equal(_vjp(fun, 0, np.ones(3), x, y), wx)
        np.testing.assert_array_equal(_vjp(fun, 1, np.ones(3), x, y), 1 - np.array(wx))
    for fun in (max, min):
        assert _vjp(fun, 0, 1.0, 2.0, 2.0) == 0.5
        assert _vjp(fun, 1, 1.0, 2.0, 2.0) == 0.5
    assert _vjp(np.maximum, 0, np.ones(3), x, 1.0).tolist() == [0.5, 1.0, 1.0]
    assert _vjp(np.maximum, 1, np.ones(3), x, 1.0) == 0.5


def test_reduction_ties_split_the_gradient_evenly():
    a = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [np.nan, 1.0, 0.0, 5.0]])
    g = np.array([6.0, 8.0, 1.0])
    for fun in (np.max, np.nanmax):
        with np.errstate(invalid="ignore"):
            got = _vjp(fun, 0, g, a, axis=1)
        expected = [[0, 3, 3, 0], [2, 2, 2, 2], [0, 0, 0, 1 if fun is np.nanmax else 0]]
        np.testing.assert_array_equal(got, expected)
    # float32 stays float32; ties split along several axes at once; Tensor-like inputs
    a32 = np.array([[1.0, 3.0], [3.0, 0.0]], dtype=np.float32)
    got = _vjp(np.max, 0, np.float32(4.0), a32)
    assert got.dtype == np.float32 and got.tolist() == [[0, 2], [2, 0]]
    got = _vjp(np.min, 0, np.ones((1, 2), np.float32), a32, axis=0, keepdims=True)
    assert got.dtype == np.float32 and got.tolist() == [[1, 0], [0, 1]]
    ducked = _vjp(np.max, 0, Duck(np.ones(2)), Duck(a32.astype(float)), axis=1)
    np.testing.assert_array_equal(ducked.value, [[0, 1], [1, 0]])


def test_extremum_cotangent_without_ties_and_with_an_initial_value():
    from srcgrad.rules._shape_helpers import extremum_cotangent

    # one hit per row: the cotangent goes to it whole (the no-ties path)
    a = np.array([[1.0, 4.0, 3.0], [7.0, 0.0, -1.0]])
    top = np.max(a, axis=1, keepdims=True)
    g = np.array([[2.0], [5.0]])
    np.testing.assert_array_equal(extremum_cotangent(g, a, top, 1, True),
                                  [[0, 2, 0], [5, 0, 0]])
    # as many hits as rows, but one row has none (NaN) and another two: shared, not doubled
    b = np.array([[np.nan, 1.0, 0.0], [2.0, 2.0, 0.0], [0.0, 3.0, 1.0]])
    with np.errstate(invalid="ignore"):
        top = np.max(b, axis=1, keepdims=True)
    got = extremum_cotangent(np.ones((3, 1)), b, top, 1, True)
    np.testing.assert_array_equal(got, [[0, 0, 0], [0.5, 0.5, 0], [0, 1, 0]])
    # np.max's ``initial`` beats row 0 (no hit) while row 1 ties: the rule says so
    c = np.array([[1.0, 0.0], [6.0, 6.0]])
    top = np.max(c, axis=1, keepdims=True, initial=5.0)
    got = _vjp(np.max, 0, np.ones((2, 1)), c, axis=1, keepdims=True, initial=5.0)
    np.testing.assert_array_equal(got, [[0, 0], [0.5, 0.5]])
    assert extremum_cotangent(np.ones((2, 1)), c, top, 1, True, False).tolist() == got.tolist()
    # all reduced: a NumPy scalar extremum, float32 kept
    d = np.array([3.0, 9.0, 1.0], dtype=np.float32)
    got = extremum_cotangent(np.float32(2.0), d, np.max(d))
    assert got.dtype == np.float32 and got.tolist() == [0, 2, 0]


def test_index_cotangent_spreads_a_number_over_the_selection():
    from srcgrad.rules._shape_helpers import index_cotangent

    x = np.zeros((3, 2))
    rows, cols = np.array([0, 2, 0]), np.array([1, 0, 1])
    np.testing.assert_array_equal(index_cotangent(np.float64(0.5), x, (rows, cols)),
                                  [[0, 1], [0, 0], [0.5, 0]])
    # a list: each selected item gets the number in its own shape
    items = [np.ones(2), np.ones((2, 2)), 3.0]
    out = index_cotangent(np.float64(2.0), items, slice(1, 3))
    assert out[0].tolist() == [0, 0] and out[1].tolist() == [[2, 2], [2, 2]]
    assert float(out[2]) == 2.0
    assert index_cotangent(1.0, items, 0)[0].tolist() == [1, 1]


def test_integer_array_index_cotangent_accumulates_repeats():
    from srcgrad.rules._shape_helpers import index_cotangent

    x = np.zeros((3, 4), dtype=np.float32)
    rows, cols = np.array([0, 2, 0, 0]), np.array([1, 3, 1, -1])
    g = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    out = index_cotangent(g, x, (rows, cols))
    expected = np.zeros((3, 4), dtype=np.float32)
    np.add.at(expected, (rows, cols), g)
    assert out.dtype == np.float32 and out.tolist() == expected.tolist()
    assert index_cotangent(2.0, x, (rows, cols))[0, 1] == 4.0    # a broadcast cotangent
    mask = np.array([True, False, True])
    assert index_cotangent(np.ones((2, 4)), x, mask).sum(axis=1).tolist() == [4, 0, 4]
    assert index_cotangent(np.ones(4), x, 1).tolist() == [[0] * 4, [1] * 4, [0] * 4]
    assert index_cotangent(np.ones((3, 2)), x, (slice(None), slice(1, 3)))[:, 1:3].all()
    ducked = index_cotangent(Duck(g), Duck(x), (rows, cols))
    np.testing.assert_array_equal(ducked.value, expected)


@pytest.mark.parametrize("ashape, bshape", [
    ((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)),
])
def test_matmul_cotangents_on_plain_and_protocol_arrays(ashape, bshape):
    from srcgrad.rules._shape_helpers import matmul_left_cotangent, matmul_right_cotangent

    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(ashape), rng.standard_normal(bshape)
    g = rng.standard_normal(np.shape(a @ b))
    # the defining identity: <g, da @ b + a @ db> = <ga, da> + <gb, db>
    da, db = rng.standard_normal(ashape), rng.standard_normal(bshape)
    ga, gb = matmul_left_cotangent(g, a, b), matmul_right_cotangent(g, a, b)
    assert np.shape(ga) == ashape and np.shape(gb) == bshape
    np.testing.assert_allclose(np.sum(g * (da @ b + a @ db)),
                               np.sum(ga * da) + np.sum(gb * db))
    dg = Duck(g) if np.ndim(g) else g
    np.testing.assert_allclose(matmul_left_cotangent(dg, Duck(a), Duck(b)).value, ga)
    np.testing.assert_allclose(matmul_right_cotangent(dg, Duck(a), Duck(b)).value, gb)


def test_sqrt_derivative_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert _vjp(np.sqrt, 0, np.ones(2), np.array([0.0, 4.0])).tolist() == [np.inf, 0.25]


def test_relu_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(_vjp(nn_rules.relu, 0, np.ones(3), x), [0.0, 0.0, 1.0])


def test_clip_passes_gradient_on_the_bounds():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(_vjp(np.clip, 0, np.ones(5), x, -0.5, 0.5), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(_vjp(np.clip, 0, np.ones(5), x, None, 0.0), [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(
        _vjp(np.clip, 0, np.ones(5), x, a_min=0.0, a_max=None), [0, 0, 1, 1, 1]
    )


def test_power_at_zero():
    x = np.array([0.0, 2.0])
    np.testing.assert_array_equal(_vjp(np.power, 0, np.ones(2), x, 0.0), [0.0, 0.0])
    np.testing.assert_array_equal(_vjp(np.power, 0, np.ones(2), x, np.zeros(2)), [0.0, 0.0])
    np.testing.assert_array_equal(_jvp(np.power, 0, np.ones(2), x, 0), [0.0, 0.0])
    np.testing.assert_array_equal(_vjp(np.power, 0, np.ones(2), x, 2), [0.0, 4.0])
    np.testing.assert_allclose(_vjp(np.power, 1, np.ones(2), x, 2.0), 4 * math.log(2))
    assert _vjp(np.power, 1, 1.0, 0.0, np.array([1.5])).tolist() == [0.0]
    assert _vjp(math.pow, 0, 1.0, 0.0, 0.0) == 0.0
    assert _vjp(math.pow, 1, 1.0, 0.0, 2.0) == 0.0


def test_sinc_derivative_at_zero():
    assert _vjp(np.sinc, 0, np.ones(1), np.zeros(1)).tolist() == [0.0]


def test_float32_with_python_scalars():
    x = np.array([0.5, 1.5], dtype=np.float32)
    g = np.ones(2, dtype=np.float32)
    for fun, argnum, args in [
        (np.power, 1, (2.0, x)),
        (np.power, 0, (x, 2.5)),
        (np.exp2, 0, (x,)),
        (np.log2, 0, (x,)),
        (np.multiply, 0, (x, 3.0)),
        (np.divide, 1, (1.5, x)),
        (np.arctan2, 0, (x, 0.5)),
        (np.maximum, 0, (x, 1.0)),
        (np.deg2rad, 0, (x,)),
        (nn_rules.softplus, 0, (x,)),
    ]:
        assert _vjp(fun, argnum, g, *args).dtype == np.float32, fun
        assert _jvp(fun, argnum, g, *args).dtype == np.float32, fun


def test_nn_primitives_are_stable():
    big = np.array([-1000.0, 0.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_allclose(nn_rules.sigmoid(big), [0.0, 0.5, 1.0])
        np.testing.assert_allclose(nn_rules.softplus(big), [0.0, math.log(2), 1000.0])
        np.testing.assert_allclose(nn_rules.softmax(big), [0.0, 0.0, 1.0])
        np.testing.assert_allclose(nn_rules.log_softmax(big), [-2000.0, -1000.0, 0.0])
        assert nn_rules.logsumexp(big) == 1000.0
        assert nn_rules.sigmoid(np.float32(-100.0)) > 0
        np.testing.assert_allclose(
            _vjp(nn_rules.sigmoid, 0, np.ones(3), big), [0.0, 0.25, 0.0], atol=1e-300
        )
    assert nn_rules.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    assert nn_rules.logsumexp(np.array([np.inf, 0.0])) == np.inf


def test_node_names():
    def name(fun, *is_tensor, **kwargs):
        return lookup(fun).node_name(tuple(is_tensor), kwargs)

    assert name(np.subtract, True, True) == ("SubBackward0", (0, 1))
    assert name(np.subtract, False, True) == ("RsubBackward1", (1,))
    assert name(np.power, True, False) == ("PowBackward0", (0,))
    assert name(np.power, True, True) == ("PowBackward1", (0, 1))
    assert name(np.power, False, True) == ("PowBackward2", (1,))
    assert name(operator.mul, True, True)[0] == "MulBackward0"
    assert name(np.where, False, True, True) == ("WhereBackward0", (1, 2))
    assert name(np.clip, True)[0] == "ClampBackward1"
    for fun, node in [
        (np.add, "AddBackward0"),
        (np.divide, "DivBackward0"),
        (np.negative, "NegBackward0"),
        (np.exp, "ExpBackward0"),
        (np.exp2, "Exp2Backward0"),
        (np.log, "LogBackward0"),
        (np.sin, "SinBackward0"),
        (np.cos, "CosBackward0"),
        (np.tanh, "TanhBackward0"),
        (np.abs, "AbsBackward0"),
        (np.sqrt, "SqrtBackward0"),
        (np.maximum, "MaximumBackward0"),
        (np.minimum, "MinimumBackward0"),
        (np.arcsin, "AsinBackward0"),
        (np.log1p, "Log1PBackward0"),
        (np.expm1, "Expm1Backward0"),
        (np.arctan2, "Atan2Backward0"),
        (nn_rules.sigmoid, "SigmoidBackward0"),
        (nn_rules.relu, "ReluBackward0"),
        (nn_rules.softmax, "SoftmaxBackward0"),
        (nn_rules.log_softmax, "LogSoftmaxBackward0"),
        (nn_rules.logsumexp, "LogsumexpBackward0"),
    ]:
        assert name(fun, True)[0] == node, fun


def test_operators_share_numpy_rules():
    for op, ufunc in [
        (operator.add, np.add),
        (operator.sub, np.subtract),
        (operator.mul, np.multiply),
        (operator.truediv, np.divide),
        (operator.pow, np.power),
        (operator.neg, np.negative),
        (operator.pos, np.positive),
        (operator.mod, np.remainder),
        (operator.floordiv, np.floor_divide),
        (abs, np.absolute),
        (pow, np.power),
    ]:
        assert lookup(op) is lookup(ufunc), op
    for fun in (
        np.floor,
        np.argmax,
        np.shape,
        np.floor_divide,
        np.isclose,
        len,
        int,
        round,
        range,
        math.floor,
        bool,
        isinstance,
    ):
        assert lookup(fun) is not None and not lookup(fun).differentiable, fun


# Rule families written entirely as one-expression lambdas (inlined by the compiler).
LAMBDA_RULE_MODULES = {
    srcgrad.rules.elementwise.__name__,
    srcgrad.rules.builtins.__name__,
    srcgrad.rules.nn.__name__,
}


def test_rules_are_one_expression_lambdas():
    for rule in RULES:
        for f in [*rule.vjps.values(), *rule.jvps.values()]:
            if f.__module__ in LAMBDA_RULE_MODULES:
                assert f.__name__ == "<lambda>", f"{rule.name}: rule {f.__name__} is not a lambda"
