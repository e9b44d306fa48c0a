"""NumPy coverage: the generated table, the gaps, and derivatives at the awkward points.

* ``docs/numpy-coverage.md`` is generated from the registry by
  ``tools/numpy_coverage.py``; this test regenerates it in memory, so it
  cannot go stale.
* The NumPy callables that look differentiable but have no rule are listed
  (``pytest -s`` prints them) and may only become fewer.
* At the points where a derivative is not defined srcgrad answers as PyTorch
  and JAX do, through the rules and through both engines.
* float32 in, float32 out for every rule (unless NumPy itself computes in
  float64); integer and boolean arguments are constants.
"""

from __future__ import annotations

import importlib.util
import math
import operator
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import srcgrad
import tests.test_rules as registry_test
from srcgrad.rules import lookup

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "numpy-coverage.md"

# The number of NumPy callables that look differentiable but have no rule (NumPy 2.4).
# Lower it when you add rules; it may never grow.
MAX_UNCOVERED = 22
# The registry's size when this was last raised.
MIN_DIFFERENTIABLE = 247

ENGINES = ["source", "tape"]


def _load_tool():
    spec = importlib.util.spec_from_file_location("numpy_coverage", ROOT / "tools" /
                                                  "numpy_coverage.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("numpy_coverage", module)
    spec.loader.exec_module(module)
    return module


coverage = _load_tool()


def _documented_numpy() -> str | None:
    found = re.search(r"in NumPy (\d+\.\d+):", DOC.read_text()) if DOC.exists() else None
    return found.group(1) if found else None


# --- the table and the gaps ---------------------------------------------------------


def test_coverage_table_is_up_to_date():
    documented = _documented_numpy()
    if documented is not None and documented != coverage._numpy_version():
        pytest.skip(f"docs/numpy-coverage.md describes NumPy {documented}, "
                    f"this is NumPy {np.__version__}")
    pytest.importorskip("scipy", reason="docs/numpy-coverage.md lists SciPy's rules too")
    assert DOC.exists(), "docs/numpy-coverage.md is missing: run python tools/numpy_coverage.py"
    assert DOC.read_text() == coverage.render(), (
        "docs/numpy-coverage.md is out of date: run python tools/numpy_coverage.py"
    )


def test_uncovered_numpy_callables_only_shrink():
    gaps = coverage.uncovered()
    listing = "\n".join(f"  {name} ({kind})" for name, kind in gaps)
    print(f"\n{len(gaps)} NumPy callables look differentiable but have no rule:\n{listing}")
    if _documented_numpy() not in (None, coverage._numpy_version()):
        pytest.skip("the threshold is set for the NumPy version the table describes")
    assert len(gaps) <= MAX_UNCOVERED, (
        f"{len(gaps)} uncovered NumPy callables, more than {MAX_UNCOVERED}:\n{listing}"
    )


def test_registry_size():
    rules = coverage.builtin_rules()
    differentiable = [r for r in rules if r.differentiable]
    assert len(differentiable) >= MIN_DIFFERENTIABLE
    for rule in differentiable:
        assert set(rule.jvps) == set(rule.vjps), rule.name


def test_gap_detection_sees_ufuncs_and_array_functions():
    assert coverage.looks_differentiable(np.sin)
    assert coverage.looks_differentiable(np.linalg.eig)
    assert not coverage.looks_differentiable(np.bitwise_and)  # no floating loop
    assert not coverage.looks_differentiable(np.save)  # input/output
    assert not coverage.looks_differentiable(np.array2string)  # printing


# --- float32 and integer arguments -----------------------------------------------------


def _float32_is_checked(rule) -> str:
    """Why ``rule`` is (or need not be) checked in float32: '' when nothing justifies a gap."""
    reason = ""
    for case in registry_test.CASES_BY_RULE.get(id(rule), []):
        if not getattr(case.module, "CHECK_FLOAT32", True):
            reason = "Python scalars"
            continue
        args, kwargs = case.draw()
        diff = registry_test._diff_argnums(rule, args)
        args32 = registry_test._to_float32(args)
        if not any(registry_test._is_float32(args32[i]) for i in diff):
            continue
        ans = rule.primitive(*args32, **kwargs)
        outs = [a for a in registry_test._outputs(rule, ans) if registry_test._is_float_output(a)]
        if outs and all(registry_test._is_float32(a) for a in outs):
            if case.sample.float32:
                return "checked"
            continue  # a sample that opts out while NumPy keeps float32 justifies nothing
        reason = reason or "NumPy computes it in float64"
    return reason


@pytest.mark.parametrize("rule", registry_test.DIFFERENTIABLE, ids=lambda r: r.name)
def test_float32_is_checked_wherever_numpy_keeps_it(rule):
    """Every rule's float32 behaviour is tested by tests/test_rules.py, unless its primitive
    works on Python scalars or NumPy itself returns float64 for float32 inputs."""
    assert _float32_is_checked(rule), (
        f"{rule.name}: no sample runs it in float32; add one to tests/rule_samples/"
    )


FLOAT32_FUNCTIONS = [
    lambda x: np.sum(np.sin(x) * x),
    lambda x: np.sum(np.quantile(x, 0.3, axis=0)),
    lambda x: np.sum(np.nanvar(x, axis=1)),
    lambda x: np.linalg.vector_norm(x),
    lambda x: np.sum(np.append(x, x) ** 2),
    lambda x: np.sum(np.cumulative_sum(x, axis=1) ** 2),
]


@pytest.mark.parametrize("k", range(len(FLOAT32_FUNCTIONS)))
def test_float32_gradients_through_the_tape(k):
    x = np.linspace(-1.0, 2.0, 6, dtype=np.float32).reshape(2, 3)
    got = srcgrad.grad(FLOAT32_FUNCTIONS[k], engine="tape")(x)
    assert got.dtype == np.float32


def quantile_loss(x):
    return np.sum(np.quantile(x, 0.3, axis=0) * x[0])


def test_float32_gradients_through_the_source_engine():
    x = np.linspace(-1.0, 2.0, 6, dtype=np.float32).reshape(2, 3)
    assert srcgrad.grad(quantile_loss, engine="source")(x).dtype == np.float32


def power_sum(x, n):
    return np.sum(x**n)


def masked_sum(x, mask):
    return np.sum(np.where(mask, x, 0.0))


def gathered_sum(x, index):
    return np.sum(np.take(x, index) * x[index])


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_and_boolean_arguments_are_constants(engine):
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(srcgrad.grad(power_sum, engine=engine)(x, 3), 3 * x**2)
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(srcgrad.grad(masked_sum, engine=engine)(x, mask), [1, 0, 1])
    index = np.array([0, 2, 2])
    np.testing.assert_allclose(srcgrad.grad(gathered_sum, engine=engine)(x, index),
                               [2.0, 0.0, 12.0])
    # asking for the derivative with respect to an integer is an error, as in JAX
    with pytest.raises(TypeError, match="floating-point"):
        srcgrad.grad(power_sum, argnums=1, engine=engine)(x, 3)


def test_rules_never_differentiate_integer_or_boolean_samples():
    for rule in registry_test.DIFFERENTIABLE:
        for case in registry_test.CASES_BY_RULE.get(id(rule), []):
            args, _ = case.draw()
            for i in registry_test._diff_argnums(rule, args):
                value = args[i]
                for v in _leaves(value):
                    # real or complex floating values (complex ones by their two parts)
                    assert np.issubdtype(np.result_type(v), np.inexact), (rule.name, i)


def _leaves(value):
    """The arrays and numbers in a (nested) list or tuple argument."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


# --- the awkward points, through the rules ----------------------------------------------


def _vjp(fun, argnum, g, *args, **kwargs):
    return lookup(fun).vjps[argnum](g, fun(*args, **kwargs), *args, **kwargs)


def _jvp(fun, argnum, t, *args, **kwargs):
    return lookup(fun).jvps[argnum](t, fun(*args, **kwargs), *args, **kwargs)


def test_abs_at_zero_has_derivative_zero():
    x = np.array([-2.0, 0.0, 3.0])
    for fun in (np.abs, np.absolute, np.fabs, abs, operator.abs):
        np.testing.assert_array_equal(_vjp(fun, 0, np.ones(3), x), [-1.0, 0.0, 1.0])
        np.testing.assert_array_equal(_jvp(fun, 0, np.ones(3), x), [-1.0, 0.0, 1.0])
    assert _vjp(math.fabs, 0, 1.0, 0.0) == 0.0
    # |x|'s relatives: the 1-norm and the nuclear norm's sign pattern
    np.testing.assert_array_equal(_vjp(np.linalg.norm, 0, 1.0, x, 1), [-1.0, 0.0, 1.0])


def test_ties_in_reductions_split_evenly():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for fun in (np.max, np.amax, np.nanmax):
        np.testing.assert_array_equal(_vjp(fun, 0, 1.0, x), [[0, 0.5, 0.5], [0, 0, 0]])
        np.testing.assert_array_equal(_vjp(fun, 0, np.ones(2), x, 1), [[0, 0.5, 0.5],
                                                                       [0.5, 0.5, 0]])
    y = np.array([[1.0, 0.0, 0.0], [2.0, 2.0, 5.0]])
    for fun in (np.min, np.amin, np.nanmin):
        np.testing.assert_array_equal(_vjp(fun, 0, 1.0, y), [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_array_equal(_vjp(np.ptp, 0, 1.0, np.array([1.0, 1.0, 4.0, 4.0])),
                                  [-0.5, -0.5, 0.5, 0.5])
    v = np.array([2.0, -3.0, 3.0])
    np.testing.assert_array_equal(_vjp(np.linalg.norm, 0, 1.0, v, np.inf), [0, -0.5, 0.5])


def test_ties_in_elementwise_extrema_split_evenly():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    for fun, wx in [(np.maximum, [0.5, 1, 0]), (np.minimum, [0.5, 0, 1]),
                    (np.fmax, [0.5, 1, 0]), (np.fmin, [0.5, 0, 1])]:
        np.testing.assert_array_equal(_vjp(fun, 0, np.ones(3), x, y), wx)
        np.testing.assert_array_equal(_vjp(fun, 1, np.ones(3), x, y), 1 - np.array(wx))
        np.testing.assert_array_equal(_jvp(fun, 0, np.ones(3), x, y), wx)
    for fun in (max, min):
        assert _vjp(fun, 0, 1.0, 2.0, 2.0) == _vjp(fun, 1, 1.0, 2.0, 2.0) == 0.5


def test_norms_at_zero_have_gradient_zero():
    zero_vector, zero_matrix = np.zeros(3), np.zeros((2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 on the way
        for fun, x, kwargs in [
            (np.linalg.norm, zero_vector, {}),
            (np.linalg.norm, zero_vector, {"ord": 2}),
            (np.linalg.norm, zero_matrix, {}),
            (np.linalg.norm, zero_matrix, {"ord": "fro"}),
            (np.linalg.norm, zero_matrix, {"axis": 1}),
            (np.linalg.vector_norm, zero_vector, {}),
            (np.linalg.vector_norm, zero_matrix, {"axis": 0}),
            (np.linalg.matrix_norm, zero_matrix, {}),
        ]:
            ans = fun(x, **kwargs)
            g = np.ones(np.shape(ans))
            vjp = lookup(fun).vjps[0](g, ans, x, **kwargs)
            jvp = lookup(fun).jvps[0](np.ones_like(x), ans, x, **kwargs)
            np.testing.assert_array_equal(vjp, np.zeros_like(x), err_msg=f"{fun} {kwargs}")
            np.testing.assert_array_equal(jvp, np.zeros(np.shape(ans)), err_msg=f"{fun} {kwargs}")


def test_sqrt_at_zero_has_infinite_derivative():
    with np.errstate(divide="ignore"):
        assert _vjp(np.sqrt, 0, np.ones(2), np.array([0.0, 4.0])).tolist() == [np.inf, 0.25]
        assert _jvp(np.sqrt, 0, np.ones(2), np.array([0.0, 4.0])).tolist() == [np.inf, 0.25]


# --- the awkward points, through both engines --------------------------------------------


def abs_sum(x):
    return np.sum(np.abs(x))


def max_all(x):
    return np.max(x)


def max_rows(x):
    return np.sum(np.max(x, axis=1))


def min_all(x):
    return np.min(x)


def maximum_sum(x, y):
    return np.sum(np.maximum(x, y))


def norm_2(x):
    return np.linalg.norm(x)


def norm_fro(x):
    return np.linalg.norm(x, "fro")


def vector_norm(x):
    return np.linalg.vector_norm(x)


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


@pytest.mark.parametrize("engine", ENGINES)
def test_awkward_points_through_the_engines(engine):
    def grad(fun, argnums=0):
        return srcgrad.grad(fun, argnums=argnums, engine=engine)

    np.testing.assert_array_equal(grad(abs_sum)(np.array([-1.0, 0.0, 2.0])), [-1, 0, 1])
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_array_equal(grad(max_all)(ties), [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_array_equal(grad(max_rows)(ties), [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(grad(min_all)(-ties), [[0, 0.5, 0.5], [0, 0, 0]])
    x, y = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    gx, gy = grad(maximum_sum, (0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0])
    for fun, zero in [(norm_2, np.zeros(3)), (norm_2, np.zeros((2, 2))),
                      (norm_fro, np.zeros((2, 2))), (vector_norm, np.zeros(3))]:
        got = grad(fun)(zero)
        assert not np.any(np.isnan(got)), fun.__name__
        np.testing.assert_array_equal(got, np.zeros_like(zero))
    with np.errstate(divide="ignore"):
        assert grad(sqrt_sum)(np.array([0.0, 4.0])).tolist() == [np.inf, 0.25]


# --- new primitives through both engines ---------------------------------------------------

GRID = np.array([-1.0, 0.0, 0.5, 2.0])


def quantiles(x):
    return np.sum(np.quantile(x, [0.25, 0.8], axis=0) ** 2)


def nan_spread(x):
    return np.sum(np.nanstd(x, axis=1)) + np.nanmedian(x)


def interpolated(x, fp):
    return np.sum(np.interp(x, GRID, fp) ** 2)


def appended(x):
    return np.sum(np.append(x, x[:1], axis=0) ** 2)


def chained(a, b):
    return np.sum(np.linalg.multi_dot([a, b, a]))


def least_squares(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return np.sum(x**2) + np.sum(residuals) + s[0]


def covariance(x):
    return np.sum(np.cov(x) ** 2) + np.sum(np.corrcoef(x))


def convolved(a, v):
    return np.sum(np.convolve(a, v, "same") ** 2)


def running(x):
    return np.sum(np.cumulative_sum(x, axis=0) * x) + np.sum(np.nancumprod(x, axis=1))


def vec_products(a, b):
    return np.sum(np.vecdot(a, b) ** 2) + np.sum(np.matvec(a, b[0]))


def sampled(a, b):
    return np.sum(np.linspace(a, b, 5) ** 2)


def differences(x):
    return np.sum(np.gradient(x, axis=1) ** 2) + np.trapezoid(x[0])


def fitted(x, y):
    return np.sum(np.polyfit(x, y, 2) ** 2) + np.sum(np.poly(y[:3]))


def grid(x, y):
    xx, yy = np.meshgrid(x, y)
    return np.sum(xx * yy**2)


def pieces(x):
    a, b = np.unstack(x)
    return np.sum(a * b)


def halves(x):
    a, b = np.hsplit(x, 2)
    return np.sum(a * b**2)


def partials(x):
    g0, g1 = np.gradient(x)
    return np.sum(g0 * g1)


def weighted_histogram(w):
    counts, edges = np.histogram(np.array([0.1, 0.5, 0.7, 0.2]), 3, weights=w)
    return np.sum(counts**2)


# Known engine limitations (the rules themselves pass tests/test_rules.py):
KNOWN: dict[tuple[str, str], str] = {}

NEW_PRIMITIVES = [
    (quantiles, [(3, 4)]),
    (nan_spread, [(3, 4)]),
    (interpolated, [(5,), (4,)]),
    (appended, [(2, 3)]),
    (chained, [(3, 3), (3, 3)]),
    (least_squares, [(5, 3), (5,)]),
    (covariance, [(3, 6)]),
    (convolved, [(5,), (3,)]),
    (running, [(3, 4)]),
    (vec_products, [(3, 4), (3, 4)]),
    (sampled, [(2,), (2,)]),
    (differences, [(3, 5)]),
    (fitted, [(6,), (6,)]),
    (grid, [(3,), (2,)]),
    (pieces, [(2, 3)]),
    (halves, [(3, 4)]),
    (partials, [(3, 4)]),
    (weighted_histogram, [(4,)]),
]


def _finite_differences(fun, args, argnum):
    x = args[argnum]
    out = np.zeros_like(x)
    for j in range(x.size):
        h = 1e-6
        up, down = [a.copy() for a in args], [a.copy() for a in args]
        up[argnum].flat[j] += h
        down[argnum].flat[j] -= h
        out.flat[j] = (fun(*up) - fun(*down)) / (2 * h)
    return out


def _engine_cases() -> list:
    cases = []
    for fun, shapes in NEW_PRIMITIVES:
        for engine in ENGINES:
            known = KNOWN.get((fun.__name__, engine))
            marks = pytest.mark.xfail(reason=known, strict=False) if known else ()
            cases.append(pytest.param(fun, shapes, engine, marks=marks,
                                      id=f"{fun.__name__}-{engine}"))
    return cases


@pytest.mark.parametrize("fun, shapes, engine", _engine_cases())
def test_new_primitives_through_the_engines(fun, shapes, engine):
    rng = np.random.default_rng(len(fun.__name__))
    args = [rng.uniform(-1.0, 1.5, size=s) for s in shapes]
    argnums = tuple(range(len(args)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", srcgrad.FallbackWarning)
        got = srcgrad.grad(fun, argnums=argnums, engine=engine)(*args)
    for k in argnums:
        np.testing.assert_allclose(got[k], _finite_differences(fun, args, k), rtol=1e-5,
                                   atol=1e-6, err_msg=f"{fun.__name__} argument {k}")
