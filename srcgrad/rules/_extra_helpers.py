"""More helpers for rules: quantiles, NaN-aware reductions, joining, products, polynomials.

The same conventions as :mod:`srcgrad.rules._shape_helpers`: only NumPy
functions and operators on the values given (no ``np.asarray``, no
``isinstance(x, np.ndarray)``, no in-place change of an argument), so every
helper also runs on objects implementing NumPy's array protocols, such as
the tape's Tensors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..runtime import expand_reduced, is_complex, normalize_axis, unbroadcast
from ._shape_helpers import (
    _axis_take,
    _merge_axes,
    _vector_norm_partials,
    convert,
    cumprod_cotangent,
    cumprod_tangent,
    diff_cotangent,
    dtype_of,
    index_add,
    index_cotangent,
    inverse_permutation,
    mT,
    norm_partials,
    part,
    pinv_cotangent,
    pinv_tangent,
    svd_cotangent,
    svd_tangent,
    with_operand,
)
from .source import reads_structure

__all__ = [
    # reductions
    "nan_mask", "nan_to_zero", "nan_to_one", "quantile_cotangent", "quantile_q_cotangent",
    "quantile_tangent", "quantile_q_tangent", "nan_spread_partials",
    "cumulative_sum_cotangent", "cumulative_prod_cotangent", "cumulative_prod_tangent",
    "trapezoid_y_weights", "trapezoid_x_cotangent", "trapezoid_x_tangent",
    "ediff1d_cotangent",
    # shape
    "append_cotangent", "insert_cotangent", "delete_cotangent", "stack_like_cotangents",
    "pieces_cotangent", "rollaxis_destination", "resize_cotangent", "flat_positions_cotangent",
    "choose_cotangent", "partition_order", "select_which", "column_stack_cotangents",
    "dstack_cotangents", "select_cotangents",
    "meshgrid_cotangent", "zeros_but",
    # products and linear algebra
    "vecdot_cotangent", "multi_dot_cotangents", "multi_dot_tangent", "lstsq_cotangent",
    "lstsq_tangent", "tensorsolve_cotangent", "tensorsolve_left_tangent",
    "tensorinv_cotangent", "tensorinv_tangent", "cond_partials", "convolve_cotangent",
    "correlate_cotangent",
    "bessel_i1", "linspace_fraction", "linspace_cotangent", "linspace_tangent", "along_samples",
    "polyval_coefficient_cotangent", "polyval_slope",
    "polyder_cotangent",
    "polyint_cotangent", "trailing", "vander_partials", "interp_slope", "interp_fp_cotangent",
    "cov_cotangent", "cov_tangent", "vector_norm_partials", "corrcoef_cotangent",
    "corrcoef_tangent", "gradient_cotangent", "histogram_weights_cotangent",
    "histogram_density_tangent", "polyfit_cotangent", "polyfit_tangent", "poly_cotangent",
    "poly_tangent", "histogramdd_weights_cotangent", "histogramdd_weights_tangent",
]


# ---------------------------------------------------------------------------
# NaN-aware reductions


def nan_mask(a: Any) -> Any:
    """Where ``a`` holds a number (not NaN)."""
    return ~np.isnan(a)


def nan_to_zero(a: Any) -> Any:
    """``a`` with NaNs replaced by 0 (what ``nansum`` and ``nancumsum`` add up)."""
    return np.where(np.isnan(a), 0, a)


def nan_to_one(a: Any) -> Any:
    """``a`` with NaNs replaced by 1 (what ``nanprod`` and ``nancumprod`` multiply)."""
    return np.where(np.isnan(a), 1, a)


def nan_spread_partials(a: Any, axis: Any = None, ddof: int = 0) -> Any:
    """The partials of ``np.nanvar(a, axis, ddof=ddof)``: ``2 (a - mean) / (n - ddof)``, 0 at NaNs.

    ``n`` counts the numbers (not NaNs) of each reduced slice.
    """
    keep = nan_mask(a)
    ones = np.where(keep, np.ones_like(a), np.zeros_like(a))
    count = np.sum(ones, axis=normalize_axis(axis, np.ndim(a)), keepdims=True)
    centered = nan_to_zero(a - np.nanmean(a, axis=axis, keepdims=True))
    return 2 * centered / (count - ddof)


# --- quantiles (linear interpolation) -------------------------------------------------

_QUANTILE_METHODS = ("linear",)


def _quantile_parts(a: Any, q: Any, axis: Any, ignore_nan: bool, scale: float = 1.0) -> tuple:
    """Everything the derivatives of a (nan)quantile need, with the reduced axes merged last.

    Returns ``(flat, restore, rank, lo, hi, frac, count)``: ``flat`` is ``a``
    with the reduced axes merged into the last one, ``rank`` the rank of each
    element in its slice (NaNs rank last), and for every ``q`` (leading
    axes) the ranks ``lo``/``hi`` interpolated between with weight ``frac``
    on ``hi``.
    """
    flat, restore = _merge_axes(a, axis)
    rank = np.argsort(np.argsort(flat, axis=-1, kind="stable"), axis=-1, kind="stable")
    n = np.shape(flat)[-1]
    if ignore_nan:
        count = np.sum(np.where(np.isnan(flat), 0, 1), axis=-1, keepdims=True)
    else:
        count = n
    q = q if scale == 1 else np.multiply(q, scale)
    qshape = np.shape(q)
    qq = np.reshape(q, qshape + (1,) * np.ndim(flat))
    h = (count - 1) * qq
    lo = np.floor(h)
    hi = np.minimum(lo + 1, count - 1)
    frac = h - lo
    if dtype_of(flat).kind == "f":
        frac = convert(frac, dtype_of(flat))
    return flat, restore, rank, lo, hi, frac, qshape


def _weights(rank: Any, lo: Any, hi: Any, frac: Any, like: Any) -> Any:
    one = np.ones_like(like)
    zero = np.zeros_like(like)
    return (np.where(rank == lo, one, zero) * (1 - frac)
            + np.where(rank == hi, one, zero) * frac)


def _check_method(method: str) -> None:
    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(f"no derivative for quantiles with method={method!r}")


def quantile_cotangent(g: Any, a: Any, q: Any, axis: Any = None, method: str = "linear",
                       ignore_nan: bool = False, scale: float = 1.0) -> Any:
    """The cotangent of ``a`` for ``np.quantile(a, q, axis, method='linear')``.

    Each quantile is ``(1 - f) x[lo] + f x[hi]`` of the sorted slice, so
    its cotangent goes to the two elements of those ranks.  ``q`` may be
    an array (its axes lead the output's); ``scale`` multiplies it (1/100
    for percentiles).
    """
    _check_method(method)
    flat, restore, rank, lo, hi, frac, qshape = _quantile_parts(a, q, axis, ignore_nan, scale)
    w = _weights(rank, lo, hi, frac, flat)
    gm = np.reshape(g, qshape + np.shape(flat)[:-1] + (1,))
    total = np.sum(gm * w, axis=tuple(range(len(qshape)))) if qshape else gm * w
    return restore(total)


def quantile_tangent(dx: Any, ans: Any, a: Any, q: Any, axis: Any = None,
                     method: str = "linear", ignore_nan: bool = False,
                     scale: float = 1.0) -> Any:
    """The tangent of ``np.quantile(a, q, axis)`` for a tangent ``dx`` of ``a``."""
    _check_method(method)
    flat, restore, rank, lo, hi, frac, qshape = _quantile_parts(a, q, axis, ignore_nan, scale)
    dflat, _ = _merge_axes(dx, axis)
    w = _weights(rank, lo, hi, frac, flat)
    return np.reshape(np.sum(np.where(w == 0, 0, dflat * w), axis=-1), np.shape(ans))


def _quantile_slope(a: Any, q: Any, axis: Any, ignore_nan: bool, scale: float) -> tuple:
    """``d quantile / d q = (count - 1) (x[hi] - x[lo])``, shaped ``q.shape + rest``."""
    flat, _, rank, lo, hi, frac, qshape = _quantile_parts(a, q, axis, ignore_nan, scale)
    x = np.where(np.isnan(flat), 0, flat)
    one, zero = np.ones_like(flat), np.zeros_like(flat)
    x_lo = np.sum(np.where(rank == lo, one, zero) * x, axis=-1)
    x_hi = np.sum(np.where(rank == hi, one, zero) * x, axis=-1)
    count = np.shape(flat)[-1] if not ignore_nan else np.sum(
        np.where(np.isnan(flat), zero, one), axis=-1)
    return (count - 1) * (x_hi - x_lo), qshape


def quantile_q_cotangent(g: Any, a: Any, q: Any, axis: Any = None, method: str = "linear",
                         ignore_nan: bool = False, scale: float = 1.0) -> Any:
    """The cotangent of ``q`` for ``np.quantile(a, q, axis)`` (``scale``: 1/100 for percentiles)."""
    _check_method(method)
    slope, qshape = _quantile_slope(a, q, axis, ignore_nan, scale)
    gm = np.reshape(g, np.shape(slope))
    return np.sum(gm * slope, axis=tuple(range(len(qshape), np.ndim(slope)))) * scale


def quantile_q_tangent(dq: Any, ans: Any, a: Any, q: Any, axis: Any = None,
                       method: str = "linear", ignore_nan: bool = False,
                       scale: float = 1.0) -> Any:
    """The tangent of ``np.quantile(a, q, axis)`` for a tangent ``dq`` of ``q``."""
    _check_method(method)
    slope, qshape = _quantile_slope(a, q, axis, ignore_nan, scale)
    dqq = np.reshape(dq, qshape + (1,) * (np.ndim(slope) - len(qshape)))
    return np.reshape(dqq * slope * scale, np.shape(ans))


# --- cumulative -----------------------------------------------------------------------


def _drop_initial(g: Any, axis: Any, include_initial: bool) -> Any:
    if not include_initial:
        return g
    ax = 0 if axis is None else axis
    return _axis_take(g, ax, 1, np.shape(g)[ax])


def cumulative_sum_cotangent(g: Any, x: Any, axis: Any = None,
                             include_initial: bool = False) -> Any:
    """The cotangent of ``x`` for ``np.cumulative_sum(x, axis=axis)``: a reversed running sum."""
    g = _drop_initial(g, axis, include_initial)
    ax = -1 if axis is None else axis
    return np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)


def cumulative_prod_cotangent(g: Any, x: Any, axis: Any = None,
                              include_initial: bool = False) -> Any:
    """The cotangent of ``x`` for ``np.cumulative_prod(x, axis=axis)``."""
    return cumprod_cotangent(_drop_initial(g, axis, include_initial), x, axis)


def cumulative_prod_tangent(dx: Any, x: Any, axis: Any = None,
                            include_initial: bool = False) -> Any:
    """The tangent of ``np.cumulative_prod(x, axis=axis)`` (the initial 1 is constant)."""
    t = cumprod_tangent(dx, x, axis)
    if not include_initial:
        return t
    ax = 0 if axis is None else axis
    return np.concatenate([np.zeros_like(_axis_take(t, ax, 0, 1)), t], axis=ax)


# --- trapezoid and differences ----------------------------------------------------------


def _along(v: Any, axis: int, ndim: int) -> Any:
    """A 1-D ``v`` shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    axis = axis % ndim
    return np.reshape(v, (-1,) + (1,) * (ndim - 1 - axis))


def _spacing(y: Any, x: Any, dx: Any, axis: int) -> Any:
    """``np.trapezoid``'s interval widths, shaped to broadcast against ``y``'s intervals."""
    if x is None:
        return dx
    d = np.diff(x, axis=axis if np.ndim(x) > 1 else -1)
    return _along(d, axis, np.ndim(y)) if np.ndim(x) == 1 else d


def trapezoid_y_weights(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """The partials of ``np.trapezoid(y, x, dx, axis)`` w.r.t. ``y``: half the widths beside."""
    d = _spacing(y, x, dx, axis)
    nd = np.ndim(y)
    axis = axis % nd
    n = np.shape(y)[axis]
    widths = d * np.ones_like(_axis_take(y, axis, 1, n))
    before = [(0, 0)] * nd
    after = [(0, 0)] * nd
    before[axis] = (1, 0)
    after[axis] = (0, 1)
    return (np.pad(widths, before) + np.pad(widths, after)) / 2


def trapezoid_x_cotangent(g: Any, y: Any, x: Any, axis: int = -1) -> Any:
    """The cotangent of the sample points ``x`` for ``np.trapezoid(y, x, axis=axis)``."""
    nd = np.ndim(y)
    axis = axis % nd
    n = np.shape(y)[axis]
    mid = (_axis_take(y, axis, 1, n) + _axis_take(y, axis, 0, n - 1)) / 2
    gd = np.expand_dims(g, axis) * mid
    if np.ndim(x) == 1:
        gd = np.sum(gd, axis=tuple(i for i in range(nd) if i != axis))
        return diff_cotangent(gd, x, 1, -1)
    return diff_cotangent(unbroadcast(gd, np.diff(x, axis=axis)), x, 1, axis)


def trapezoid_x_tangent(dx: Any, y: Any, x: Any, axis: int = -1) -> Any:
    """The tangent of ``np.trapezoid(y, x, axis=axis)`` for a tangent ``dx`` of ``x``."""
    nd = np.ndim(y)
    axis = axis % nd
    n = np.shape(y)[axis]
    mid = (_axis_take(y, axis, 1, n) + _axis_take(y, axis, 0, n - 1)) / 2
    return np.sum(_spacing(y, dx, 1.0, axis) * mid, axis=axis)


def _flat_length(v: Any) -> int:
    return 0 if v is None else int(np.size(v))


def ediff1d_cotangent(g: Any, ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """The cotangent of ``ary`` for ``np.ediff1d(ary, to_end, to_begin)``."""
    start = _flat_length(to_begin)
    inner = g[start:start + max(int(np.size(ary)) - 1, 0)]
    return np.reshape(diff_cotangent(inner, np.ravel(ary), 1, -1), np.shape(ary))


# ---------------------------------------------------------------------------
# Shape


def append_cotangent(g: Any, arr: Any, values: Any, axis: Any, which: int) -> Any:
    """The cotangent of ``arr`` (``which=0``) or ``values`` (1) for ``np.append``."""
    if axis is None:
        n = int(np.size(arr))
        piece = g[:n] if which == 0 else g[n:]
        return np.reshape(piece, np.shape(arr if which == 0 else values))
    n = np.shape(arr)[axis]
    total = np.shape(g)[axis]
    piece = _axis_take(g, axis, 0, n) if which == 0 else _axis_take(g, axis, n, total)
    return piece if which == 0 else unbroadcast(piece, values)


def _marks(shape: tuple, obj: Any, values: Any, axis: Any) -> Any:
    """``np.insert`` applied to position numbers: ``-1 - k`` where value ``k`` went, else ``i``."""
    positions = np.reshape(np.arange(math.prod(shape)), shape)
    fill = -1 - np.reshape(np.arange(int(np.size(values))), np.shape(values))
    return np.insert(positions, obj, fill, axis)


def insert_cotangent(g: Any, arr: Any, obj: Any, values: Any, axis: Any, which: int) -> Any:
    """The cotangent of ``arr`` (``which=0``) or ``values`` (1) for ``np.insert``."""
    marks = _marks(np.shape(arr), obj, values, axis)
    if which == 0:
        return np.reshape(g[marks >= 0], np.shape(arr))
    inserted = marks < 0
    zeros = np.zeros_like(g, shape=(int(np.size(values)),))
    return np.reshape(index_add(zeros, -1 - marks[inserted], g[inserted]), np.shape(values))


def delete_cotangent(g: Any, arr: Any, obj: Any, axis: Any = None) -> Any:
    """The cotangent of ``arr`` for ``np.delete(arr, obj, axis)``: ``g`` where elements stay."""
    shape = np.shape(arr)
    kept = np.delete(np.reshape(np.arange(math.prod(shape)), shape), obj, axis)
    flat = index_cotangent(np.ravel(g), np.ravel(arr), np.ravel(kept))
    return np.reshape(flat, shape)


def stack_like_cotangents(g: Any, tup: Any, promote: Any, axis: int) -> list:
    """Cotangents of the inputs of a join that promotes each input then concatenates on ``axis``."""
    pieces = []
    start = 0
    for x in tup:
        width = promote(x)[axis]
        pieces.append(np.reshape(_axis_take(g, axis, start, start + width), np.shape(x)))
        start += width
    return pieces


def column_stack_cotangents(g: Any, tup: Any) -> list:
    """The cotangents of ``np.column_stack(tup)``'s inputs (1-D inputs were columns)."""
    return stack_like_cotangents(g, tup, lambda x: np.shape(x) + (1,) * (2 - np.ndim(x)), 1)


def dstack_cotangents(g: Any, tup: Any) -> list:
    """The cotangents of ``np.dstack(tup)``'s inputs (each was made 3-D first)."""
    return stack_like_cotangents(g, tup, lambda x: np.shape(np.atleast_3d(x)), 2)


def select_cotangents(g: Any, condlist: Any, choicelist: Any) -> list:
    """The cotangents of ``np.select``'s choices: ``g`` where each one was selected."""
    which = select_which(condlist, len(choicelist))
    return [unbroadcast(np.where(which == k, g, 0 * g), c) for k, c in enumerate(choicelist)]


def pieces_cotangent(g: Any, ans: Any, axis: int) -> Any:
    """The cotangent of an array cut into the pieces ``ans`` along ``axis`` (``None``: zeros)."""
    return np.concatenate([np.zeros_like(p) if gi is None else gi
                           for gi, p in zip(g, ans, strict=True)], axis=axis)


def zeros_but(g: Any, ans: Any) -> list:
    """One cotangent per output piece: ``g``'s entries, zeros where ``g`` has ``None``."""
    return [np.zeros_like(p) if gi is None else gi for gi, p in zip(g, ans, strict=True)]


def rollaxis_destination(ndim: int, axis: int, start: int = 0) -> int:
    """Where ``np.rollaxis(a, axis, start)`` puts ``axis``: ``np.moveaxis``'s destination."""
    axis = axis % ndim
    start = start + ndim if start < 0 else start
    return start - 1 if axis < start else start


def resize_cotangent(g: Any, a: Any, new_shape: Any) -> Any:
    """The cotangent of ``a`` for ``np.resize(a, new_shape)``: the repeated copies summed."""
    size = int(np.size(a))
    if size == 0:
        return np.zeros_like(a)
    source = np.arange(int(np.size(g))) % size
    return np.reshape(index_add(np.zeros_like(np.ravel(a)), source, np.ravel(g)), np.shape(a))


def flat_positions_cotangent(g: Any, a: Any, positions: Any, axis: Any = None) -> Any:
    """Zeros like ``a`` with ``g`` at ``positions`` along ``axis`` (the flattened ``a``: None)."""
    if axis is None:
        return np.reshape(index_cotangent(g, np.ravel(a), positions), np.shape(a))
    axis = axis % np.ndim(a)
    return index_cotangent(g, a, (slice(None),) * axis + (positions,))


def _choice_index(a: Any, n: int, mode: str) -> Any:
    if mode == "wrap":
        return np.mod(a, n)
    if mode == "clip":
        return np.clip(a, 0, n - 1)
    return a


def choose_cotangent(g: Any, a: Any, choices: Any, mode: str = "raise") -> list:
    """The cotangents of ``np.choose(a, choices)``'s choices: ``g`` where each was chosen."""
    index = _choice_index(a, len(choices), mode)
    return [unbroadcast(np.where(index == k, g, 0 * g), c) for k, c in enumerate(choices)]


def partition_order(a: Any, ans: Any, axis: Any = -1) -> Any:
    """Indices ``p`` with ``take_along_axis(a, p, axis) == ans`` for a partition ``ans`` of ``a``.

    Matches ranks: the element of rank ``r`` in ``ans`` is the element of
    rank ``r`` in ``a`` (ties are equal values, so any match is exact).
    """
    if axis is None:
        a = np.ravel(a)
        axis = -1
    order_a = np.argsort(a, axis=axis, kind="stable")
    order_out = np.argsort(ans, axis=axis, kind="stable")
    return np.take_along_axis(order_a, np.argsort(order_out, axis=axis, kind="stable"), axis)


def select_which(condlist: Any, count: int) -> Any:
    """For ``np.select``: the index of the first true condition, ``-1`` where none is."""
    return np.select(condlist, list(range(count)), -1)


def meshgrid_cotangent(g: Any, xi: tuple, k: int, indexing: str = "xy") -> Any:
    """The cotangent of ``np.meshgrid``'s input ``k``: its output's cotangent summed to one axis."""
    gk = g[k]
    if gk is None:
        return np.zeros_like(xi[k])
    axis = k
    if indexing == "xy" and len(xi) > 1 and k < 2:
        axis = 1 - k
    others = tuple(i for i in range(np.ndim(gk)) if i != axis)
    return np.reshape(np.sum(gk, axis=others), np.shape(xi[k]))


# ---------------------------------------------------------------------------
# Products and linear algebra


def vecdot_cotangent(g: Any, x: Any, other: Any, axis: int = -1) -> Any:
    """The cotangent of ``x`` for ``vecdot(x, other, axis=axis)`` (either operand order)."""
    moved = np.moveaxis(other, axis, -1)
    full = np.expand_dims(g, -1) * moved
    return np.moveaxis(unbroadcast(full, np.moveaxis(x, axis, -1)), -1, axis)


def _as_matrices(arrays: Any) -> list:
    """``multi_dot``'s operands as matrices: a 1-D first (last) one becomes a row (column)."""
    mats = list(arrays)
    if np.ndim(mats[0]) == 1:
        mats[0] = np.expand_dims(mats[0], 0)
    if np.ndim(mats[-1]) == 1:
        mats[-1] = np.expand_dims(mats[-1], -1)
    return mats


def multi_dot_cotangents(g: Any, arrays: Any) -> list:
    """The cotangents of ``np.linalg.multi_dot(arrays)``'s operands.

    Operand ``k``'s is ``(A_0 ... A_{k-1})^T G (A_{k+1} ... A_n)^T``.
    """
    mats = _as_matrices(arrays)
    n = len(mats)
    gm = np.reshape(g, (np.shape(mats[0])[0], np.shape(mats[-1])[-1]))
    left = [None] * n
    right = [None] * n
    for k in range(1, n):
        left[k] = mats[0] if k == 1 else np.matmul(left[k - 1], mats[k - 1])
    for k in range(n - 2, -1, -1):
        right[k] = mats[-1] if k == n - 2 else np.matmul(mats[k + 1], right[k + 1])
    out = []
    for k, x in enumerate(arrays):
        c = gm
        if left[k] is not None:
            c = np.matmul(mT(left[k]), c)
        if right[k] is not None:
            c = np.matmul(c, mT(right[k]))
        out.append(np.reshape(c, np.shape(x)))
    return out


def multi_dot_tangent(darrays: Any, arrays: Any) -> Any:
    """The tangent of ``np.linalg.multi_dot(arrays)``: one product per operand's tangent."""
    total = None
    for k, d in enumerate(darrays):
        term = np.linalg.multi_dot(with_operand(list(arrays), k, d))
        total = term if total is None else total + term
    return total


def _lstsq_parts(a: Any, b: Any, x: Any) -> tuple:
    p = np.linalg.pinv(a)
    residual = b - np.matmul(a, x)
    return p, residual


def lstsq_cotangent(g: Any, ans: Any, a: Any, b: Any, which: int) -> Any:
    """The cotangent of ``a`` (``which=0``) or ``b`` (1) for ``np.linalg.lstsq(a, b)``.

    The solution is ``pinv(a) @ b`` (constant rank).  When NumPy returns the
    residuals (full column rank, more rows than columns) they are
    ``sum((b - a x)**2)``, whose derivative is ``2 r`` in ``b`` and
    ``-2 r x^T`` in ``a`` since ``a^T r = 0``; the singular values are
    ``svd``'s.
    """
    x = ans[0]
    gx, gres, gs = g[0], g[1], g[3]
    p, r = _lstsq_parts(a, b, x)
    vector = np.ndim(b) == 1
    gx2 = np.expand_dims(gx, -1) if vector and gx is not None else gx
    b2 = np.expand_dims(b, -1) if vector else b
    x2 = np.expand_dims(x, -1) if vector else x
    r2 = np.expand_dims(r, -1) if vector else r
    has_res = gres is not None and np.size(ans[1]) > 0
    if which == 1:
        c = np.zeros_like(b2) if gx is None else np.matmul(mT(p), gx2)
        if has_res:
            c = c + 2 * r2 * gres
        return np.reshape(c, np.shape(b))
    c = np.zeros_like(a)
    if gx is not None:
        c = c + pinv_cotangent(np.matmul(gx2, mT(b2)), p, a)
    if has_res:
        c = c - 2 * np.matmul(r2 * gres, mT(x2))
    if gs is not None:
        c = c + svd_cotangent(gs, None, a, compute_uv=False)
    return c


def lstsq_tangent(d: Any, ans: Any, a: Any, b: Any, which: int) -> tuple:
    """The tangents ``(dx, dresiduals, None, ds)`` of ``np.linalg.lstsq(a, b)``."""
    x, res, _, s = ans
    p, r = _lstsq_parts(a, b, x)
    if which == 1:
        dx = np.matmul(p, d)
        dres = 2 * np.sum(r * d, axis=0) if np.size(res) else np.zeros_like(res)
        return dx, np.reshape(dres, np.shape(res)), None, np.zeros_like(s)
    dp = pinv_tangent(d, p, a)
    dx = np.matmul(dp, b)
    dres = -2 * np.sum(r * np.matmul(d, x), axis=0) if np.size(res) else np.zeros_like(res)
    return dx, np.reshape(dres, np.shape(res)), None, svd_tangent(d, None, a, compute_uv=False)


def _tensorsolve_layout(a: Any, axes: Any) -> tuple:
    """``a`` with ``axes`` moved last (as ``np.linalg.tensorsolve`` does) and the inverse map."""
    nd = np.ndim(a)
    if axes is None:
        return a, None
    order = [i for i in range(nd) if i not in [k % nd for k in axes]] + [k % nd for k in axes]
    return np.transpose(a, order), inverse_permutation(order, nd)


def tensorsolve_cotangent(g: Any, ans: Any, a: Any, b: Any, axes: Any, which: int) -> Any:
    """The cotangent of ``a`` (``which=0``) or ``b`` (1) for ``np.linalg.tensorsolve``."""
    moved, back = _tensorsolve_layout(a, axes)
    nb, nx = int(np.size(b)), int(np.size(ans))
    matrix = np.reshape(moved, (nb, nx))
    gb = np.linalg.solve(mT(matrix), np.reshape(g, (nx,)))
    if which == 1:
        return np.reshape(gb, np.shape(b))
    ga = np.reshape(-np.outer(gb, np.ravel(ans)), np.shape(moved))
    return ga if back is None else np.transpose(ga, back)


def tensorsolve_left_tangent(da: Any, ans: Any, a: Any, b: Any, axes: Any = None) -> Any:
    """The tangent of ``np.linalg.tensorsolve(a, b, axes)`` for a tangent ``da`` of ``a``."""
    moved_d, _ = _tensorsolve_layout(da, axes)
    return -np.linalg.tensorsolve(a, np.tensordot(moved_d, ans, np.ndim(ans)), axes)


def _tensorinv_shapes(a: Any, ind: int) -> tuple:
    shape = np.shape(a)
    return math.prod(shape[:ind]), math.prod(shape[ind:])


def tensorinv_cotangent(g: Any, ans: Any, a: Any, ind: int = 2) -> Any:
    """The cotangent of ``a`` for ``np.linalg.tensorinv(a, ind)``: ``-Y^T G Y^T`` reshaped."""
    rows, cols = _tensorinv_shapes(a, ind)
    y = np.reshape(ans, (cols, rows))
    return np.reshape(-np.matmul(np.matmul(mT(y), np.reshape(g, (cols, rows))), mT(y)),
                      np.shape(a))


def tensorinv_tangent(da: Any, ans: Any, a: Any, ind: int = 2) -> Any:
    """The tangent of ``np.linalg.tensorinv(a, ind)``: ``-Y dA Y`` reshaped."""
    rows, cols = _tensorinv_shapes(a, ind)
    y = np.reshape(ans, (cols, rows))
    return np.reshape(-np.matmul(np.matmul(y, np.reshape(da, (rows, cols))), y), np.shape(ans))


def cond_partials(x: Any, ans: Any, p: Any = None) -> Any:
    """The partials of ``np.linalg.cond(x, p)`` w.r.t. ``x`` (shaped like ``x``).

    For ``p`` None, 2 and -2 the condition number is a ratio of extreme
    singular values (distinct ones assumed); for the other norms it is
    ``norm(x) * norm(inv(x))`` and the product rule applies.
    """
    if p in (None, 2, -2):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        big = np.matmul(u[..., :, :1], vh[..., :1, :])
        small = np.matmul(u[..., :, -1:], vh[..., -1:, :])
        s_max = np.expand_dims(s[..., :1], -1)
        s_min = np.expand_dims(s[..., -1:], -1)
        if p == -2:
            return small / s_max - s_min * big / s_max**2
        return big / s_min - s_max * small / s_min**2
    inv = np.linalg.inv(x)
    n1 = np.linalg.norm(x, p, axis=(-2, -1))
    n2 = np.linalg.norm(inv, p, axis=(-2, -1))
    d1 = norm_partials(x, n1, p, (-2, -1))
    d2 = norm_partials(inv, n2, p, (-2, -1))
    e1 = np.expand_dims(n1, (-2, -1))
    e2 = np.expand_dims(n2, (-2, -1))
    return e2 * d1 - e1 * np.matmul(np.matmul(mT(inv), d2), mT(inv))


_CONV_MODES = ("full", "same", "valid")


def _conv_start(la: int, lv: int, mode: str, correlation: bool = False) -> int:
    """Where output ``mode`` of ``np.convolve`` (``np.correlate``) starts in the full one."""
    if mode == "full":
        return 0
    if mode == "same":
        if correlation and la < lv:
            return la // 2
        return (min(la, lv) - 1) // 2 if not correlation else (lv - 1) // 2
    if mode == "valid":
        return min(la, lv) - 1
    raise ValueError(f"unknown convolution mode {mode!r}")


def convolve_cotangent(g: Any, a: Any, v: Any, mode: str = "full", which: int = 0) -> Any:
    """The cotangent of ``a`` (``which=0``) or ``v`` (1) for ``np.convolve(a, v, mode)``.

    A convolution's adjoint is a correlation with the other operand, over
    the full-length output (``g`` padded to it).
    """
    la, lv = int(np.size(a)), int(np.size(v))
    start = _conv_start(la, lv, mode)
    gfull = np.pad(g, (start, la + lv - 1 - start - int(np.size(g))))
    # (np.correlate conjugates its second operand: conjugated here, the transpose remains)
    other = v if which == 0 else a
    return np.correlate(gfull, np.conj(other) if is_complex(other) else other, "valid")


def correlate_cotangent(g: Any, a: Any, v: Any, mode: str = "valid", which: int = 0) -> Any:
    """The cotangent of ``a`` (``which=0``) or ``v`` (1) for ``np.correlate(a, v, mode)``.

    The full correlation is the full convolution with ``v`` reversed; the
    shorter modes cut it where NumPy does.
    """
    la, lv = int(np.size(a)), int(np.size(v))
    start = _conv_start(la, lv, mode, correlation=True)
    gfull = np.pad(g, (start, la + lv - 1 - start - int(np.size(g))))
    if which == 0:
        return np.correlate(gfull, np.flip(v), "valid")
    return np.flip(np.correlate(gfull, a, "valid"))


def _float_like(values: Any, x: Any) -> Any:
    """Constant ``values`` (exact small numbers) in ``x``'s floating dtype, so float32 stays."""
    dtype = dtype_of(x)
    return convert(values, dtype) if dtype.kind == "f" else values


# I1(x) = (1/pi) int_0^pi exp(x cos t) cos t dt: the trapezoid rule on a periodic analytic
# integrand converges geometrically; 160 intervals are exact in float64 for every x where
# i0 is finite (the error is about I_320(x) / I_1(x)).
_I1_COS = np.cos(np.linspace(0.0, np.pi, 161))
_I1_WEIGHTS = np.concatenate([[0.5], np.ones(159), [0.5]]) / 160


def bessel_i1(x: Any) -> Any:
    """The modified Bessel function of order 1, ``d np.i0(x) / dx``, in ``x``'s dtype.

    NumPy has no ``i1``; this one is the trapezoid rule on its integral, scaled by
    ``exp(|x|)`` so that no term overflows before the result does.
    """
    c = _float_like(_I1_COS, x)
    # expm1 for exp: the weighted cosines sum to 0, so near x = 0 only the small part counts
    terms = np.expm1(np.expand_dims(x, -1) * c - np.expand_dims(np.abs(x), -1)) * c
    return np.exp(np.abs(x)) * np.sum(_float_like(_I1_WEIGHTS, x) * terms, axis=-1)


def linspace_fraction(ans: Any, num: int, endpoint: bool = True, axis: int = 0) -> Any:
    """Where each sample of ``np.linspace(start, stop, num, endpoint, axis=axis)`` lies (0 to 1).

    Shaped to broadcast against the output ``ans``, in its dtype.
    """
    t = _float_like(np.linspace(0.0, 1.0, num, endpoint=endpoint), ans)
    return _along(t, axis, np.ndim(ans))


def along_samples(d: Any, ans: Any, axis: int = 0) -> Any:
    """A tangent of ``linspace``'s start or stop, spread to broadcast along the samples axis."""
    shape = list(np.shape(ans))
    del shape[axis % len(shape)]
    return np.expand_dims(np.broadcast_to(d, tuple(shape)), axis)


def linspace_cotangent(g: Any, ans: Any, end: Any, num: int, endpoint: bool, retstep: bool,
                       axis: int, which: int) -> Any:
    """The cotangent of ``np.linspace``'s start (``which`` 0) or stop (1), shaped like ``end``.

    A sample is ``start + t (stop - start)``; with ``retstep=True`` the call also returns
    ``step = (stop - start) / div`` (``g`` and ``ans`` are then pairs).
    """
    samples, g_samples = (ans[0], part(g, 0, ans)) if retstep else (ans, g)
    t = linspace_fraction(samples, num, endpoint, axis)
    out = np.sum(g_samples * (t if which else 1 - t), axis)
    div = num - 1 if endpoint else num
    if retstep and div > 0:     # (one sample with its end point: the step is NaN, a constant)
        out = out + part(g, 1, ans) * ((1 if which else -1) / div)
    return unbroadcast(out, end)


def linspace_tangent(d: Any, ans: Any, num: int, endpoint: bool, retstep: bool, axis: int,
                     which: int) -> Any:
    """The tangent of ``np.linspace``'s output(s) from its start's (``which`` 0) or stop's."""
    samples = ans[0] if retstep else ans
    t = linspace_fraction(samples, num, endpoint, axis)
    d_samples = along_samples(d, samples, axis) * (t if which else 1 - t)
    if not retstep:
        return d_samples
    div = num - 1 if endpoint else num
    step = np.broadcast_to(d * ((1 if which else -1) / div if div > 0 else 0), np.shape(ans[1]))
    return d_samples, step


def polyval_coefficient_cotangent(g: Any, p: Any, x: Any) -> Any:
    """The cotangent of the coefficients ``p`` for ``np.polyval(p, x)``: ``sum(g * x**k)``."""
    n = int(np.size(p))
    powers = _float_like(np.arange(n - 1, -1, -1), x)
    return np.sum(np.expand_dims(g, -1) * np.expand_dims(x, -1) ** powers,
                  axis=tuple(range(np.ndim(g))))


def polyval_slope(p: Any, x: Any) -> Any:
    """``d np.polyval(p, x) / dx``: the derivative polynomial's value, in ``x``'s dtype."""
    n = int(np.size(p))
    if n < 2:
        return np.zeros_like(x * p[0])
    return np.polyval(p[:-1] * _float_like(np.arange(n - 1, 0, -1), p), x)


def polyder_cotangent(g: Any, p: Any, m: int = 1) -> Any:
    """The cotangent of ``p`` for ``np.polyder(p, m)``: the adjoint of ``m`` differentiations."""
    n = int(np.size(p))
    if m >= n:
        return np.zeros_like(p)
    for length in range(n - m + 1, n + 1):
        g = np.concatenate([g * np.arange(length - 1, 0, -1), np.zeros_like(g[:1])])
    return g


def polyint_cotangent(g: Any, p: Any, m: int = 1) -> Any:
    """The cotangent of ``p`` for ``np.polyint(p, m, k)``: the adjoint of ``m`` integrations."""
    n = int(np.size(p))
    for length in range(n + m - 1, n - 1, -1):
        g = g[:length] / np.arange(length, 0, -1)
    return g


@reads_structure(1)
def trailing(g: Any, x: Any) -> Any:
    """The last ``len(x)`` entries of ``g``: a shorter polynomial's part of a sum."""
    return g[int(np.size(g)) - int(np.size(x)):]


def vander_partials(x: Any, N: Any = None, increasing: bool = False) -> Any:  # noqa: N803
    """``d V / d x`` for ``V = np.vander(x, N, increasing)``: ``k x**(k - 1)`` per column."""
    n = int(np.size(x)) if N is None else N
    k = _float_like(np.arange(n) if increasing else np.arange(n - 1, -1, -1), x)
    return k * np.expand_dims(x, -1) ** np.maximum(k - 1, 0)


def _interp_segments(x: Any, xp: Any) -> tuple:
    """For ``np.interp``: each ``x``'s segment ``i`` (clipped), its fraction ``t``, the width and
    whether ``x`` lies inside the grid."""
    n = int(np.size(xp))
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(n - 2, 0))
    lo = np.take(xp, i)
    hi = np.take(xp, np.minimum(i + 1, n - 1))
    width = np.where(hi == lo, 1, hi - lo)
    inside = (x >= np.take(xp, 0)) & (x <= np.take(xp, n - 1))
    return i, (x - lo) / width, width, inside


def interp_slope(x: Any, xp: Any, fp: Any, period: Any = None) -> Any:
    """``d np.interp(x, xp, fp) / dx``: the slope of ``x``'s segment, 0 outside ``xp``'s range."""
    if period is not None:
        raise NotImplementedError("no derivative for np.interp with a period")
    i, _, width, inside = _interp_segments(x, xp)
    n = int(np.size(xp))
    rise = np.take(fp, np.minimum(i + 1, n - 1)) - np.take(fp, i)
    return np.where(inside, rise / width, 0 * rise)


def interp_fp_cotangent(g: Any, x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
                        period: Any = None) -> Any:
    """The cotangent of ``fp`` for ``np.interp(x, xp, fp, left, right)``."""
    if period is not None:
        raise NotImplementedError("no derivative for np.interp with a period")
    i, t, _, inside = _interp_segments(x, xp)
    n = int(np.size(xp))
    below = x < np.take(xp, 0)
    above = x > np.take(xp, n - 1)
    t = np.where(inside, t, np.where(above, 1, 0))
    keep = inside | (below & (left is None)) | (above & (right is None))
    gk = np.where(keep, g, 0 * g)
    zeros = np.zeros_like(fp)
    return (index_add(zeros, np.ravel(i), np.ravel(gk * (1 - t)))
            + index_add(zeros, np.ravel(np.minimum(i + 1, n - 1)), np.ravel(gk * t)))


def vector_norm_partials(x: Any, ans: Any, ord: Any = 2, axis: Any = None,
                         keepdims: bool = False) -> Any:
    """The partials of ``np.linalg.vector_norm(x, axis=axis, ord=ord)`` (0 at the zero vector)."""
    n = expand_reduced(ans, x, axis, keepdims)
    return _vector_norm_partials(x, n, ord, normalize_axis(axis, np.ndim(x)))


# --- covariance -------------------------------------------------------------------------


def _transposed(x: Any, which: int, rowvar: bool) -> bool:
    """Whether ``np.cov`` transposes its ``m`` (``which=0``) or ``y`` (1) into rows of variables."""
    if rowvar:
        return False
    return np.ndim(x) != 1 if which == 0 else np.shape(np.atleast_2d(x))[0] != 1


def _rows(x: Any, which: int, rowvar: bool) -> Any:
    """``m`` or ``y`` as ``np.cov`` arranges it: one variable per row."""
    x2 = np.atleast_2d(x)
    return mT(x2) if _transposed(x, which, rowvar) else x2


def _cov_setup(m: Any, y: Any, rowvar: bool, bias: bool, ddof: Any, fweights: Any,
               aweights: Any) -> tuple:
    """``np.cov``'s variables, centered observations, weights and normalization."""
    rows = [_rows(m, 0, rowvar)] + ([] if y is None else [_rows(y, 1, rowvar)])
    big = rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0)
    n = np.shape(big)[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    w = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=float)
    if aweights is not None:
        w = np.asarray(aweights, dtype=float) if w is None else w * aweights
    if w is None:
        return rows, big - np.mean(big, axis=1, keepdims=True), 1, n - ddof
    total = np.sum(w)
    if ddof == 0:
        fact = total
    elif aweights is None:
        fact = total - ddof
    else:
        fact = total - ddof * np.sum(w * aweights) / total
    return rows, big - np.sum(big * w, axis=1, keepdims=True) / total, w, fact


def cov_cotangent(g: Any, m: Any, y: Any = None, rowvar: bool = True, bias: bool = False,
                  ddof: Any = None, fweights: Any = None, aweights: Any = None,
                  which: int = 0) -> Any:
    """The cotangent of ``m`` (``which=0``) or ``y`` (1) for ``np.cov``.

    ``C = Xc W Xc^T / f`` with ``Xc`` the centered observations, so
    ``gX = (G + G^T) Xc W / f`` (the centering drops out because the
    weighted rows of ``Xc`` sum to zero).
    """
    rows, centered, weights, fact = _cov_setup(m, y, rowvar, bias, ddof, fweights, aweights)
    k = np.shape(centered)[0]
    gm = np.reshape(g, (k, k))
    c = np.matmul(gm + mT(gm), centered * weights) / fact
    start = 0 if which == 0 else np.shape(rows[0])[0]
    piece = c[start:start + np.shape(rows[which])[0]]
    x = m if which == 0 else y
    return np.reshape(mT(piece) if _transposed(x, which, rowvar) else piece, np.shape(x))


def cov_tangent(d: Any, ans: Any, m: Any, y: Any = None, rowvar: bool = True, bias: bool = False,
                ddof: Any = None, fweights: Any = None, aweights: Any = None,
                which: int = 0) -> Any:
    """The tangent of ``np.cov`` for a tangent ``d`` of ``m`` (``which=0``) or ``y`` (1)."""
    rows, centered, weights, fact = _cov_setup(m, y, rowvar, bias, ddof, fweights, aweights)
    parts = [np.zeros_like(r) for r in rows]
    parts[which] = _rows(d, which, rowvar)
    dbig = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    if np.ndim(weights) == 0:
        dc = dbig - np.mean(dbig, axis=1, keepdims=True)
    else:
        dc = dbig - np.sum(dbig * weights, axis=1, keepdims=True) / np.sum(weights)
    half = np.matmul(dc * weights, mT(centered)) / fact
    return np.reshape(half + mT(half), np.shape(ans))


def corrcoef_cotangent(g: Any, ans: Any, x: Any, y: Any = None, rowvar: bool = True,
                       which: int = 0) -> Any:
    """The cotangent of ``x`` (``which=0``) or ``y`` (1) for ``R = np.corrcoef(x, y)``.

    ``R = C / (s s^T)`` with ``s = sqrt(diag(C))``: the cotangent of the
    covariance ``C`` is ``G / (s s^T)`` less, on the diagonal, the row and
    column sums of ``G * R`` over ``2 s**2``; then ``np.cov``'s rule applies.
    """
    c = np.cov(x, y, rowvar)
    k = np.shape(np.atleast_2d(c))[0]
    gm = np.reshape(g, (k, k))
    r = np.reshape(ans, (k, k))
    s = np.sqrt(np.diagonal(np.reshape(c, (k, k))))
    gr = gm * r
    gc = gm / np.outer(s, s) - np.diag((np.sum(gr, 0) + np.sum(gr, 1)) / (2 * s * s))
    return cov_cotangent(np.reshape(gc, np.shape(c)), x, y, rowvar, which=which)


def corrcoef_tangent(d: Any, ans: Any, x: Any, y: Any = None, rowvar: bool = True,
                     which: int = 0) -> Any:
    """The tangent of ``np.corrcoef(x, y)`` for a tangent ``d`` of ``x`` (0) or ``y`` (1)."""
    c = np.cov(x, y, rowvar)
    k = np.shape(np.atleast_2d(c))[0]
    dc = np.reshape(cov_tangent(d, c, x, y, rowvar, which=which), (k, k))
    r = np.reshape(ans, (k, k))
    var = np.diagonal(np.reshape(c, (k, k)))
    rel = np.diagonal(dc) / (2 * var)
    s = np.sqrt(var)
    dr = dc / np.outer(s, s) - r * (np.expand_dims(rel, 1) + np.expand_dims(rel, 0))
    return np.reshape(dr, np.shape(ans))


def _gradient_axes(f: Any, axis: Any) -> tuple:
    return normalize_axis(axis, np.ndim(f))


def _gradient_matrix(n: int, spacing: Any, edge_order: int, like: Any) -> Any:
    """The matrix ``D`` with ``np.gradient(v, spacing) == D @ v`` for vectors of length ``n``."""
    args = () if spacing is None else (spacing,)
    d = np.gradient(np.eye(n), *args, axis=0, edge_order=edge_order)
    return _float_like(d, like)


def gradient_cotangent(g: Any, f: Any, varargs: tuple, axis: Any = None,
                       edge_order: int = 1) -> Any:
    """The cotangent of ``f`` for ``np.gradient(f, *varargs, axis, edge_order)``.

    Each output is linear in ``f`` along one axis (``D_k`` along axis ``k``),
    so the cotangent is the sum of the ``D_k^T`` applied to the outputs'
    cotangents.  ``varargs`` are the (constant) spacings.
    """
    axes = _gradient_axes(f, axis)
    pieces = list(g) if isinstance(g, (list, tuple)) else [g]
    spacings = list(varargs) if len(varargs) != 1 else list(varargs) * len(axes)
    total = np.zeros_like(f)
    for k, (ax, gk) in enumerate(zip(axes, pieces, strict=True)):
        if gk is None:
            continue
        spacing = spacings[k] if spacings else None
        d = _gradient_matrix(np.shape(f)[ax], spacing, edge_order, f)
        moved = np.tensordot(mT(d), np.moveaxis(gk, ax, 0), 1)
        total = total + np.moveaxis(moved, 0, ax)
    return total


def histogram_weights_cotangent(g: Any, ans: Any, a: Any, density: Any = None,
                                weights: Any = None) -> Any:
    """The cotangent of the weights for ``hist, edges = np.histogram(a, ..., weights=weights)``.

    Each weight adds to one bin (the last bin includes its right edge;
    values outside the edges add nowhere).  With ``density`` the counts are
    divided by their total and the bin widths.
    """
    gh = part(g, 0, ans)
    edges = ans[1]
    nbins = int(np.size(edges)) - 1
    index = np.searchsorted(edges, a, side="right") - 1
    index = np.where(a == edges[-1], nbins - 1, index)
    inside = (index >= 0) & (index < nbins)
    if density:
        counts = np.histogram(a, edges, weights=weights)[0]
        total = np.sum(counts)
        widths = np.diff(edges)
        gh = gh / (total * widths) - np.sum(gh * counts / widths) / total**2
    picked = np.take(gh, np.clip(index, 0, nbins - 1))
    return np.where(inside, picked, 0 * picked)


def histogram_density_tangent(dw: Any, ans: Any, a: Any, weights: Any) -> Any:
    """The tangent of ``np.histogram(a, ..., density=True, weights=weights)``'s densities."""
    edges = ans[1]
    counts = np.histogram(a, edges, weights=weights)[0]
    dcounts = np.histogram(a, edges, weights=dw)[0]
    total = np.sum(counts)
    widths = np.diff(edges)
    return dcounts / (total * widths) - counts * np.sum(dcounts) / (total**2 * widths)


def _polyfit_system(x: Any, deg: int, w: Any = None) -> Any:
    """``np.polyfit``'s least-squares matrix: the Vandermonde matrix, rows scaled by ``w``."""
    v = np.vander(x, deg + 1)
    return v if w is None else v * np.expand_dims(w, -1)


def _check_polyfit(full: bool, cov: Any) -> None:
    if full or cov:
        raise NotImplementedError("no derivative for np.polyfit with full=True or cov=True")


def polyfit_cotangent(g: Any, ans: Any, x: Any, y: Any, deg: int, w: Any = None,
                      full: bool = False, cov: Any = False, which: int = 1) -> Any:
    """The cotangent of ``x`` (``which=0``) or ``y`` (1) for ``p = np.polyfit(x, y, deg)``.

    ``p = pinv(V) (w * y)`` with ``V`` the (weighted) Vandermonde matrix of
    ``x``, full column rank: ``y``'s cotangent is ``w * pinv(V)^T g``; ``x``
    moves ``V``, whose cotangent is ``pinv``'s, row by row.
    """
    _check_polyfit(full, cov)
    v = _polyfit_system(x, deg, w)
    p = np.linalg.pinv(v)
    weight = 1 if w is None else (np.expand_dims(w, -1) if np.ndim(y) == 2 else w)
    if which == 1:
        return np.matmul(mT(p), g) * weight
    wy = y * weight
    gv = pinv_cotangent(np.matmul(np.reshape(g, (deg + 1, -1)),
                                  mT(np.reshape(wy, (np.shape(x)[0], -1)))), p, v)
    slope = vander_partials(x, deg + 1)
    if w is not None:
        slope = slope * np.expand_dims(w, -1)
    return np.sum(gv * slope, axis=-1)


def polyfit_tangent(d: Any, ans: Any, x: Any, y: Any, deg: int, w: Any = None,
                    full: bool = False, cov: Any = False, which: int = 1) -> Any:
    """The tangent of ``np.polyfit(x, y, deg)`` for a tangent ``d`` of ``x`` (0) or ``y`` (1)."""
    _check_polyfit(full, cov)
    v = _polyfit_system(x, deg, w)
    p = np.linalg.pinv(v)
    weight = 1 if w is None else (np.expand_dims(w, -1) if np.ndim(y) == 2 else w)
    if which == 1:
        return np.matmul(p, d * weight)
    dv = np.expand_dims(d, -1) * vander_partials(x, deg + 1)
    if w is not None:
        dv = dv * np.expand_dims(w, -1)
    return np.matmul(pinv_tangent(dv, p, v), y * weight)


def _poly_without(roots: Any, k: int) -> Any:
    """The coefficients of the polynomial with every root but ``roots[k]``."""
    if int(np.size(roots)) == 1:
        return np.ones_like(roots)
    return np.poly(np.delete(roots, k))


def poly_cotangent(g: Any, seq_of_zeros: Any) -> Any:
    """The cotangent of the roots ``r`` for ``np.poly(r)``, the coefficients of ``prod(x - r_k)``.

    ``d p / d r_k = -[0, poly(r without r_k)]``.  Only for a 1-D sequence of
    roots (a square matrix's characteristic polynomial is not covered).
    """
    if np.ndim(seq_of_zeros) != 1:
        raise NotImplementedError("no derivative for np.poly of a matrix")
    tail = g[1:]
    return np.stack([-np.sum(tail * _poly_without(seq_of_zeros, k))
                     for k in range(int(np.size(seq_of_zeros)))])


def poly_tangent(d: Any, seq_of_zeros: Any) -> Any:
    """The tangent of ``np.poly(r)`` for a tangent ``d`` of the roots ``r``."""
    if np.ndim(seq_of_zeros) != 1:
        raise NotImplementedError("no derivative for np.poly of a matrix")
    total = None
    for k in range(int(np.size(seq_of_zeros))):
        term = np.concatenate([np.zeros_like(d[:1]), -_poly_without(seq_of_zeros, k) * d[k]])
        total = term if total is None else total + term
    return total


def _bin_positions(sample: Any, edges: list) -> tuple:
    """For ``np.histogramdd``: each point's flat bin index (clipped) and whether it is inside.

    The last bin of each axis includes its right edge, as NumPy counts.
    """
    shape = tuple(int(np.size(e)) - 1 for e in edges)
    index = []
    inside = True
    for d, e in enumerate(edges):
        column = sample[:, d]
        i = np.searchsorted(e, column, side="right") - 1
        i = np.where(column == e[-1], shape[d] - 1, i)
        inside = inside & (i >= 0) & (i < shape[d])
        index.append(np.clip(i, 0, shape[d] - 1))
    return np.ravel_multi_index(tuple(index), shape), inside


def _density_cotangent(gh: Any, counts: Any, edges: list) -> Any:
    """The cotangent of the weighted counts when ``density`` divides them by total and volume."""
    volume = 1
    for d, e in enumerate(edges):
        widths = np.diff(e)
        volume = volume * np.reshape(widths, (-1,) + (1,) * (len(edges) - 1 - d))
    total = np.sum(counts)
    return gh / (total * volume) - np.sum(gh * counts / volume) / total**2


def histogramdd_weights_cotangent(gh: Any, sample: Any, edges: list, density: Any = None,
                                  weights: Any = None) -> Any:
    """The cotangent of the weights for ``np.histogramdd(sample, ..., weights=weights)``.

    ``sample`` is an ``(N, D)`` array, ``edges`` the bin edges NumPy returned.
    """
    if density:
        counts = np.histogramdd(sample, edges, weights=weights)[0]
        gh = _density_cotangent(gh, counts, edges)
    flat, inside = _bin_positions(sample, edges)
    picked = np.take(np.ravel(gh), flat)
    return np.where(inside, picked, 0 * picked)


def histogramdd_weights_tangent(dw: Any, sample: Any, edges: list, density: Any = None,
                                weights: Any = None) -> Any:
    """The tangent of ``np.histogramdd``'s counts (or densities) for a tangent of the weights."""
    dcounts = np.histogramdd(sample, edges, weights=dw)[0]
    if not density:
        return dcounts
    counts = np.histogramdd(sample, edges, weights=weights)[0]
    volume = 1
    for d, e in enumerate(edges):
        volume = volume * np.reshape(np.diff(e), (-1,) + (1,) * (len(edges) - 1 - d))
    total = np.sum(counts)
    return dcounts / (total * volume) - counts * np.sum(dcounts) / (total**2 * volume)
