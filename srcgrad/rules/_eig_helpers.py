"""Helpers of the rules of ``np.linalg.eig`` and ``eigvals``: a general square matrix with
distinct eigenvalues, ``a = v diag(w) v^-1``.

With ``x = v^-1 da v``, ``dw = diag(x)`` and ``dv = v (f * x)`` where ``f[i, j] =
1 / (w[j] - w[i])`` off the diagonal, plus a multiple of each column that keeps NumPy's
(LAPACK's) normalisation: every eigenvector has norm 1 and its largest component real.
The VJPs are the transposes (JAX's convention: no conjugate transpose), real for a real
``a``.  The outputs are complex, or real where NumPy returns real eigenvalues.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._shape_helpers import mT

__all__ = ["eig_cotangent", "eig_tangent"]


def _gaps(w: Any) -> Any:
    """``f[..., i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it."""
    diff = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    n = np.shape(w)[-1]
    return np.where(np.eye(n, dtype=bool), 0, 1 / np.where(np.eye(n, dtype=bool), 1, diff))


def _largest(v: Any) -> tuple[Any, Any]:
    """Each column's largest component (real in NumPy's normalisation) and its place."""
    where = np.expand_dims(np.argmax(np.abs(v), axis=-2), -2)
    return np.take_along_axis(v, where, axis=-2), where


def _like(value: Any, of: Any) -> Any:
    """``value`` as a real array when ``of`` (an output or an input) is real."""
    return value if np.iscomplexobj(of) else np.real(value)


def eig_tangent(da: Any, ans: Any, a: Any, vectors: bool = True) -> Any:
    """The tangents ``(dw, dv)`` of ``np.linalg.eig(a)`` (``dw`` alone for ``eigvals``)."""
    w, v = ans if vectors else np.linalg.eig(a)
    x = np.linalg.solve(v, da @ v)
    dw = _like(np.diagonal(x, axis1=-2, axis2=-1), w)
    if not vectors:
        return dw
    dv = v @ (_gaps(w) * x)
    # keep the norm (Re v^H dv = 0) and the largest component real (Im dv_k = 0)
    dv = dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True))
    top, where = _largest(v)
    dv = dv - 1j * v * np.imag(np.take_along_axis(dv, where, axis=-2)) / np.real(top)
    return dw, _like(dv, v)


def eig_cotangent(g: Any, ans: Any, a: Any, vectors: bool = True) -> Any:
    """The cotangent of ``a`` for ``np.linalg.eig(a)`` (``g`` a pair) or ``eigvals(a)``."""
    w, v = ans if vectors else np.linalg.eig(a)
    gw, gv = g if vectors else (g, None)
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    inner = 0 * mT(v) if gw is None else np.expand_dims(gw, -2) * eye
    if gv is not None:
        # the normalisation's transpose: h = sum_i gv_ij v_ij per column
        h = np.sum(gv * v, axis=-2, keepdims=True)
        top, where = _largest(v)
        phase = (np.arange(np.shape(v)[-2])[:, None] == where) * (-1j * np.imag(h) / np.real(top))
        g0 = gv - np.conj(v) * np.real(h) + phase
        inner = inner + _gaps(w) * (mT(v) @ g0)
    return _like(np.linalg.solve(mT(v), inner @ mT(v)), a)
