"""Rules for ``scipy.stats``: densities and distribution functions of common distributions.

Registered when ``scipy.stats`` is first used.  The primitives are the methods
of SciPy's own distribution objects (``scipy.stats.norm.logpdf``...): a bound
method matches a rule only when it is bound to that very object, so a
distribution of the user's, or a frozen one (``norm(0, 1).logpdf``), is not
taken for it.  Arguments are named as SciPy names them (``loc``, ``scale``,
``df``, ``a``, ``b``, ``mu``, ``mean``, ``cov``, ``alpha``) and may be passed by
keyword.  Derivatives of ``cdf``/``logcdf`` in a shape parameter (``t``'s
``df``, ``gamma``'s ``a``, ``beta``'s ``a`` and ``b``) have no closed form and
no rule, nor have Poisson's ``k`` and ``loc`` (discrete): both engines refuse a
differentiated value there.  Outside a
distribution's support the density's derivative is 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special, stats

from ..runtime import unbroadcast
from ._shape_helpers import _from_triangle, mT
from .registry import defjvp, defvjp, lookup
from .scipy_special import no_derivative

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LOG_PI = math.log(math.pi)


def _register(method: Any, name: str, vjps: list, jvps: list) -> None:
    defvjp(method, *vjps)
    defjvp(method, *jvps)
    lookup(method).name = f"scipy.stats.{name}"


# --- standardized densities: log f(z; shapes), d/dz, d/dshape -------------------------
# Each returns (log f, d log f / dz, [d log f / d shape...]) with z standardized, 0
# derivatives (and -inf density) outside the support.


def _norm_parts(z: Any) -> tuple:
    return -0.5 * z * z - _HALF_LOG_2PI, -z, []


def _t_parts(z: Any, df: Any) -> tuple:
    q = z * z / df
    logf = (special.gammaln((df + 1) / 2) - special.gammaln(df / 2)
            - 0.5 * (np.log(df) + _LOG_PI) - (df + 1) / 2 * np.log1p(q))
    dz = -(df + 1) * z / (df + z * z)
    ddf = (0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2)) - 0.5 / df
           - 0.5 * np.log1p(q) + (df + 1) * q / (2 * (df + z * z)))
    return logf, dz, [ddf]


def _gamma_parts(z: Any, a: Any) -> tuple:
    inside = z > 0
    zs = np.where(inside, z, 1.0)
    logz = np.log(zs)
    logf = np.where(inside, (a - 1) * logz - zs - special.gammaln(a), -np.inf)
    dz = np.where(inside, (a - 1) / zs - 1, 0.0)
    da = np.where(inside, logz - special.digamma(a), 0.0)
    return logf, dz, [da]


def _beta_parts(z: Any, a: Any, b: Any) -> tuple:
    inside = (z > 0) & (z < 1)
    zs = np.where(inside, z, 0.5)
    logz, log1mz = np.log(zs), np.log1p(-zs)
    logf = np.where(inside, (a - 1) * logz + (b - 1) * log1mz - special.betaln(a, b), -np.inf)
    dz = np.where(inside, (a - 1) / zs - (b - 1) / (1 - zs), 0.0)
    both = special.digamma(a + b)
    da = np.where(inside, logz - special.digamma(a) + both, 0.0)
    db = np.where(inside, log1mz - special.digamma(b) + both, 0.0)
    return logf, dz, [da, db]


def location_scale_partial(kind: str, parts: Callable, ans: Any, x: Any, shapes: tuple,
                           loc: Any, scale: Any, which: int, name: str) -> Any:
    """d(method)/d(argument ``which``) of a location-scale family, at the call's point.

    Arguments are numbered as the method takes them: ``x, *shapes, loc, scale``.
    """
    z = (x - loc) / scale
    logf, dz, dshapes = parts(z, *shapes)
    if kind in ("logpdf", "pdf"):
        # log pdf = log f(z) - log scale
        slopes = [dz / scale, *dshapes, -dz / scale, -(dz * z + 1) / scale]
        if kind == "pdf":
            slopes = [s * ans for s in slopes]
    else:
        # log cdf = log F(z): dF/dz = f(z); derivatives of F in a shape have no closed form
        f = np.exp(logf)
        r = f if kind == "cdf" else np.exp(logf - ans)
        slopes = [r / scale, *([None] * len(shapes)), -r / scale, -r * z / scale]
    return slopes[which]


_PARTS = {"norm": _norm_parts, "t": _t_parts, "gamma": _gamma_parts, "beta": _beta_parts}


def _made(method: Any, name: str, rules: Callable, n: int, shapes: tuple = ()) -> None:
    """Register ``rules(k) -> (vjp, jvp)`` for the method's ``n`` arguments; shape
    parameters of ``cdf``/``logcdf`` (positions 1..len(shapes)) get none (no closed
    form): both engines refuse a differentiated value there."""
    kind = name.rsplit(".", 1)[-1]
    made = []
    for k in range(n):
        if 0 < k <= len(shapes) and kind in ("cdf", "logcdf"):
            made.append((None, None))
            continue
        made.append(rules(k))
    _register(method, name, [m[0] for m in made], [m[1] for m in made])


def _norm_rules(kind: str) -> None:
    def rules(k: int) -> tuple:
        def partial(ans: Any, x: Any, loc: Any, scale: Any) -> Any:
            return location_scale_partial(kind, _norm_parts, ans, x, (), loc, scale, k, "norm")

        return (lambda g, ans, x, loc=0.0, scale=1.0:
                unbroadcast(g * partial(ans, x, loc, scale), (x, loc, scale)[k]),
                lambda d, ans, x, loc=0.0, scale=1.0: d * partial(ans, x, loc, scale))

    _made(getattr(stats.norm, kind), f"norm.{kind}", rules, 3)


def _t_rules(kind: str) -> None:
    def rules(k: int) -> tuple:
        def partial(ans: Any, x: Any, df: Any, loc: Any, scale: Any) -> Any:
            return location_scale_partial(kind, _t_parts, ans, x, (df,), loc, scale, k, "t")

        return (lambda g, ans, x, df, loc=0.0, scale=1.0:
                unbroadcast(g * partial(ans, x, df, loc, scale), (x, df, loc, scale)[k]),
                lambda d, ans, x, df, loc=0.0, scale=1.0: d * partial(ans, x, df, loc, scale))

    _made(getattr(stats.t, kind), f"t.{kind}", rules, 4, ("df",))


def _gamma_rules(kind: str) -> None:
    def rules(k: int) -> tuple:
        def partial(ans: Any, x: Any, a: Any, loc: Any, scale: Any) -> Any:
            return location_scale_partial(kind, _gamma_parts, ans, x, (a,), loc, scale, k,
                                          "gamma")

        return (lambda g, ans, x, a, loc=0.0, scale=1.0:
                unbroadcast(g * partial(ans, x, a, loc, scale), (x, a, loc, scale)[k]),
                lambda d, ans, x, a, loc=0.0, scale=1.0: d * partial(ans, x, a, loc, scale))

    _made(getattr(stats.gamma, kind), f"gamma.{kind}", rules, 4, ("a",))


def _beta_rules(kind: str) -> None:
    def rules(k: int) -> tuple:
        def partial(ans: Any, x: Any, a: Any, b: Any, loc: Any, scale: Any) -> Any:
            return location_scale_partial(kind, _beta_parts, ans, x, (a, b), loc, scale, k,
                                          "beta")

        return (lambda g, ans, x, a, b, loc=0.0, scale=1.0:
                unbroadcast(g * partial(ans, x, a, b, loc, scale), (x, a, b, loc, scale)[k]),
                lambda d, ans, x, a, b, loc=0.0, scale=1.0:
                d * partial(ans, x, a, b, loc, scale))

    _made(getattr(stats.beta, kind), f"beta.{kind}", rules, 5, ("a", "b"))


for _kind in ("logpdf", "pdf", "logcdf", "cdf"):
    _norm_rules(_kind)
    _t_rules(_kind)
    _gamma_rules(_kind)
    _beta_rules(_kind)

# --- Poisson: differentiable in mu only ----------------------------------------------


def poisson_slope(ans: Any, k: Any, mu: Any, loc: Any, kind: str) -> Any:
    """d log pmf / d mu = k' / mu - 1 with k' = k - loc (0 outside the support)."""
    kk = k - loc
    slope = np.where(kk >= 0, kk / mu - 1, 0.0)
    return slope if kind == "logpmf" else slope * ans


def _poisson_rules(kind: str) -> None:
    # k and loc are discrete: no rule, so a differentiated value there is refused
    _register(
        getattr(stats.poisson, kind), f"poisson.{kind}",
        [None,
         lambda g, ans, k, mu, loc=0: unbroadcast(g * poisson_slope(ans, k, mu, loc, kind), mu),
         None],
        [None, lambda d, ans, k, mu, loc=0: d * poisson_slope(ans, k, mu, loc, kind), None])


_poisson_rules("logpmf")
_poisson_rules("pmf")

# --- multivariate normal: in x, mean and cov --------------------------------------------


def _mvn_layout(x: Any, mean: Any, cov: Any) -> tuple:
    """SciPy's reading of the arguments: rows of x, the mean vector, the full covariance."""
    if isinstance(cov, stats.Covariance):
        no_derivative("scipy.stats.multivariate_normal with a Covariance object")
    if mean is not None and np.ndim(mean) == 1:
        dim = np.shape(mean)[0]
    elif np.ndim(cov) > 0:
        dim = np.shape(cov)[0]
    else:
        dim = 1
    m = np.zeros(dim) if mean is None else mean * np.ones(dim)
    if np.ndim(cov) == 0:
        sigma = cov * np.eye(dim)
    elif np.ndim(cov) == 1:
        sigma = np.diag(cov) if np.shape(cov)[0] == dim else cov * np.eye(dim)
    else:
        sigma = np.tril(cov) + mT(np.tril(cov, -1))  # SciPy reads the lower triangle
    rows = np.reshape(x, (-1, dim)) if np.ndim(x) > 0 else np.reshape(x, (1, 1))
    if np.ndim(x) == 1 and dim == 1:
        rows = np.reshape(x, (-1, 1))
    return rows, m, sigma


def mvn_cotangent(g: Any, ans: Any, x: Any, mean: Any, cov: Any, kind: str,
                  which: int) -> Any:
    """log N(x; m, S) = -(d log 2 pi + log det S + r^T S^-1 r) / 2 for each row r = x - m."""
    rows, m, sigma = _mvn_layout(x, mean, cov)
    w = np.reshape(g * ans if kind == "pdf" else g, (-1,))
    r = rows - m
    u = np.linalg.solve(sigma, mT(r))                   # S^-1 r, one column per row
    if which == 0:
        return np.reshape(-mT(u) * w[:, None], np.shape(x))
    if which == 1:
        gm = np.sum(mT(u) * w[:, None], axis=0)
        return gm if mean is None or np.ndim(mean) == 1 else np.sum(gm)
    inv = np.linalg.inv(sigma)
    gs = -0.5 * (np.sum(w) * inv - (u * w[None, :]) @ mT(u))
    if np.ndim(cov) == 0:
        return np.trace(gs)
    if np.ndim(cov) == 1:
        return np.diagonal(gs) if np.shape(cov)[0] == np.shape(gs)[0] else np.trace(gs)
    return _from_triangle(gs, lower=True)


def mvn_tangent(d: Any, ans: Any, x: Any, mean: Any, cov: Any, kind: str,
                which: int) -> Any:
    rows, m, sigma = _mvn_layout(x, mean, cov)
    r = rows - m
    u = mT(np.linalg.solve(sigma, mT(r)))               # rows of S^-1 r
    if which == 0:
        dd = -np.sum(u * np.reshape(d, np.shape(rows)), axis=-1)
    elif which == 1:
        dd = np.sum(u * (d * np.ones(np.shape(m))), axis=-1)
    else:
        ds = _mvn_layout(np.zeros(np.shape(x)), mean, d)[2]
        inv = np.linalg.inv(sigma)
        dd = -0.5 * (np.sum(inv * mT(ds)) - np.sum((u @ ds) * u, axis=-1))
    dd = np.reshape(dd, np.shape(ans))
    return dd * ans if kind == "pdf" else dd


def _mvn_rules(kind: str) -> None:
    def rules(k: int) -> tuple:
        return (lambda g, ans, x, mean=None, cov=1, allow_singular=False:
                mvn_cotangent(g, ans, x, mean, cov, kind, k),
                lambda d, ans, x, mean=None, cov=1, allow_singular=False:
                mvn_tangent(d, ans, x, mean, cov, kind, k))

    made = [rules(k) for k in range(3)]
    _register(getattr(stats.multivariate_normal, kind), f"multivariate_normal.{kind}",
              [m[0] for m in made], [m[1] for m in made])


_mvn_rules("logpdf")
_mvn_rules("pdf")

# --- Dirichlet: in x (components along the first axis) and alpha -------------------------


def _dirichlet_x(x: Any, alpha: Any) -> tuple:
    """x with its last component (1 - the others' sum) when SciPy adds it."""
    short = np.shape(x)[0] + 1 == np.shape(alpha)[0]
    full = np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0) if short else x
    return full, short


def _along(v: Any, ndim: int) -> Any:
    return np.reshape(v, np.shape(v) + (1,) * (ndim - 1))


def dirichlet_cotangent(g: Any, ans: Any, x: Any, alpha: Any, kind: str, which: int) -> Any:
    """log p = log Gamma(sum a) - sum log Gamma(a) + sum (a - 1) log x."""
    full, short = _dirichlet_x(x, alpha)
    w = g * ans if kind == "pdf" else g
    w = np.reshape(w, np.shape(full)[1:])
    a = _along(alpha, np.ndim(full))
    if which == 1:
        slope = special.digamma(np.sum(alpha)) - special.digamma(a) + np.log(full)
        return np.reshape(np.sum(slope * w, axis=tuple(range(1, np.ndim(full)))),
                          np.shape(alpha))
    gx = (a - 1) / full * w
    return gx[:-1] - gx[-1:] if short else gx


def dirichlet_tangent(d: Any, ans: Any, x: Any, alpha: Any, kind: str, which: int) -> Any:
    full, short = _dirichlet_x(x, alpha)
    a = _along(alpha, np.ndim(full))
    if which == 1:
        slope = special.digamma(np.sum(alpha)) - special.digamma(a) + np.log(full)
        dd = np.sum(slope * _along(d, np.ndim(full)), axis=0)
    else:
        dx = np.concatenate([d, -np.sum(d, axis=0, keepdims=True)], axis=0) if short else d
        dd = np.sum((a - 1) / full * dx, axis=0)
    dd = np.reshape(dd, np.shape(ans))
    return dd * ans if kind == "pdf" else dd


def _dirichlet_rules(kind: str) -> None:
    _register(getattr(stats.dirichlet, kind), f"dirichlet.{kind}",
              [lambda g, ans, x, alpha: dirichlet_cotangent(g, ans, x, alpha, kind, 0),
               lambda g, ans, x, alpha: dirichlet_cotangent(g, ans, x, alpha, kind, 1)],
              [lambda d, ans, x, alpha: dirichlet_tangent(d, ans, x, alpha, kind, 0),
               lambda d, ans, x, alpha: dirichlet_tangent(d, ans, x, alpha, kind, 1)])


_dirichlet_rules("logpdf")
_dirichlet_rules("pdf")
