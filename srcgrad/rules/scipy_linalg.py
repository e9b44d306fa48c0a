"""Rules for ``scipy.linalg``: triangular and Cholesky solves, expm, sqrtm, det, inv, solve.

Registered when ``scipy.linalg`` is first used.  SciPy's linear algebra
turns its arguments into plain arrays, so only the source engine
differentiates it (the tape refuses with an error).  Real matrices; the
routines that read one triangle of a matrix (``cholesky``, ``assume_a="pos"``)
get cotangents on that triangle.  ``overwrite_a=True``/``overwrite_b=True``
let SciPy destroy an input the derivative needs: asking for that derivative
raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from ._shape_helpers import (
    _from_triangle,
    _symmetric_from_triangle,
    cholesky_cotangent,
    cholesky_tangent,
    mT,
)
from .registry import defjvp, defvjp, lookup
from .scipy_special import no_derivative

_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")


def _name(fun: Any, node: str | None = None) -> None:
    rule = lookup(fun)
    rule.name = f"scipy.linalg.{fun.__name__}"
    if node is not None:
        rule.node = node


def kept(what: str, *overwrite: Any) -> None:
    """Refuse a derivative that needs an input SciPy was allowed to overwrite."""
    if any(overwrite):
        no_derivative(f"scipy.linalg.{what} with overwrite_a/overwrite_b=True (the input "
                      "it needs may be destroyed)")


def _outer(u: Any, v: Any) -> Any:
    """``u v^T`` for vectors, ``u @ v^T`` for matrices (right-hand sides as columns)."""
    if np.ndim(v) == 1:
        return u[:, None] * v[None, :]
    return np.matmul(u, mT(v))


# --- solve, inv and det ---------------------------------------------------------------


def _system(a: Any, assume_a: Any, lower: bool) -> Any:
    """The matrix ``solve``/``inv`` invert: ``a``, or the symmetric one of its triangle."""
    if assume_a in _GENERAL:
        return a
    if assume_a in _SYMMETRIC:
        return _symmetric_from_triangle(a, lower)
    return no_derivative(f'scipy.linalg.solve/inv with assume_a="{assume_a}"')


def _to_argument(gm: Any, assume_a: Any, lower: bool) -> Any:
    """The cotangent of ``a`` from that of the matrix :func:`_system` made of it."""
    return gm if assume_a in _GENERAL else _from_triangle(gm, lower)


def solve_cotangent(g: Any, ans: Any, a: Any, b: Any, lower: bool = False,
                    overwrite_a: bool = False, overwrite_b: bool = False,
                    assume_a: Any = None, transposed: bool = False, which: int = 0) -> Any:
    """``x = M^-1 b`` (``M^-T b`` when transposed): ``gb = M^-T g``, ``gM = -gb x^T``."""
    kept("solve", overwrite_a, overwrite_b)
    m = _system(a, assume_a, lower)
    gb = np.linalg.solve(m if transposed else mT(m), g if np.ndim(g) > 1 else g[:, None])
    gb = gb if np.ndim(g) > 1 else gb[:, 0]
    if which == 1:
        return gb
    gm = -_outer(gb, ans)
    return _to_argument(mT(gm) if transposed else gm, assume_a, lower)


def solve_tangent(d: Any, ans: Any, a: Any, b: Any, lower: bool = False,
                  overwrite_a: bool = False, overwrite_b: bool = False,
                  assume_a: Any = None, transposed: bool = False, which: int = 0) -> Any:
    """``dx = M^-1 (db - dM x)``, for ``d`` the tangent of ``a`` or of ``b``."""
    kept("solve", overwrite_a, overwrite_b)
    m = _system(a, assume_a, lower)
    m = mT(m) if transposed else m
    if which == 0:
        dm = _system(d, assume_a, lower)
        dm = mT(dm) if transposed else dm
        d = -(np.matmul(dm, ans))
    rhs = d if np.ndim(d) > 1 else d[:, None]
    x = np.linalg.solve(m, rhs)
    return x if np.ndim(d) > 1 else x[:, 0]


defvjp(linalg.solve,
       lambda g, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
       check_finite=True, assume_a=None, transposed=False:
       solve_cotangent(g, ans, a, b, lower, overwrite_a, overwrite_b, assume_a, transposed, 0),
       lambda g, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
       check_finite=True, assume_a=None, transposed=False:
       solve_cotangent(g, ans, a, b, lower, overwrite_a, overwrite_b, assume_a, transposed, 1))
defjvp(linalg.solve,
       lambda da, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
       check_finite=True, assume_a=None, transposed=False:
       solve_tangent(da, ans, a, b, lower, overwrite_a, overwrite_b, assume_a, transposed, 0),
       lambda db, ans, a, b, lower=False, overwrite_a=False, overwrite_b=False,
       check_finite=True, assume_a=None, transposed=False:
       solve_tangent(db, ans, a, b, lower, overwrite_a, overwrite_b, assume_a, transposed, 1))
_name(linalg.solve, "LinalgSolveExBackward0")


def inv_cotangent(g: Any, ans: Any, a: Any, overwrite_a: bool = False,
                  assume_a: Any = None, lower: bool = False) -> Any:
    """d(M^-1) = -M^-1 dM M^-1, so ``gM = -M^-T g M^-T``."""
    kept("inv", overwrite_a)
    _system(a, assume_a, lower)
    return _to_argument(-np.matmul(np.matmul(mT(ans), g), mT(ans)), assume_a, lower)


def inv_tangent(da: Any, ans: Any, a: Any, overwrite_a: bool = False,
                assume_a: Any = None, lower: bool = False) -> Any:
    kept("inv", overwrite_a)
    return -np.matmul(np.matmul(ans, _system(da, assume_a, lower)), ans)


defvjp(linalg.inv,
       lambda g, ans, a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False:
       inv_cotangent(g, ans, a, overwrite_a, assume_a, lower))
defjvp(linalg.inv,
       lambda da, ans, a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False:
       inv_tangent(da, ans, a, overwrite_a, assume_a, lower))
_name(linalg.inv, "LinalgInvExBackward0")


# d det(A) = det(A) tr(A^-1 dA)
def det_cotangent(g: Any, ans: Any, a: Any, overwrite_a: bool = False) -> Any:
    kept("det", overwrite_a)
    return np.expand_dims(g * ans, (-2, -1)) * mT(np.linalg.inv(a))


def det_tangent(da: Any, ans: Any, a: Any, overwrite_a: bool = False) -> Any:
    kept("det", overwrite_a)
    return ans * np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)


defvjp(linalg.det, lambda g, ans, a, overwrite_a=False, check_finite=True:
       det_cotangent(g, ans, a, overwrite_a))
defjvp(linalg.det, lambda da, ans, a, overwrite_a=False, check_finite=True:
       det_tangent(da, ans, a, overwrite_a))
_name(linalg.det, "LinalgDetBackward0")

# --- triangular systems -----------------------------------------------------------------


def _transposes(trans: Any) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, "T", 2, "C"):
        return True  # "C" is "T" for the real matrices these rules are for
    return no_derivative(f"scipy.linalg.solve_triangular with trans={trans!r}")


def _triangle(a: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The part of ``a`` that ``solve_triangular`` reads (the diagonal taken as 1 if unit)."""
    k = 0 if not unit_diagonal else (-1 if lower else 1)
    return np.tril(a, k) if lower else np.triu(a, k)


def triangular_cotangent(g: Any, ans: Any, a: Any, b: Any, trans: Any = 0,
                         lower: bool = False, unit_diagonal: bool = False,
                         overwrite_b: bool = False, which: int = 0) -> Any:
    """``x = op(T)^-1 b``: ``gb = op(T)^-T g``, ``g op(T) = -gb x^T``, kept on T's triangle."""
    kept("solve_triangular", overwrite_b)
    t = _transposes(trans)
    gb = linalg.solve_triangular(a, g, trans=0 if t else 1, lower=lower,
                                 unit_diagonal=unit_diagonal)
    if which == 1:
        return gb
    gop = -_outer(gb, ans)
    return _triangle(mT(gop) if t else gop, lower, unit_diagonal)


def triangular_tangent(d: Any, ans: Any, a: Any, b: Any, trans: Any = 0,
                       lower: bool = False, unit_diagonal: bool = False,
                       overwrite_b: bool = False, which: int = 0) -> Any:
    """``dx = op(T)^-1 (db - op(dT) x)``."""
    kept("solve_triangular", overwrite_b)
    t = _transposes(trans)
    if which == 0:
        dt = _triangle(d, lower, unit_diagonal)
        d = -np.matmul(mT(dt) if t else dt, ans)
    return linalg.solve_triangular(a, d, trans=1 if t else 0, lower=lower,
                                   unit_diagonal=unit_diagonal)


defvjp(linalg.solve_triangular,
       lambda g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
       check_finite=True:
       triangular_cotangent(g, ans, a, b, trans, lower, unit_diagonal, overwrite_b, 0),
       lambda g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
       check_finite=True:
       triangular_cotangent(g, ans, a, b, trans, lower, unit_diagonal, overwrite_b, 1))
defjvp(linalg.solve_triangular,
       lambda da, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
       check_finite=True:
       triangular_tangent(da, ans, a, b, trans, lower, unit_diagonal, overwrite_b, 0),
       lambda db, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
       check_finite=True:
       triangular_tangent(db, ans, a, b, trans, lower, unit_diagonal, overwrite_b, 1))
_name(linalg.solve_triangular, "LinalgSolveTriangularBackward0")

# --- Cholesky ---------------------------------------------------------------------------

defvjp(linalg.cholesky,
       lambda g, ans, a, lower=False, overwrite_a=False, check_finite=True:
       kept("cholesky", overwrite_a) or cholesky_cotangent(g, ans, a, not lower))
defjvp(linalg.cholesky,
       lambda da, ans, a, lower=False, overwrite_a=False, check_finite=True:
       kept("cholesky", overwrite_a) or cholesky_tangent(da, ans, a, not lower))
_name(linalg.cholesky, "LinalgCholeskyExBackward0")


def _other_triangle(x: Any, lower: bool) -> Any:
    """The strict triangle ``cho_factor`` leaves as it found it (the one it does not write)."""
    return np.triu(x, 1) if lower else np.tril(x, -1)


def cho_factor_cotangent(g: Any, ans: Any, a: Any, lower: bool = False,
                         overwrite_a: bool = False) -> Any:
    """``c`` is the factor on one triangle and ``a``'s own entries on the other."""
    kept("cho_factor", overwrite_a)
    gc = g[0]
    if gc is None:
        return np.zeros_like(a)
    factor = ans[0] - _other_triangle(ans[0], lower)
    on_factor = gc - _other_triangle(gc, lower)
    return cholesky_cotangent(on_factor, factor, a, not lower) + _other_triangle(gc, lower)


def cho_factor_tangent(da: Any, ans: Any, a: Any, lower: bool = False,
                       overwrite_a: bool = False) -> Any:
    kept("cho_factor", overwrite_a)
    factor = ans[0] - _other_triangle(ans[0], lower)
    return (cholesky_tangent(da, factor, a, not lower) + _other_triangle(da, lower), None)


defvjp(linalg.cho_factor,
       lambda g, ans, a, lower=False, overwrite_a=False, check_finite=True:
       cho_factor_cotangent(g, ans, a, lower, overwrite_a), outputs=2)
defjvp(linalg.cho_factor,
       lambda da, ans, a, lower=False, overwrite_a=False, check_finite=True:
       cho_factor_tangent(da, ans, a, lower, overwrite_a))
_name(linalg.cho_factor, "LinalgCholeskyExBackward0")


def _factor(c_and_lower: Any) -> tuple[Any, bool]:
    c, lower = c_and_lower[0], bool(c_and_lower[1])
    return (np.tril(c) if lower else np.triu(c)), lower


def cho_solve_cotangent(g: Any, ans: Any, c_and_lower: Any, b: Any,
                        overwrite_b: bool = False, which: int = 0) -> Any:
    """``x = (L L^T)^-1 b``: ``gb = A^-1 g``; ``gL = (gA + gA^T) L`` on L's triangle."""
    kept("cho_solve", overwrite_b)
    f, lower = _factor(c_and_lower)
    gb = linalg.cho_solve((f, lower), g)
    if which == 1:
        return gb
    ga = -_outer(gb, ans)
    sym = ga + mT(ga)
    gf = np.tril(np.matmul(sym, f)) if lower else np.triu(np.matmul(f, sym))
    return [gf, None]


def cho_solve_tangent(d: Any, ans: Any, c_and_lower: Any, b: Any,
                      overwrite_b: bool = False, which: int = 0) -> Any:
    """``dx = A^-1 (db - dA x)`` with ``dA = dL L^T + L dL^T`` (``U^T dU + dU^T U``)."""
    kept("cho_solve", overwrite_b)
    f, lower = _factor(c_and_lower)
    if which == 0:
        dc = d[0]
        if dc is None:
            return np.zeros_like(ans)
        df = np.tril(dc) if lower else np.triu(dc)
        prod = np.matmul(df, mT(f)) if lower else np.matmul(mT(f), df)
        d = -np.matmul(prod + mT(prod), ans)
    return linalg.cho_solve((f, lower), d)


defvjp(linalg.cho_solve,
       lambda g, ans, c_and_lower, b, overwrite_b=False, check_finite=True:
       cho_solve_cotangent(g, ans, c_and_lower, b, overwrite_b, 0),
       lambda g, ans, c_and_lower, b, overwrite_b=False, check_finite=True:
       cho_solve_cotangent(g, ans, c_and_lower, b, overwrite_b, 1),
       sequence_argnums=(0,))
defjvp(linalg.cho_solve,
       lambda dc, ans, c_and_lower, b, overwrite_b=False, check_finite=True:
       cho_solve_tangent(dc, ans, c_and_lower, b, overwrite_b, 0),
       lambda db, ans, c_and_lower, b, overwrite_b=False, check_finite=True:
       cho_solve_tangent(db, ans, c_and_lower, b, overwrite_b, 1))
_name(linalg.cho_solve, "CholeskySolveBackward0")

# --- matrix functions -------------------------------------------------------------------


def expm_frechet(a: Any, e: Any) -> Any:
    """The Frechet derivative of expm at ``a`` in direction ``e``: a block of
    ``expm([[a, e], [0, a]])`` (its top-right corner)."""
    n = np.shape(a)[-1]
    top = np.concatenate([a, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(a), a], axis=-1)
    return linalg.expm(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


# The adjoint of L(A, .) is L(A^T, .)
defvjp(linalg.expm, lambda g, ans, A: expm_frechet(mT(A), g), node="LinalgMatrixExpBackward0")
defjvp(linalg.expm, lambda dA, ans, A: expm_frechet(A, dA))
_name(linalg.expm)


def sqrtm_cotangent(g: Any, ans: Any) -> Any:
    """``X X = A`` gives ``X dX + dX X = dA``; its adjoint solves ``X^T Y + Y X^T = G``."""
    _real_root(ans)
    return linalg.solve_sylvester(mT(ans), mT(ans), g)


def sqrtm_tangent(da: Any, ans: Any) -> Any:
    _real_root(ans)
    return linalg.solve_sylvester(ans, ans, da)


def _real_root(ans: Any) -> None:
    if np.iscomplexobj(ans):
        no_derivative("scipy.linalg.sqrtm of a matrix whose square root is complex")


defvjp(linalg.sqrtm, lambda g, ans, A, *args, **kwargs: sqrtm_cotangent(g, ans))
defjvp(linalg.sqrtm, lambda dA, ans, A, *args, **kwargs: sqrtm_tangent(dA, ans))
_name(linalg.sqrtm)
