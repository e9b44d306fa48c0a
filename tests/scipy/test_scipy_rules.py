"""SciPy through the engines: lazy registration, keyword forms, compositions, refusals.

The rules themselves are checked against finite differences by tests/test_rules.py
and through both engines by tests/test_rules_engines.py (samples in
tests/rule_samples/scipy_*.py); this file checks what those cannot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")

import scipy.linalg  # noqa: E402
import scipy.signal  # noqa: E402
import scipy.special  # noqa: E402
from scipy import linalg, special  # noqa: E402

import srcgrad  # noqa: E402
from srcgrad.errors import FallbackWarning, MissingDerivativeError, TransformError  # noqa: E402
from srcgrad.rules import lookup  # noqa: E402
from tests.compiler.fd import numerical_grad  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _source_grad(f, args, argnums):
    """``grad`` by the source engine, which must not fall back."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        df = srcgrad.grad(f, argnums=argnums, engine="source")
        assert df.engine == "source"
        return df(*args)


def _check(f, args, argnums, rtol=1e-5, atol=1e-6):
    got = _source_grad(f, args, argnums)
    got = got if isinstance(argnums, tuple) else (got,)
    for g, i in zip(got, argnums if isinstance(argnums, tuple) else (argnums,), strict=True):
        np.testing.assert_allclose(g, numerical_grad(f, args, i), rtol=rtol, atol=atol)


# --- registration ---------------------------------------------------------------------


def test_import_srcgrad_leaves_scipy_alone_and_rules_register_on_first_use(tmp_path):
    script = tmp_path / "first_use.py"
    script.write_text(
        "import sys, srcgrad\n"
        "assert 'scipy' not in sys.modules, 'import srcgrad imported SciPy'\n"
        "import scipy.special\n"
        "def f(x):\n"
        "    return scipy.special.gammaln(x)\n"
        "print(srcgrad.grad(f, engine='source')(3.0) - scipy.special.digamma(3.0))\n"
        "t = srcgrad.tensor([3.0], requires_grad=True)\n"
        "scipy.special.erf(t).sum().backward()\n"
        "print(t.grad.numpy()[0])\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    assert abs(float(out[0])) < 1e-12
    assert float(out[1]) == pytest.approx(2 / np.sqrt(np.pi) * np.exp(-9.0))


# --- scipy.special: keyword forms and awkward points ----------------------------------


def lse_weighted(a, w):
    return np.sum(special.logsumexp(a, axis=0, b=w, keepdims=True) ** 2)


def lse_weighted_positional(a, w):
    return np.sum(special.logsumexp(a, 1, w))


def softmax_loss(x, t):
    return np.sum(t * special.log_softmax(x, axis=1)) + np.sum(special.softmax(x) ** 2)


def bessel_mix(x, n):
    return np.sum(special.jv(n, x) * special.yv(1, x) + special.i1e(x) * special.jv(2.0, x))


def entropy_terms(p, q):
    return np.sum(special.xlogy(p, q) + special.rel_entr(p, q) + special.entr(q))


def test_logsumexp_weights_by_keyword_and_position():
    rng = np.random.default_rng(0)
    a, w = rng.normal(size=(3, 4)), rng.uniform(0.5, 2, size=(4,))
    _check(lse_weighted, (a, w), (0, 1))
    _check(lse_weighted_positional, (a, w), (0, 1))


def test_softmax_and_bessel_and_entropies():
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(2, 3)), rng.uniform(size=(2, 3))
    _check(softmax_loss, (x, t), (0, 1))
    _check(bessel_mix, (rng.uniform(0.5, 3, size=4), np.array([0, 1, 2, 3])), 0)
    p, q = rng.uniform(0.2, 1, size=3), rng.uniform(0.2, 1, size=3)
    _check(entropy_terms, (p, q), (0, 1))


def xlogy_at_zero(y):
    return np.sum(special.xlogy(np.array([0.0, 2.0]), y))


def test_xlogy_has_no_gradient_in_y_where_x_is_zero():
    got = _source_grad(xlogy_at_zero, (np.array([0.5, 4.0]),), 0)
    np.testing.assert_allclose(got, [0.0, 0.5])


def bessel_order(v, x):
    return np.sum(special.jv(v, x))


def lse_signed(a):
    return special.logsumexp(a, return_sign=True)[0]


@pytest.mark.parametrize("engine", ["source", "tape", "auto"])
def test_orders_are_not_differentiated_silently(engine):
    with pytest.raises((TransformError, MissingDerivativeError),
                       match="scipy.special.jv has no VJP for its argument 0"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", srcgrad.FallbackWarning)
            srcgrad.grad(bessel_order, argnums=0, engine=engine)(1.5, np.array([1.0, 2.0]))
    # the order as a constant: fine
    got = srcgrad.grad(bessel_order, argnums=1, engine=engine)(1.5, np.array([1.0, 2.0]))
    np.testing.assert_allclose(got, numerical_grad(bessel_order, (1.5, np.array([1.0, 2.0])), 1),
                               rtol=1e-6)


def test_logsumexp_return_sign_raises():
    with pytest.raises(NotImplementedError, match="return_sign"):
        srcgrad.grad(lse_signed, engine="source")(np.array([1.0, 2.0]))


# --- scipy.linalg ----------------------------------------------------------------------


def cholesky_solve_unpacked(a, b):
    c, low = linalg.cho_factor(a)
    return np.sum(linalg.cho_solve((c, low), b) ** 2)


def cholesky_solve_packed(a, b):
    return np.sum(np.sin(linalg.cho_solve(linalg.cho_factor(a, lower=True), b)))


def triangular_then_det(a, b):
    x = linalg.solve_triangular(a, b, lower=True, trans="T")
    return np.sum(x * b) + linalg.det(a + a.T) + np.sum(linalg.inv(a) ** 2)


def expm_and_sqrtm(a):
    return np.sum(linalg.expm(0.3 * a) * a) + np.sum(linalg.sqrtm(a @ a.T + 3 * np.eye(3)))


def _spd(rng, n=3):
    m = rng.uniform(-1, 1, (n, n))
    return m @ m.T + n * np.eye(n)


def test_cho_factor_into_cho_solve():
    rng = np.random.default_rng(2)
    a, b = _spd(rng), rng.normal(size=(3, 2))
    _check(cholesky_solve_unpacked, (a, b), (0, 1))
    _check(cholesky_solve_packed, (a, b[:, 0]), (0, 1))


def test_triangular_det_inv_expm_sqrtm():
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    _check(triangular_then_det, (a, rng.normal(size=3)), (0, 1))
    _check(expm_and_sqrtm, (rng.uniform(-1, 1, (3, 3)),), 0)


def solve_overwriting(a, b):
    return np.sum(linalg.solve(a, b, overwrite_a=True))


def solve_banded_claim(a, b):
    return np.sum(linalg.solve(a, b, assume_a="banded"))


def test_overwrite_and_unmodelled_structure_raise():
    a, b = np.eye(2) * 2, np.ones(2)
    with pytest.raises(TransformError, match="overwrite_a="):  # refused when transformed
        srcgrad.grad(solve_overwriting, engine="source")(a, b)
    with pytest.raises(NotImplementedError, match="banded"):
        srcgrad.grad(solve_banded_claim, engine="source")(a, b)


def det_only(a):
    return linalg.det(a)


def test_tape_refuses_scipy_functions_and_auto_uses_the_source_engine():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    with pytest.raises(RuntimeError, match="gradient"):
        srcgrad.grad(det_only, engine="tape")(a)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        np.testing.assert_allclose(srcgrad.grad(det_only)(a), np.linalg.det(a) *
                                   np.linalg.inv(a).T)


# --- scipy.signal ------------------------------------------------------------------------


def filtered(x, h):
    y = scipy.signal.convolve(x, h, mode="same")
    z = scipy.signal.correlate(y, h, "valid", method="direct")
    return np.sum(z ** 2)


def test_convolve_then_correlate():
    rng = np.random.default_rng(4)
    _check(filtered, (rng.normal(size=7), rng.normal(size=3)), (0, 1))


# --- scipy.stats ---------------------------------------------------------------------------

import scipy.stats  # noqa: E402
from scipy import stats  # noqa: E402


def norm_by_keywords(x, m, s):
    return np.sum(scipy.stats.norm.logpdf(x, loc=m, scale=s)) + np.sum(stats.norm.cdf(x, m, s))


def t_and_gamma_by_keywords(x, df, a):
    return np.sum(stats.t.logpdf(x, df=df, scale=2.0)) + np.sum(stats.gamma.pdf(x + 3, a=a))


def beta_mixed(x, a, b, scale):
    return np.sum(stats.beta.logpdf(x, a, b=b, scale=scale))


def test_distribution_parameters_by_position_and_keyword():
    rng = np.random.default_rng(5)
    x = rng.normal(size=4)
    _check(norm_by_keywords, (x, rng.normal(size=4), rng.uniform(0.5, 2, size=4)), (0, 1, 2))
    _check(t_and_gamma_by_keywords, (x, 3.5, 2.5), (0, 1, 2))
    _check(beta_mixed, (rng.uniform(0.2, 0.8, size=3), 2.0, np.array([1.5, 2.5, 3.5]), 1.2),
           (0, 1, 2, 3))


def mvn_full(x, mean, cov):
    return np.sum(stats.multivariate_normal.logpdf(x, mean, cov) ** 2) + \
        stats.multivariate_normal.pdf(x[0], mean=mean, cov=cov)


def dirichlet_alpha(alpha):
    p = np.array([[0.2, 0.5], [0.3, 0.1], [0.5, 0.4]])
    return np.sum(stats.dirichlet.logpdf(p, alpha)) + stats.dirichlet.pdf(p[:, 0], alpha)


def poisson_rate(mu):
    return np.sum(stats.poisson.logpmf(np.array([0, 2, 5]), mu))


def test_multivariate_normal_dirichlet_poisson():
    rng = np.random.default_rng(6)
    cov = _spd(rng)
    # the function reads cov's lower triangle only: the upper one has no gradient
    _check(mvn_full, (rng.normal(size=(2, 3)), rng.normal(size=3), cov), (0, 1, 2))
    got = _source_grad(mvn_full, (rng.normal(size=(2, 3)), rng.normal(size=3), cov), 2)
    assert np.all(np.triu(got, 1) == 0)
    _check(dirichlet_alpha, (np.array([1.5, 2.0, 3.0]),), 0)
    _check(poisson_rate, (np.array([0.5, 2.0, 3.0]),), 0)


def t_cdf_in_df(df):
    return stats.t.cdf(0.3, df)


def poisson_in_k(k):
    return stats.poisson.logpmf(k, 2.0)


@pytest.mark.parametrize(("f", "arg", "what"), [
    (t_cdf_in_df, 3.0, "scipy.stats.t.cdf has no VJP for its argument 1"),
    (poisson_in_k, 2.0, "scipy.stats.poisson.logpmf has no VJP for its argument 0"),
])
def test_derivatives_without_closed_form_are_refused(f, arg, what):
    with pytest.raises(TransformError, match=what) as info:
        srcgrad.grad(f, engine="source")(arg)
    assert info.value.lineno > 0 and "stats." in info.value.line


FROZEN = stats.norm(0.0, 2.0)
OWN_NORM = type(stats.norm)(name="own_norm")


def frozen_logpdf(x):
    return np.sum(FROZEN.logpdf(x))


def own_norm_logpdf(x):
    return np.sum(OWN_NORM.logpdf(x))


@pytest.mark.parametrize("f", [frozen_logpdf, own_norm_logpdf])
def test_other_distribution_objects_are_not_taken_for_scipys(f):
    """A frozen distribution, or another instance of SciPy's class, is not the object the
    rule was registered on: no rule matches it, and its code (SciPy's, which turns the
    values into plain arrays) is refused rather than differentiated by a guess."""
    assert lookup(FROZEN.logpdf) is None and lookup(OWN_NORM.logpdf) is None
    assert lookup(stats.norm.logpdf) is not None
    with pytest.raises((TransformError, TypeError, RuntimeError)):
        srcgrad.grad(f, engine="source")(np.array([0.5, 1.0]))
