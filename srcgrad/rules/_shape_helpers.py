"""Helpers for the reduction, shape/indexing and linear-algebra rules.

A rule's lambda stays one readable line of math; when a derivative needs
several statements (the cotangent of a ``max`` with ties, the scatter of an
indexing cotangent, the backward pass of an SVD) the lambda calls one of the
small functions below.

Every helper calls only NumPy functions and operators on the values it is
given: no ``np.asarray``, no ``isinstance(x, np.ndarray)`` and no in-place
change of an argument (fresh arrays built here may be filled in place).  So
they run on NumPy arrays and equally on objects implementing NumPy's
``__array_ufunc__``/``__array_function__`` protocols, such as the tape's
Tensors, which is how the tape differentiates a backward pass.  The one
special case is :func:`index_add`: accumulating repeated integer indices uses
the ufunc method ``np.add.at`` when the object supports it and out-of-place
item assignments when it does not.
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

from ..runtime import (
    expand_reduced,
    is_complex,
    normalize_axis,
    real_cotangent,
    shape_of,
    unbroadcast,
    unbroadcast_to,
)
from .source import reads_structure

# Cotangent types for which index_cotangent's in-place fast path applies.
_PLAIN_VALUES = frozenset({np.ndarray, float, int, np.float64, np.float32, np.float16,
                           np.complex128, np.complex64})

__all__ = [
    # general
    "dtype_of", "holds_fractions", "reduced_count", "mT", "part", "with_operand",
    # reductions
    "extremum_share", "extremum_cotangent", "prod_others", "cumprod_cotangent", "cumprod_tangent",
    "diff_cotangent", "diff_tangent", "median_partials",
    "average_weights", "average_weights_cotangent", "average_weights_tangent",
    "nan_count",
    # shape and indexing
    "inverse_permutation", "concat_cotangents", "hstack_cotangents", "vstack_cotangents",
    "split_cotangent", "untile", "unrepeat", "unpad", "pad_tangent", "embed_diagonal",
    "index_cotangent", "index_add", "assign", "assigned_cotangent", "convert", "take_cotangent",
    "take_along_axis_cotangent", "sort_cotangent", "sort_tangent",
    # products and linear algebra
    "matmul_left_cotangent", "matmul_right_cotangent", "dot_left_cotangent",
    "dot_right_cotangent", "tensordot_left_cotangent", "tensordot_right_cotangent",
    "inner_left_cotangent", "inner_right_cotangent", "einsum_cotangent", "einsum_operand",
    "cast_cotangent", "cast_tangent", "array_cotangent", "array_tangent", "block_cotangent",
    "kron_left_cotangent", "kron_right_cotangent", "norm_partials",
    "solve_left_cotangent", "solve_right_cotangent", "solve_left_tangent",
    "cholesky_cotangent", "cholesky_tangent", "eigh_cotangent", "eigh_tangent",
    "svd_cotangent", "svd_tangent", "qr_cotangent", "qr_tangent",
    "pinv_cotangent", "pinv_tangent", "matrix_power_cotangent", "matrix_power_tangent",
]


# ---------------------------------------------------------------------------
# General


def dtype_of(x: Any) -> np.dtype:
    """The NumPy dtype of an array, a Tensor (through its ``dtype``), a Python number, or
    a list or tuple of those (the dtype NumPy gives the array it makes of them)."""
    d = getattr(x, "dtype", None)
    if d is not None:
        return np.dtype(d)
    if isinstance(x, (list, tuple)):
        return np.result_type(*[dtype_of(item) for item in x]) if x else np.dtype(np.float64)
    return np.result_type(x)


@reads_structure(0)
def reduced_count(a: Any, axis: Any = None, where: Any = True) -> Any:
    """How many elements of ``a`` a reduction over ``axis`` combines into each result.

    A Python int, or (with a ``where`` mask) an array with the reduced axes
    kept, in ``a``'s floating dtype.
    """
    if where is True and axis is None and type(a) is np.ndarray:
        return a.size
    shape = np.shape(a)
    axes = normalize_axis(axis, len(shape))
    if where is True:
        return math.prod(shape[i] for i in axes)
    dtype = dtype_of(a)
    dtype = dtype if dtype.kind in "fc" else np.dtype(np.float64)
    return np.sum(np.broadcast_to(where, shape), axis=axes, keepdims=True, dtype=dtype)


def mT(x: Any) -> Any:
    """The matrix transpose of ``x``: its last two axes swapped (stacks stay stacks)."""
    return np.swapaxes(x, -1, -2)


def part(g: Any, i: int, ans: Any) -> Any:
    """The cotangent of output ``i`` of a multi-output primitive (zeros when it is unused)."""
    gi = g[i]
    return np.zeros_like(ans[i]) if gi is None else gi


def with_operand(operands: tuple, i: int, x: Any) -> list:
    """``operands`` with operand ``i`` replaced by ``x``."""
    out = list(operands)
    out[i] = x
    return out


def _axis_take(x: Any, axis: int, start: int, stop: int) -> Any:
    """``x[..., start:stop, ...]`` along ``axis``, by basic indexing."""
    index = (slice(None),) * (axis % np.ndim(x)) + (slice(start, stop),)
    return x[index]


def _merge_axes(x: Any, axis: Any) -> tuple[Any, Any]:
    """``x`` with the ``axis`` axes moved last and merged into one, and the inverse map."""
    shape = np.shape(x)
    axes = normalize_axis(axis, len(shape))
    rest = [i for i in range(len(shape)) if i not in axes]
    perm = rest + list(axes)
    moved_shape = tuple(shape[i] for i in perm)
    merged = np.reshape(np.transpose(x, perm),
                        tuple(shape[i] for i in rest) + (math.prod(shape[i] for i in axes),))
    back = inverse_permutation(perm, len(perm))

    def restore(y: Any) -> Any:
        return np.transpose(np.reshape(y, moved_shape), back)

    return merged, restore


# ---------------------------------------------------------------------------
# Reductions


def extremum_share(a: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """How much of a ``max``/``min`` reduction's cotangent each element of ``a`` gets.

    ``ans`` is the reduced result.  Elements equal to it share evenly
    (``1/k`` for ``k`` ties); all others get 0.
    """
    hit, count, dtype, _ = _extremum_ties(a, ans, axis, keepdims)
    return np.divide(hit, count, dtype=dtype)


def extremum_cotangent(g: Any, a: Any, ans: Any, axis: Any = None,
                       keepdims: bool = False, attained: bool = True) -> Any:
    """The cotangent of ``a`` for a ``max``/``min`` reduction of it with cotangent ``g``.

    ``expand_reduced(g, a, axis, keepdims) * extremum_share(a, ans, axis, keepdims)``,
    with the division by the number of ties done on the reduced shape: the
    elements equal to the extremum share ``g`` evenly, all others get 0.
    ``attained=False`` says an extremum may be no element of ``a`` (an
    ``initial`` value won).
    """
    if (keepdims or axis is None) and type(a) is np.ndarray and type(ans) is type(g) \
            and a.dtype.kind == "f" and type(g) in (np.ndarray, a.dtype.type):
        # plain float arrays, the reduced axes kept (or all reduced): no reshaping needed
        hit = a == ans
        if attained and np.count_nonzero(hit) == ans.size and not _has_nan(ans):
            # every extremum is an element of ``a``, so each has at least one hit; as many
            # hits as extrema means exactly one each: no ties to share, no counts needed
            return hit * g
        # rows without a hit (a NaN extremum) get a count of 1, so their share stays 0
        count = np.maximum(np.add.reduce(hit, axis, a.dtype, None, True), 1)
        return hit * (g / count)
    hit, count, dtype, axes = _extremum_ties(a, ans, axis, keepdims)
    if not keepdims and axis is not None and axes:
        g = np.expand_dims(g, axes)
    if type(hit) is np.ndarray and hit.dtype == dtype:  # plain: 0/1 and counts as floats
        return hit * (g / count)
    # anything else (Tensors): g enters only a plain product, which the tape can
    # differentiate again
    return g * np.divide(hit, count, dtype=dtype)


def _has_nan(values: np.ndarray) -> bool:
    """Is any of the (real) ``values`` NaN?  Their sum of squares is then NaN, and only then."""
    square_sum = np.vdot(values, values)
    return square_sum != square_sum


def _extremum_ties(a: Any, ans: Any, axis: Any, keepdims: bool) -> tuple:
    """Where ``a`` equals its reduced extremum ``ans``, how many ties each result has (at
    least 1, in the reduced axes kept), the floating dtype of the shares, the axes.

    For plain arrays the hits are 0/1 in that dtype and the counts too (cheaper to
    sum and to multiply than booleans); otherwise booleans and integer counts.
    """
    plain = type(a) is np.ndarray
    if plain:
        nd, dtype = a.ndim, a.dtype
    else:
        nd, dtype = np.ndim(a), dtype_of(a)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
    axes = normalize_axis(axis, nd)
    if not keepdims and axis is not None:
        ans = np.expand_dims(ans, axes)
    hit = np.equal(a, ans)  # broadcasts; no expanded copy of ``ans`` is needed
    if plain and type(hit) is np.ndarray:
        hit = hit.astype(dtype)
        return hit, np.maximum(np.add.reduce(hit, axis=axes, keepdims=True), 1), dtype, axes
    # np.add.reduce: np.sum's arithmetic without its Python layer (Tensors map it back)
    count = np.maximum(np.add.reduce(hit, axis=axes, keepdims=True, dtype=np.intp), 1)
    return hit, count, dtype, axes


def prod_others(a: Any, axis: Any = None, initial: Any = None) -> Any:
    """For each element of ``a``, the product of the other elements reduced with it.

    This is the partial derivative of ``np.prod(a, axis)``.  It is built from
    exclusive cumulative products taken from both ends, never by dividing,
    so zeros in ``a`` are handled exactly.
    """
    flat, restore = _merge_axes(a, axis)
    n = np.shape(flat)[-1]
    if n == 0:
        return np.ones_like(a)
    ones = np.ones_like(_axis_take(flat, -1, 0, 1))
    before = np.cumprod(np.concatenate([ones, _axis_take(flat, -1, 0, n - 1)], axis=-1), axis=-1)
    rev = np.flip(flat, axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, _axis_take(rev, -1, 0, n - 1)], axis=-1),
                               axis=-1), axis=-1)
    others = restore(before * after)
    return others if initial is None else others * initial


def _along_last(x: Any, axis: Any) -> tuple[Any, Any]:
    """``x`` with ``axis`` moved last (flattened when ``axis`` is None) and the inverse map."""
    if axis is None:
        return np.ravel(x), lambda y: y
    return np.moveaxis(x, axis, -1), lambda y: np.moveaxis(y, -1, axis)


def _reverse_cumsum(x: Any) -> Any:
    """``y[i] = x[i] + x[i+1] + ...`` along the last axis."""
    return np.flip(np.cumsum(np.flip(x, -1), axis=-1), -1)


def _cumprod_parts(x: Any) -> tuple[Any, Any, Any]:
    """For ``cumprod`` along the last axis: where the first zero is, what precedes it, and
    the cumulative product with that first zero replaced by 1."""
    zeros_so_far = np.cumsum(x == 0, axis=-1)
    first_zero = (x == 0) & (zeros_so_far == 1)
    before = zeros_so_far == 0
    return first_zero, before, np.cumprod(np.where(first_zero, 1, x), axis=-1)


def cumprod_cotangent(g: Any, a: Any, axis: Any = None) -> Any:
    """The cotangent of ``a`` for ``np.cumprod(a, axis)`` with output cotangent ``g``.

    Before the first zero of a slice it is the familiar reversed cumulative
    sum of ``g * cumprod`` divided by ``a``; the first zero itself gets the
    products that skip it; everything after it gets 0.  Exact with zeros and
    without branching on the data.
    """
    x, back = _along_last(a, axis)
    gx = np.moveaxis(g, axis, -1) if axis is not None else g
    first_zero, before, prods = _cumprod_parts(x)
    tail = _reverse_cumsum(gx * prods)
    at_zero = np.sum(np.where(first_zero, tail, 0), axis=-1, keepdims=True)
    c = np.where(before, (tail - at_zero) / np.where(before, x, 1), np.where(first_zero, tail, 0))
    return np.reshape(back(c), np.shape(a))


def cumprod_tangent(dx: Any, a: Any, axis: Any = None) -> Any:
    """The tangent of ``np.cumprod(a, axis)`` for a tangent ``dx`` of ``a`` (zeros handled)."""
    x, back = _along_last(a, axis)
    d = np.moveaxis(dx, axis, -1) if axis is not None else np.ravel(dx)
    first_zero, before, prods = _cumprod_parts(x)
    rel = np.cumsum(np.where(before, d / np.where(before, x, 1), 0), axis=-1)
    at_zero = np.sum(np.where(first_zero, d, 0), axis=-1, keepdims=True)
    return back(prods * np.where(before, rel, at_zero))


def _end_length(end: Any, axis: int) -> int:
    """Length along ``axis`` that ``np.diff``'s ``prepend``/``append`` value adds."""
    if end is None or end is np._NoValue:
        return 0
    return 1 if np.ndim(end) == 0 else np.shape(end)[axis]


def diff_cotangent(g: Any, a: Any, n: int = 1, axis: int = -1, prepend: Any = None,
                   append: Any = None) -> Any:
    """The cotangent of ``a`` for ``np.diff(a, n, axis, prepend, append)``.

    The adjoint of one difference ``x[1:] - x[:-1]`` is ``[0, g] - [g, 0]``;
    it is applied ``n`` times, then the part belonging to ``a`` (between the
    prepended and appended values) is kept.
    """
    nd = np.ndim(a)
    axis = axis % nd
    widths_before = [(0, 0)] * nd
    widths_after = [(0, 0)] * nd
    widths_before[axis] = (1, 0)
    widths_after[axis] = (0, 1)
    for _ in range(n):
        g = np.pad(g, widths_before) - np.pad(g, widths_after)
    start = _end_length(prepend, axis)
    return _axis_take(g, axis, start, start + np.shape(a)[axis])


def diff_tangent(dx: Any, a: Any, n: int = 1, axis: int = -1, prepend: Any = None,
                 append: Any = None) -> Any:
    """The tangent of ``np.diff(a, n, axis, prepend, append)`` (prepend/append are constants)."""
    nd = np.ndim(a)
    axis = axis % nd
    widths = [(0, 0)] * nd
    widths[axis] = (_end_length(prepend, axis), _end_length(append, axis))
    return np.diff(np.pad(dx, widths), n, axis)


def median_partials(a: Any, axis: Any = None) -> Any:
    """The partial derivatives of ``np.median(a, axis)`` with respect to ``a``.

    The median is the middle element of each sorted slice (or the mean of
    the two middle ones), so the partials are 1 (or 1/2 each) at those
    elements and 0 elsewhere.
    """
    flat, restore = _merge_axes(a, axis)
    n = np.shape(flat)[-1]
    rank = np.argsort(np.argsort(flat, axis=-1, kind="stable"), axis=-1, kind="stable")
    middle = (rank == (n - 1) // 2) | (rank == n // 2)
    share = np.where(middle, np.ones_like(flat), np.zeros_like(flat)) / (2 - n % 2)
    return restore(share)


def nan_count(a: Any, axis: Any = None) -> Any:
    """The number of non-NaN elements in each reduced slice, reduced axes kept, ``a``'s dtype."""
    return np.sum(np.where(np.isnan(a), 0, np.ones_like(a)),
                  axis=normalize_axis(axis, np.ndim(a)), keepdims=True)


def _weight_axes(a: Any, axis: Any) -> list[int]:
    """The axes (in the order given) that 1-D or N-D ``np.average`` weights lie along."""
    nd = np.ndim(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return [int(ax) % nd for ax in axes]


def _weights_like(a: Any, axis: Any, weights: Any) -> Any:
    """``np.average``'s weights arranged to broadcast against ``a``."""
    if np.shape(weights) == np.shape(a):
        return weights
    axes = _weight_axes(a, axis)
    order = sorted(range(len(axes)), key=lambda k: axes[k])
    shape = np.shape(a)
    target = tuple(shape[i] if i in axes else 1 for i in range(len(shape)))
    return np.reshape(np.transpose(weights, order), target)


def _weights_back(c: Any, a: Any, axis: Any, weights: Any) -> Any:
    """Map a cotangent shaped like ``a`` back to the shape of ``np.average``'s weights."""
    if np.shape(weights) == np.shape(a):
        return c
    axes = _weight_axes(a, axis)
    order = sorted(range(len(axes)), key=lambda k: axes[k])
    rest = tuple(i for i in range(np.ndim(a)) if i not in axes)
    c = np.sum(c, axis=rest)
    return np.transpose(c, inverse_permutation(order, len(order)))


def average_weights(a: Any, axis: Any = None, weights: Any = None) -> Any:
    """The partials of ``np.average(a, axis, weights)`` w.r.t. ``a``: the normalized weights."""
    if weights is None:
        return 1 / reduced_count(a, axis)
    w = _weights_like(a, axis, weights)
    return w / np.sum(np.broadcast_to(w, np.shape(a)), axis=normalize_axis(axis, np.ndim(a)),
                      keepdims=True)


def average_weights_cotangent(g: Any, ans: Any, a: Any, axis: Any = None, weights: Any = None,
                              keepdims: bool = False) -> Any:
    """The cotangent of the weights of ``np.average``: ``g * (a - average) / sum(weights)``."""
    axes = normalize_axis(axis, np.ndim(a))
    w = _weights_like(a, axis, weights)
    total = np.sum(np.broadcast_to(w, np.shape(a)), axis=axes, keepdims=True)
    c = expand_reduced(g, a, axis, keepdims) * (a - expand_reduced(ans, a, axis, keepdims)) / total
    return _weights_back(c, a, axis, weights)


def average_weights_tangent(dw: Any, ans: Any, a: Any, axis: Any = None, weights: Any = None,
                            keepdims: bool = False) -> Any:
    """The tangent of ``np.average`` for a tangent ``dw`` of its weights."""
    axes = normalize_axis(axis, np.ndim(a))
    w = np.broadcast_to(_weights_like(a, axis, weights), np.shape(a))
    d = _weights_like(a, axis, dw)
    centered = a - expand_reduced(ans, a, axis, keepdims)
    return (np.sum(d * centered, axis=axes, keepdims=keepdims)
            / np.sum(w, axis=axes, keepdims=keepdims))


# ---------------------------------------------------------------------------
# Shape


def inverse_permutation(axes: Any, ndim: int) -> Any:
    """The permutation undoing ``np.transpose(x, axes)`` (``None`` for the reversal)."""
    if axes is None:
        return None
    axes = [int(ax) % ndim for ax in axes]
    return tuple(sorted(range(len(axes)), key=lambda k: axes[k]))


def _split_to_shapes(g: Any, shapes: list, promoted: list, axis: Any) -> list:
    """Cut ``g`` along ``axis`` into pieces of the ``promoted`` shapes, reshaped to ``shapes``."""
    if axis is None:
        sizes = [math.prod(s) for s in shapes]
        g = np.ravel(g)
        axis = 0
    else:
        sizes = [p[axis] for p in promoted]
    pieces = []
    start = 0
    for shape, size in zip(shapes, sizes, strict=True):
        pieces.append(np.reshape(_axis_take(g, axis, start, start + size), shape))
        start += size
    return pieces


def concat_cotangents(g: Any, arrays: Any, axis: Any = 0) -> list:
    """The cotangents of ``np.concatenate(arrays, axis)``'s inputs: ``g`` cut back into pieces."""
    shapes = [np.shape(x) for x in arrays]
    return _split_to_shapes(g, shapes, shapes, axis)


def hstack_cotangents(g: Any, tup: Any) -> list:
    """The cotangents of ``np.hstack(tup)``'s inputs."""
    shapes = [np.shape(x) for x in tup]
    promoted = [s or (1,) for s in shapes]
    return _split_to_shapes(g, shapes, promoted, 0 if len(promoted[0]) == 1 else 1)


def vstack_cotangents(g: Any, tup: Any) -> list:
    """The cotangents of ``np.vstack(tup)``'s inputs."""
    shapes = [np.shape(x) for x in tup]
    promoted = [(1,) * (2 - len(s)) + s if len(s) < 2 else s for s in shapes]
    return _split_to_shapes(g, shapes, promoted, 0)


def split_cotangent(g: Any, ans: Any, axis: int = 0) -> Any:
    """The cotangent of the array ``np.split``/``np.array_split`` cut into the pieces ``ans``.

    ``g`` holds one cotangent per piece (``None`` for unused pieces); a lone
    array is taken as the cotangent of a single piece.
    """
    pieces = list(ans)
    if not isinstance(g, (list, tuple)) and len(pieces) == 1 and np.ndim(g) == np.ndim(pieces[0]):
        g = [g]
    return np.concatenate([np.zeros_like(p) if gi is None else gi
                           for gi, p in zip(g, pieces, strict=True)], axis=axis)


def untile(g: Any, A: Any, reps: Any) -> Any:
    """The cotangent of ``A`` for ``np.tile(A, reps)``: the copies of ``g`` summed."""
    shape = np.shape(A)
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (int(reps),)
    d = max(len(shape), len(reps))
    full = (1,) * (d - len(shape)) + tuple(shape)
    reps = (1,) * (d - len(reps)) + reps
    interleaved = [n for pair in zip(reps, full, strict=True) for n in pair]
    summed = np.sum(np.reshape(g, interleaved), axis=tuple(range(0, 2 * d, 2)))
    return np.reshape(summed, shape)


def unrepeat(g: Any, a: Any, repeats: Any, axis: Any = None) -> Any:
    """The cotangent of ``a`` for ``np.repeat(a, repeats, axis)``: each run of copies summed."""
    shape = np.shape(a)
    if axis is None:
        x_shape = (math.prod(shape),)
        axis = 0
    else:
        x_shape = shape
        axis = axis % len(shape)
    n = x_shape[axis]
    if np.size(repeats) == 1:
        r = int(np.reshape(repeats, ()))
        split = x_shape[:axis] + (n, r) + x_shape[axis + 1:]
        c = np.sum(np.reshape(g, split), axis=axis + 1)
    else:
        owner = np.repeat(np.arange(n), repeats)
        onehot = owner[:, None] == np.arange(n)
        c = np.moveaxis(np.matmul(np.moveaxis(g, axis, -1), onehot), -1, axis)
    return np.reshape(c, shape)


_COPY_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def unpad(g: Any, array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """The cotangent of ``array`` for ``np.pad(array, pad_width, mode)``.

    Constant padding just cuts the border off.  The copying modes (edge,
    reflect, symmetric, wrap) also add each padded cotangent back onto the
    element it copies.
    """
    shape = np.shape(array)
    widths = np.broadcast_to(np.array(pad_width, dtype=np.intp), (len(shape), 2))
    if mode == "constant":
        return g[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, shape,
                                                                         strict=True))]
    if mode in _COPY_PAD_MODES and kwargs.get("reflect_type", "even") == "even":
        source = np.pad(np.reshape(np.arange(math.prod(shape)), shape), pad_width, mode)
        flat = index_add(np.zeros_like(np.ravel(array)), np.ravel(source), np.ravel(g))
        return np.reshape(flat, shape)
    raise NotImplementedError(f"no derivative for np.pad with mode={mode!r} {kwargs or ''}")


def pad_tangent(dx: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """The tangent of ``np.pad(array, pad_width, mode, ...)`` (padding values are constants)."""
    if mode == "constant" or mode in _COPY_PAD_MODES:
        options = {k: v for k, v in kwargs.items() if k == "reflect_type"}
        return np.pad(dx, pad_width, mode, **options)
    raise NotImplementedError(f"no derivative for np.pad with mode={mode!r}")


def embed_diagonal(d: Any, shape: tuple, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The array of ``shape`` that is zero but for ``d`` on its diagonal: undoes ``np.diagonal``.

    ``d`` is shaped like ``np.diagonal(x, offset, axis1, axis2)`` for ``x`` of
    ``shape`` (its last axis may have length 1 and is then broadcast).
    """
    nd = len(shape)
    axis1, axis2 = axis1 % nd, axis2 % nd
    n, m = shape[axis1], shape[axis2]
    length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    rows = np.eye(n, length, k=min(offset, 0), dtype=bool)   # rows[i, l]: i == l - min(offset, 0)
    cols = np.eye(m, length, k=-max(offset, 0), dtype=bool)  # cols[j, l]: j == l + max(offset, 0)
    planes = np.matmul(np.expand_dims(d, -2) * rows, cols.T)
    return np.moveaxis(planes, (-2, -1), (axis1, axis2))


def _has_integer_array(index: Any) -> bool:
    """Whether an index contains an integer array or list (which may repeat positions)."""
    parts = index if isinstance(index, tuple) else (index,)
    for i in parts:
        if type(i) is np.ndarray:       # the common case, decided without np.ndim/dtype_of
            if i.ndim and i.dtype.kind in "iu":
                return True
            continue
        if i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice, bool, np.bool_)):
            continue
        if isinstance(i, (list, tuple)):
            i = np.array(i)
        if np.ndim(i) > 0 and dtype_of(i).kind in "iu":
            return True
    return False


def index_add(x: Any, index: Any, values: Any) -> Any:
    """A copy of ``x`` with ``values`` added at ``x[index]``, repeated indices accumulating.

    Uses the ufunc method ``np.add.at``.  Objects whose ``__array_ufunc__``
    refuses it (the tape's Tensors) get :func:`_index_add_in_rounds`, built
    from item assignment, which the tape can differentiate again.
    """
    out = np.copy(x)
    values = real_cotangent(values, x)      # (a real x keeps the real part: runtime's doc)
    try:
        np.add.at(out, index, values)
    except TypeError:
        return _index_add_in_rounds(x, index, values)
    return out


def _index_add_in_rounds(x: Any, index: Any, values: Any) -> Any:
    """:func:`index_add` by out-of-place assignments: round ``r`` adds every position's
    ``r``-th occurrence, so no round writes one position twice."""
    shape = np.shape(x)
    positions = np.reshape(np.arange(math.prod(shape)), shape)[index]
    values = np.ravel(np.broadcast_to(values, np.shape(positions)))
    positions = np.ravel(positions)
    order = np.argsort(positions, kind="stable")
    ranked = positions[order]
    starts = np.concatenate([[True], ranked[1:] != ranked[:-1]])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(ranked)), 0))
    occurrence = np.empty(len(ranked), dtype=np.intp)
    occurrence[order] = np.arange(len(ranked)) - first
    out = np.ravel(x)
    for r in range(int(occurrence.max(initial=-1)) + 1):
        pick = occurrence == r
        out = out + assign(np.zeros_like(out), positions[pick], values[pick])
    return np.reshape(out, shape)


@reads_structure(1)
def assigned_cotangent(g: Any, x: Any, index: Any) -> Any:
    """The cotangent of the values ``x[index] = value`` writes, before summing to ``value``.

    ``g[index]``, with zeros for the writes a later write to the same element
    replaced: with repeated integer indices NumPy keeps one write per element
    (the last), so only that one reaches the result.
    """
    picked = g[index]
    if not _has_integer_array(index) or not hasattr(type(g), "__setitem__"):
        # (objects without item assignment: ``assign`` adds repeated writes up)
        return picked
    return picked * _surviving_writes(np.shape(x), index, np.shape(picked))


def _surviving_writes(shape: tuple, index: Any, written: tuple) -> Any:
    """Which of the elements ``x[index] = value`` writes survive in ``x`` (a boolean array
    of the written shape): each one writes its own number, and reads back its own
    number where no later write replaced it."""
    numbers = np.arange(math.prod(written), dtype=np.intp).reshape(written)
    owner = np.full(shape, -1, dtype=np.intp)
    owner[index] = numbers
    return owner[index] == numbers


def assign(x: Any, index: Any, value: Any) -> Any:
    """``x`` with ``x[index] = value``, as a new array (``x`` itself is not changed).

    Objects without item assignment get a select between ``x`` and ``value``
    scattered to ``index``.
    """
    out = np.copy(x)
    value = real_cotangent(value, x)        # (a real x keeps the real part: runtime's doc)
    if hasattr(type(out), "__setitem__"):
        out[index] = value
        return out
    hit = index_add(np.zeros_like(x), index, 1) != 0
    return np.where(hit, index_add(np.zeros_like(x), index, value), out)


def convert(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype``: ``x.astype(dtype)`` for arrays, Tensors and numbers."""
    method = getattr(x, "astype", None)
    if method is not None:
        return method(dtype)
    if isinstance(x, (bool, int, float, complex)):
        return np.array(x, dtype=dtype)
    return np.astype(x, dtype)


def _holds_fractions(dtype: Any) -> bool:
    """Can ``dtype`` hold non-integer values?  A cast to integers or booleans cannot."""
    return np.dtype(dtype).kind not in "iub"


def holds_fractions(x: Any) -> bool:
    """Can array ``x`` hold non-integer values (does a write into it keep a derivative)?"""
    return dtype_of(x).kind not in "iub"


def cast_cotangent(g: Any, x: Any, dtype: Any) -> Any:
    """The cotangent of ``x`` for ``x.astype(dtype)``.

    ``g`` in ``x``'s dtype; zero for a cast to integers or booleans, which is
    piecewise constant (as PyTorch and JAX: integer results carry no gradient).
    """
    if _holds_fractions(dtype):
        if np.dtype(dtype).kind != "c" and is_complex(g):
            g = np.real(g)      # a real result (a complex x's real part): Re(g) only
        return convert(real_cotangent(g, x), dtype_of(x))
    return np.zeros_like(x, dtype=dtype_of(x))


def cast_tangent(dx: Any, dtype: Any) -> Any:
    """The tangent of ``x.astype(dtype)``: ``dx`` cast, or zeros for an integer cast."""
    if np.dtype(dtype).kind != "c" and is_complex(dx):
        dx = np.real(dx)        # the real part of a complex x: Re(dx)
    return convert(dx if _holds_fractions(dtype) else 0 * dx, dtype)


def array_cotangent(g: Any, obj: Any, dtype: Any = None) -> Any:
    """The cotangent of ``obj`` for ``np.array(obj, dtype, ndmin=...)``.

    ``obj`` is an array, a number or a (nested) list or tuple of them, all of
    one shape; the result stacks them.  Each item gets its slice of ``g``
    (leading axes added by ``ndmin`` dropped), in its own dtype; a cast to
    integers or booleans passes nothing back.
    """
    if dtype is not None and not _holds_fractions(dtype):
        g = 0 * g
    elif dtype is not None and np.dtype(dtype).kind != "c" and is_complex(g):
        g = np.real(g)      # a real result (of complex items: their real parts)
    return _items_of(np.reshape(g, _nested_shape(obj)), obj)


def _nested_shape(obj: Any) -> tuple:
    """The shape of ``np.array(obj)``, read without converting ``obj``."""
    if isinstance(obj, (list, tuple)):
        return (len(obj), *(_nested_shape(obj[0]) if obj else ()))
    return np.shape(obj)


def _items_of(g: Any, obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return type(obj)(_items_of(g[k], item) for k, item in enumerate(obj))
    if not np.iscomplexobj(obj):
        g = np.real(g)
    return convert(g, dtype_of(obj)) if _holds_fractions(dtype_of(obj)) else 0 * g


def block_cotangent(g: Any, arrays: Any) -> Any:
    """The cotangent of ``arrays`` (nested lists of arrays and numbers) for ``np.block``.

    With lists nested ``depth`` deep, the result has ``ndim = max(depth, the items'
    ndim)`` axes, every item promoted to it by leading 1s; the lists at level ``k``
    (0 outermost) join their items along axis ``ndim - depth + k``.  Each item gets
    its block of ``g``, in its own shape.
    """
    depth, ndim = _list_depth(arrays), len(shape_of(g))

    def extent(item: Any, level: int, axis: int) -> int:
        if not isinstance(item, list):
            return ((1,) * ndim + tuple(shape_of(item)))[axis - ndim]
        if ndim - depth + level == axis:
            return sum(extent(e, level + 1, axis) for e in item)
        return extent(item[0], level + 1, axis)

    def split(gi: Any, item: Any, level: int) -> Any:
        if not isinstance(item, list):
            return _items_of(np.reshape(gi, shape_of(item)), item)
        axis, start, out = ndim - depth + level, 0, []
        for e in item:
            n = extent(e, level + 1, axis)
            out.append(split(gi[(slice(None),) * axis + (slice(start, start + n),)], e,
                             level + 1))
            start += n
        return out

    return split(g, arrays, 0)


def _list_depth(obj: Any) -> int:
    """How deep ``np.block``'s lists nest (0 for an array)."""
    return 1 + _list_depth(obj[0]) if isinstance(obj, list) and obj else int(
        isinstance(obj, list))


def array_tangent(dobj: Any, ans: Any, ndmin: int = 0) -> Any:
    """The tangent of ``np.array(obj, ...)`` from the tangents of ``obj``'s items."""
    out = np.array(dobj, ndmin=ndmin)
    if not _holds_fractions(dtype_of(ans)):
        return np.zeros_like(ans)
    if dtype_of(ans).kind != "c" and is_complex(out):
        out = np.real(out)      # a real result (of complex items: their real parts)
    return convert(out, dtype_of(ans))


@reads_structure(1)
def index_cotangent(g: Any, x: Any, index: Any) -> Any:
    """The cotangent of ``x`` for ``x[index]``: zeros with ``g`` added at ``index``.

    Repeated integer indices accumulate (through :func:`index_add`).  A 0-d
    ``g`` stands for itself at every selected element.  For a Python list or
    tuple ``x`` the cotangent is a list of the same length.
    """
    if isinstance(x, (list, tuple)):
        out: list = [_zeros_of(e) for e in x]
        spread = not isinstance(g, (list, tuple)) and np.ndim(g) == 0
        if isinstance(index, slice):
            picked = range(len(x))[index]
            for j, gj in zip(picked, [g] * len(picked) if spread else g, strict=True):
                out[j] = expand_reduced(gj, x[j]) if spread else gj
        else:
            out[index] = expand_reduced(g, x[index]) if spread else g
        # a plain tuple for tuple subclasses: named results (slogdet's) take fields
        return tuple(out) if isinstance(x, tuple) else out
    if type(x) is np.ndarray and type(g) in _PLAIN_VALUES:
        # plain arrays: one fresh zero array filled in place (no copies, no
        # Python layer of np.zeros_like); repeated integer indices accumulate
        out = np.zeros(x.shape, x.dtype)
        if out.dtype.kind != "c" and is_complex(g):
            g = np.real(g)      # (a real x keeps the real part: see runtime.real_cotangent)
        if type(index) is tuple and len(index) == 2 and type(index[0]) is np.ndarray \
                and type(index[1]) is np.ndarray and index[0].dtype.kind in "iu" \
                and index[1].dtype.kind in "iu":
            np.add.at(out, index, g)        # x[rows, cols], the usual "pick one per row"
        elif _has_integer_array(index):
            np.add.at(out, index, g)
        else:
            out[index] = g
        return out
    zeros = np.zeros_like(x)
    if _has_integer_array(index) or not hasattr(type(zeros), "__setitem__"):
        return index_add(zeros, index, g)
    return assign(zeros, index, g)


def _zeros_of(value: Any) -> Any:
    """Zeros shaped like ``value``, item by item for a (possibly ragged) list or tuple."""
    if isinstance(value, (list, tuple)):
        return type(value)(_zeros_of(v) for v in value)
    return np.zeros_like(value)


def _take_indices(indices: Any, n: int, mode: str) -> Any:
    if mode == "wrap":
        return np.mod(indices, n)
    if mode == "clip":
        return np.clip(indices, 0, n - 1)
    return indices


def take_cotangent(g: Any, a: Any, indices: Any, axis: Any = None, mode: str = "raise") -> Any:
    """The cotangent of ``a`` for ``np.take(a, indices, axis, mode=mode)``."""
    shape = np.shape(a)
    if axis is None:
        idx = _take_indices(indices, math.prod(shape), mode)
        return np.reshape(index_cotangent(g, np.ravel(a), idx), shape)
    axis = axis % len(shape)
    idx = _take_indices(indices, shape[axis], mode)
    return index_cotangent(g, a, (slice(None),) * axis + (idx,))


def take_along_axis_cotangent(g: Any, arr: Any, indices: Any, axis: Any = -1) -> Any:
    """The cotangent of ``arr`` for ``np.take_along_axis(arr, indices, axis)``."""
    if axis is None:
        return np.reshape(index_cotangent(g, np.ravel(arr), indices), np.shape(arr))
    shape = np.shape(arr)
    nd = len(shape)
    axis = axis % nd
    index = tuple(
        indices if i == axis else np.reshape(np.arange(shape[i]), (-1,) + (1,) * (nd - 1 - i))
        for i in range(nd)
    )
    return index_cotangent(g, arr, index)


def sort_cotangent(g: Any, a: Any, axis: Any = -1) -> Any:
    """The cotangent of ``a`` for ``np.sort(a, axis)``: ``g`` put back in the unsorted order."""
    order = np.argsort(a, axis=axis, kind="stable")
    if axis is None:
        return np.reshape(np.take(g, np.argsort(order, kind="stable")), np.shape(a))
    return np.take_along_axis(g, np.argsort(order, axis=axis, kind="stable"), axis=axis)


def sort_tangent(dx: Any, a: Any, axis: Any = -1) -> Any:
    """The tangent of ``np.sort(a, axis)``: ``dx`` in the sorted order of ``a``."""
    order = np.argsort(a, axis=axis, kind="stable")
    if axis is None:
        return np.take(dx, order)
    return np.take_along_axis(dx, order, axis=axis)


# ---------------------------------------------------------------------------
# Products


def matmul_left_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``a`` for ``a @ b`` (1-D operands and broadcasting handled)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray:
        # plain arrays: the common cases without NumPy's Python-level wrappers
        na, nb = a.ndim, b.ndim
        if na == 2 and nb == 2:
            return g @ b.T
        if na == 2 and nb == 1:
            return np.multiply.outer(g, b)
        if na == 1 and nb == 1:
            return g * b
    na, nb = np.ndim(a), np.ndim(b)
    if na == 2 and nb == 2:  # the common cases first, without reshaping
        # (a contraction, not a product with a transpose: compilers such as XLA then
        # contract in place instead of copying ``b.T`` on every call)
        return np.tensordot(g, b, axes=((1,), (1,)))
    if na == 2 and nb == 1:
        return np.outer(g, b)
    if na == 1 and nb == 1:
        return g * b
    if np.ndim(b) == 1:
        g = np.expand_dims(g, -1)
        b = np.expand_dims(b, -1)
    if np.ndim(a) == 1:
        g = np.expand_dims(g, -2)
    ga = np.matmul(g, mT(b))
    if np.ndim(a) == 1:
        ga = np.squeeze(ga, -2)
    return unbroadcast(ga, a)


def matmul_right_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``b`` for ``a @ b`` (1-D operands and broadcasting handled)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray:
        na, nb = a.ndim, b.ndim
        if na == 2 and (nb == 1 or nb == 2):
            return a.T @ g
        if na == 1 and nb == 1:
            return g * a
    na, nb = np.ndim(a), np.ndim(b)
    if na == 2 and nb in (1, 2):
        return np.tensordot(a, g, axes=((0,), (0,)))     # ``a.T @ g``, as a contraction
    if na == 1 and nb == 1:
        return g * a
    if np.ndim(b) == 1:
        g = np.expand_dims(g, -1)
    if np.ndim(a) == 1:
        g = np.expand_dims(g, -2)
        a = np.expand_dims(a, -2)
    gb = np.matmul(mT(a), g)
    if np.ndim(b) == 1:
        gb = np.squeeze(gb, -1)
    return unbroadcast(gb, b)


def dot_left_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``a`` for ``np.dot(a, b)`` (any ranks)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0:
        return np.sum(g * b)
    if nb == 0:
        return g * b
    if nb == 1:
        return np.tensordot(g, b, axes=0)
    b_axes = list(range(nb - 2)) + [nb - 1]
    return np.tensordot(g, b, axes=(list(range(na - 1, na - 1 + nb - 1)), b_axes))


def dot_right_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``b`` for ``np.dot(a, b)`` (any ranks)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0:
        return g * a
    if nb == 0:
        return np.sum(g * a)
    gb = np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1))))
    return gb if nb == 1 else np.moveaxis(gb, 0, -2)


def _tensordot_axes(axes: Any, na: int, nb: int) -> tuple[list, list]:
    """``np.tensordot``'s ``axes`` as two lists of non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        return list(range(na - int(axes), na)), list(range(int(axes)))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [int(i) % na for i in ax_a], [int(i) % nb for i in ax_b]


def tensordot_left_cotangent(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The cotangent of ``a`` for ``np.tensordot(a, b, axes)``."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    ga = np.tensordot(g, b, axes=(list(range(len(free_a), len(free_a) + len(free_b))), free_b))
    source = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
    return np.transpose(ga, inverse_permutation(source, na))


def tensordot_right_cotangent(g: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The cotangent of ``b`` for ``np.tensordot(a, b, axes)``."""
    na, nb = np.ndim(a), np.ndim(b)
    ax_a, ax_b = _tensordot_axes(axes, na, nb)
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    gb = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    source = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
    return np.transpose(gb, inverse_permutation(source, nb))


def inner_left_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``a`` for ``np.inner(a, b)`` (a scalar operand multiplies)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    return tensordot_left_cotangent(g, a, b, ([-1], [-1]))


def inner_right_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``b`` for ``np.inner(a, b)`` (a scalar operand multiplies)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    return tensordot_right_cotangent(g, a, b, ([-1], [-1]))


def _einsum_terms(subscripts: str, operands: tuple) -> tuple[list[str], str]:
    """Explicit input terms and output term of an einsum, with ``...`` spelled as letters."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum {subscripts!r}: {len(operands)} operands for {len(terms)} terms")
    if not arrow:
        letters = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    spare = [c for c in string.ascii_letters if c not in spec]
    widths = [np.ndim(op) - (len(t) - 3) for t, op in zip(terms, operands, strict=True)
              if "..." in t]
    ell = "".join(spare[: max(widths, default=0)])
    terms = [t.replace("...", ell[len(ell) - (np.ndim(op) - (len(t) - 3)):]) if "..." in t else t
             for t, op in zip(terms, operands, strict=True)]
    return terms, output.replace("...", ell)


def _sublist_letters(sublist: Any) -> str:
    """An einsum sublist (``[0, 1]``, ``[Ellipsis, 2]``) as subscript letters.

    NumPy spells index ``k`` as ``A``-``Z`` then ``a``-``z``, so that implicit
    outputs, sorted by letter, are sorted by index.
    """
    letters = []
    for k in sublist:
        if k is Ellipsis:
            letters.append("...")
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 0 <= k < 52:
            letters.append(string.ascii_uppercase[k] if k < 26 else string.ascii_lowercase[k - 26])
        else:
            raise ValueError(f"einsum: subscript {k!r} is not an integer in [0, 52) or Ellipsis")
    return "".join(letters)


def einsum_operand(args: tuple, position: int) -> tuple[str, tuple, int]:
    """``(subscripts, operands, k)`` for argument ``position`` of an ``np.einsum`` call.

    Both of NumPy's forms: ``einsum("ij,jk->ik", a, b)`` (operand ``k`` is
    argument ``k + 1``) and ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (operand
    ``k`` is argument ``2 k``; the output sublist is optional).  A position
    holding subscripts is not an operand: asking for its cotangent is an error.
    """
    if isinstance(args[0], str):
        if position == 0:
            raise TypeError("einsum: the subscripts string has no derivative")
        return args[0], tuple(args[1:]), position - 1
    if position % 2:
        raise TypeError(f"einsum: argument {position} is a subscript list, not an operand")
    operands = tuple(args[0::2][: len(args) // 2])
    terms = [_sublist_letters(s) for s in args[1::2][: len(operands)]]
    spec = ",".join(terms)
    if len(args) % 2:  # the output sublist
        spec += "->" + _sublist_letters(args[-1])
    return spec, operands, position // 2


def einsum_cotangent(g: Any, subscripts: str, operands: tuple, i: int) -> Any:
    """The cotangent of operand ``i`` of ``np.einsum(subscripts, *operands)``.

    It is another einsum: the output's cotangent contracted with the other
    operands onto operand ``i``'s indices.  Indices only operand ``i`` has
    are broadcast with a ones vector, a repeated index (a diagonal) is
    rebuilt with an identity matrix, and broadcast ``...`` axes are summed.
    """
    terms, output = _einsum_terms(subscripts, operands)
    target = terms[i]
    x = operands[i]
    sizes = {}
    for t, op in zip(terms, operands, strict=True):
        for c, n in zip(t, np.shape(op), strict=True):
            sizes[c] = max(sizes.get(c, 1), n)
    others = [t for j, t in enumerate(terms) if j != i]
    arrays = [op for j, op in enumerate(operands) if j != i]
    present = set(output) | set("".join(others))
    spare = [c for c in string.ascii_letters if c not in sizes]
    extra_terms, extra_arrays = [], []
    out_term = ""
    for c in target:
        if c in out_term:  # a repeated index: a fresh letter tied to c by an identity
            fresh = spare.pop()
            extra_terms.append(c + fresh)
            extra_arrays.append(np.eye(sizes[c], dtype=bool))
            out_term += fresh
            continue
        if c not in present:  # an index summed over operand i alone
            extra_terms.append(c)
            extra_arrays.append(np.ones(sizes[c], dtype=bool))
            present.add(c)
        out_term += c
    spec = ",".join([output, *others, *extra_terms]) + "->" + out_term
    gx = np.einsum(spec, g, *arrays, *extra_arrays)
    return unbroadcast_to(gx, np.shape(x))


def _kron_shapes(a: Any, b: Any) -> tuple[tuple, tuple]:
    sa, sb = np.shape(a), np.shape(b)
    d = max(len(sa), len(sb))
    return (1,) * (d - len(sa)) + sa, (1,) * (d - len(sb)) + sb


def kron_left_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``a`` for ``np.kron(a, b)``."""
    sa, sb = _kron_shapes(a, b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb, strict=True) for n in pair])
    bb = np.reshape(b, [n for pair in zip((1,) * len(sb), sb, strict=True) for n in pair])
    summed = np.sum(blocks * bb, axis=tuple(range(1, 2 * len(sa), 2)))
    return np.reshape(summed, np.shape(a))


def kron_right_cotangent(g: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``b`` for ``np.kron(a, b)``."""
    sa, sb = _kron_shapes(a, b)
    blocks = np.reshape(g, [n for pair in zip(sa, sb, strict=True) for n in pair])
    aa = np.reshape(a, [n for pair in zip(sa, (1,) * len(sa), strict=True) for n in pair])
    summed = np.sum(blocks * aa, axis=tuple(range(0, 2 * len(sa), 2)))
    return np.reshape(summed, np.shape(b))


# ---------------------------------------------------------------------------
# Norms


def _safe_divide(x: Any, n: Any) -> Any:
    """``x / n`` with 0 where ``n`` is 0 (the norm's subgradient at the origin)."""
    return x / np.where(n == 0, 1, n)


def _vector_norm_partials(x: Any, n: Any, ord: Any, axes: tuple) -> Any:
    if ord is None or ord == 2:
        return _safe_divide(x, n)
    if ord == 1:
        return np.sign(x)
    if ord == 0:
        return np.zeros_like(x)
    if ord in (np.inf, -np.inf):
        mag = np.abs(x)
        hit = np.where(mag == n, np.ones_like(x), np.zeros_like(x))
        return np.sign(x) * hit / np.maximum(np.sum(hit, axis=axes, keepdims=True), 1)
    return np.sign(x) * _safe_divide(np.abs(x), n) ** (ord - 1)


def _matrix_norm_partials(x: Any, n: Any, ord: Any) -> Any:
    """Partials of a matrix norm over the last two axes of ``x`` (``n`` broadcast to ``x``)."""
    if ord in (None, "fro"):
        return _safe_divide(x, n)
    if ord in ("nuc", 2, -2):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        if ord == "nuc":
            return np.matmul(u, vh)
        k = 0 if ord == 2 else np.shape(s)[-1] - 1
        return np.matmul(u[..., :, k:k + 1], vh[..., k:k + 1, :])
    if ord in (1, -1, np.inf, -np.inf):
        # 1-norms pick the largest column sum (sum over rows), inf-norms the largest row sum
        summed, across = (-2, -1) if ord in (1, -1) else (-1, -2)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        extreme = np.max if ord > 0 else np.min
        hit = np.where(sums == extreme(sums, axis=across, keepdims=True), np.ones_like(sums),
                       np.zeros_like(sums))
        return np.sign(x) * hit / np.sum(hit, axis=across, keepdims=True)
    raise ValueError(f"invalid norm order {ord!r} for matrices")


def norm_partials(x: Any, ans: Any, ord: Any = None, axis: Any = None,
                  keepdims: bool = False) -> Any:
    """The partial derivatives of ``np.linalg.norm(x, ord, axis, keepdims)`` w.r.t. ``x``.

    Vector norms (``ord`` None/2/1/inf/-inf/0/p) and matrix norms (``'fro'``,
    ``'nuc'``, 1, -1, 2, -2, inf, -inf).  At the zero vector the 2-norm's
    gradient is 0, not NaN.
    """
    nd = np.ndim(x)
    n = expand_reduced(ans, x, axis, keepdims)
    if axis is None:
        if ord is None or nd == 1:
            return _vector_norm_partials(x, n, ord, tuple(range(nd)))
        axis = (0, 1)
    if isinstance(axis, (int, np.integer)) or len(axis) == 1:
        ax = axis if isinstance(axis, (int, np.integer)) else axis[0]
        return _vector_norm_partials(x, n, ord, (int(ax) % nd,))
    r, c = (int(a) % nd for a in axis)
    moved = np.moveaxis(x, (r, c), (-2, -1))
    partials = _matrix_norm_partials(moved, np.moveaxis(n, (r, c), (-2, -1)), ord)
    return np.moveaxis(partials, (-2, -1), (r, c))


# ---------------------------------------------------------------------------
# Linear systems and decompositions


def solve_right_cotangent(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``b`` for ``x = np.linalg.solve(a, b)``: ``solve(a.T, g)``."""
    if np.ndim(b) == 1:
        return unbroadcast(np.squeeze(np.linalg.solve(mT(a), np.expand_dims(g, -1)), -1), b)
    return unbroadcast(np.linalg.solve(mT(a), g), b)


def solve_left_cotangent(g: Any, ans: Any, a: Any, b: Any) -> Any:
    """The cotangent of ``a`` for ``x = np.linalg.solve(a, b)``: ``-solve(a.T, g) @ x.T``."""
    if np.ndim(b) == 1:
        gb = np.linalg.solve(mT(a), np.expand_dims(g, -1))
        return unbroadcast(-gb * np.expand_dims(ans, -2), a)
    return unbroadcast(-np.matmul(np.linalg.solve(mT(a), g), mT(ans)), a)


def solve_left_tangent(da: Any, ans: Any, a: Any, b: Any) -> Any:
    """The tangent of ``x = np.linalg.solve(a, b)`` for a tangent ``da`` of ``a``."""
    if np.ndim(b) == 1:
        return -np.squeeze(np.linalg.solve(a, np.matmul(da, np.expand_dims(ans, -1))), -1)
    return -np.linalg.solve(a, np.matmul(da, ans))


def _eye_like(x: Any) -> Any:
    """A boolean identity the size of ``x``'s last axis."""
    return np.eye(np.shape(x)[-1], dtype=bool)


def _diag_matrix(v: Any) -> Any:
    """The (stack of) diagonal matrices with ``v`` on the diagonal."""
    return np.expand_dims(v, -1) * _eye_like(v)


def _from_triangle(s: Any, lower: bool = True) -> Any:
    """Fold a gradient ``s`` for symmetric perturbations onto the triangle a routine reads.

    ``cholesky`` and ``eigh`` read only one triangle of their input; an
    element off the diagonal stands for two entries of the symmetric matrix.
    """
    both = s + mT(s)
    tri = np.tril(both) if lower else np.triu(both)
    return tri - s * _eye_like(s)


def _symmetric_from_triangle(x: Any, lower: bool = True) -> Any:
    """The symmetric matrix a routine reading only ``x``'s lower (upper) triangle sees."""
    if lower:
        return np.tril(x) + mT(np.tril(x, -1))
    return np.triu(x) + mT(np.triu(x, 1))


def _phi(x: Any) -> Any:
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - x * _eye_like(x) / 2


def _solve_right(x: Any, m: Any) -> Any:
    """``x @ inv(m)``, by a solve."""
    return mT(np.linalg.solve(mT(m), mT(x)))


def cholesky_cotangent(g: Any, ans: Any, a: Any, upper: bool = False) -> Any:
    """The cotangent of ``a`` for ``np.linalg.cholesky(a, upper=upper)``.

    With ``L = cholesky(a)`` and ``P = phi(L.T @ gL)``, the gradient for
    symmetric perturbations is ``L^-T P L^-1``; NumPy reads one triangle of
    ``a``, so the result is folded onto that triangle.
    """
    low = mT(ans) if upper else ans
    gl = mT(g) if upper else g
    p = _phi(np.matmul(mT(low), gl))
    s = _solve_right(np.linalg.solve(mT(low), p), low)
    return _from_triangle(s, lower=not upper)


def cholesky_tangent(da: Any, ans: Any, a: Any, upper: bool = False) -> Any:
    """The tangent of ``np.linalg.cholesky(a, upper=upper)``: ``L phi(L^-1 dA L^-T)``."""
    low = mT(ans) if upper else ans
    d = _symmetric_from_triangle(da, lower=not upper)
    dl = np.matmul(low, _phi(_solve_right(np.linalg.solve(low, d), mT(low))))
    return mT(dl) if upper else dl


def _gap_inverse(w: Any) -> Any:
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    eye = _eye_like(w)
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return np.where(eye, 0, 1 / np.where(eye, 1, gaps))


def eigh_cotangent(g: Any, ans: Any, a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """The cotangent of ``a`` for ``w, v = np.linalg.eigh(a)`` (distinct eigenvalues).

    ``V (diag(gw) + F * (V.T @ gV)) V.T`` with ``F = 1 / (w_j - w_i)``,
    folded onto the triangle ``eigh`` reads.
    """
    w, v = ans[0], ans[1]
    gw, gv = g[0], g[1]
    inner = np.zeros_like(v) if gv is None else _gap_inverse(w) * np.matmul(mT(v), gv)
    if gw is not None:
        inner = inner + _diag_matrix(gw)
    s = np.matmul(np.matmul(v, inner), mT(v))
    return _from_triangle(s, lower=UPLO.upper() == "L")


def eigh_tangent(da: Any, ans: Any, a: Any, UPLO: str = "L") -> tuple:  # noqa: N803
    """The tangents ``(dw, dv)`` of ``np.linalg.eigh(a)`` for a tangent ``da`` of ``a``."""
    w, v = ans[0], ans[1]
    d = _symmetric_from_triangle(da, lower=UPLO.upper() == "L")
    m = np.matmul(np.matmul(mT(v), d), v)
    return np.diagonal(m, axis1=-2, axis2=-1), np.matmul(v, _gap_inverse(w) * m)


def _thin_svd(ans: Any, a: Any) -> tuple:
    """``U, s, Vh`` cut to the ``k = min(m, n)`` singular triplets."""
    u, s, vh = ans[0], ans[1], ans[2]
    k = np.shape(s)[-1]
    return u[..., :, :k], s, vh[..., :k, :], k


def svd_cotangent(g: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True,
                  hermitian: bool = False) -> Any:
    """The cotangent of ``a`` for ``np.linalg.svd(a)`` (distinct nonzero singular values).

    With ``full_matrices=True`` on a non-square ``a`` only the first
    ``min(m, n)`` columns of ``U`` (rows of ``Vh``) carry a derivative (the
    others are not unique); their cotangents are ignored.
    """
    if not compute_uv:
        gs = g[0] if isinstance(g, tuple) else g  # the tape passes (g, None, None)
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return np.matmul(u * np.expand_dims(gs, -2), vh)
    u, s, vh, k = _thin_svd(ans, a)
    m, n = np.shape(a)[-2:]
    gu = None if g[0] is None else g[0][..., :, :k]
    gs = g[1]
    gvh = None if g[2] is None else g[2][..., :k, :]
    v = mT(vh)
    f = _gap_inverse(s * s)
    inner = np.zeros_like(f) if gs is None else _diag_matrix(gs)
    extra = 0
    if gu is not None:
        ug = np.matmul(mT(u), gu)
        inner = inner + f * (ug - mT(ug)) * np.expand_dims(s, -2)
        if m > k:
            extra = extra + np.matmul(gu - np.matmul(u, ug), mT(v) / np.expand_dims(s, -1))
    if gvh is not None:
        gv = mT(gvh)
        vg = np.matmul(mT(v), gv)
        inner = inner + np.expand_dims(s, -1) * (f * (vg - mT(vg)))
        if n > k:
            extra = extra + np.matmul(u / np.expand_dims(s, -2), mT(gv - np.matmul(v, vg)))
    return np.matmul(np.matmul(u, inner), vh) + extra


def svd_tangent(da: Any, ans: Any, a: Any, full_matrices: bool = True, compute_uv: bool = True,
                hermitian: bool = False) -> Any:
    """The tangents ``(dU, ds, dVh)`` of ``np.linalg.svd(a, full_matrices=False)``.

    With ``compute_uv=False`` only ``ds``.  Requires the thin factors
    (``full_matrices=False`` or a square ``a``).
    """
    if not compute_uv:
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return np.diagonal(np.matmul(np.matmul(mT(u), da), mT(vh)), axis1=-2, axis2=-1)
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError("svd tangents need full_matrices=False for non-square matrices")
    u, s, vh, k = _thin_svd(ans, a)
    v = mT(vh)
    dp = np.matmul(np.matmul(mT(u), da), v)
    f = _gap_inverse(s * s)
    srow, scol = np.expand_dims(s, -2), np.expand_dims(s, -1)
    du = np.matmul(u, f * (dp * srow + scol * mT(dp)))
    dv = np.matmul(v, f * (scol * dp + mT(dp) * srow))
    if m > k:
        dav = np.matmul(da, v)
        du = du + (dav - np.matmul(u, np.matmul(mT(u), dav))) / srow
    if n > k:
        dau = np.matmul(mT(da), u)
        dv = dv + (dau - np.matmul(v, np.matmul(mT(v), dau))) / srow
    return du, np.diagonal(dp, axis1=-2, axis2=-1), mT(dv)


def qr_cotangent(g: Any, ans: Any, a: Any, mode: str = "reduced") -> Any:
    """The cotangent of ``a`` for ``q, r = np.linalg.qr(a)`` (reduced, ``m >= n``, full rank).

    ``(gQ + Q N) R^-T`` with ``M = gR R.T - Q.T gQ`` and ``N`` its upper
    triangle plus the transposed strictly lower triangle.
    """
    if mode == "r":  # R alone: its cotangent with Q's zero
        ans, g, mode = np.linalg.qr(a), (None, g), "reduced"
    if mode != "reduced":
        raise NotImplementedError(f"no derivative for np.linalg.qr with mode={mode!r}")
    q, r = ans[0], ans[1]
    gq, gr = g[0], g[1]
    m = np.zeros_like(r) if gr is None else np.matmul(gr, mT(r))
    if gq is not None:
        m = m - np.matmul(mT(q), gq)
    n = np.triu(m) + np.tril(mT(m), -1)
    total = np.matmul(q, n) if gq is None else gq + np.matmul(q, n)
    return _solve_right(total, mT(r))


def qr_tangent(da: Any, ans: Any, a: Any, mode: str = "reduced") -> tuple:
    """The tangents ``(dQ, dR)`` of ``np.linalg.qr(a)`` (reduced, ``m >= n``, full rank);
    ``dR`` alone for mode ``"r"``."""
    if mode == "r":
        return qr_tangent(da, np.linalg.qr(a), a)[1]
    if mode != "reduced":
        raise NotImplementedError(f"no derivative for np.linalg.qr with mode={mode!r}")
    q, r = ans[0], ans[1]
    c = _solve_right(np.matmul(mT(q), da), r)
    low = np.tril(c, -1)
    dr = np.matmul(c - low + mT(low), r)
    dq = _solve_right(da - np.matmul(q, dr), r)
    return dq, dr


def pinv_cotangent(g: Any, ans: Any, a: Any) -> Any:
    """The cotangent of ``a`` for ``p = np.linalg.pinv(a)`` (constant rank).

    ``-p.T g p.T + (I - a p) g.T p p.T + p.T p g.T (I - p a)``, the adjoint
    of Golub and Pereyra's derivative of the pseudo-inverse.
    """
    p = ans
    pt = mT(p)
    left = np.eye(np.shape(a)[-2], dtype=bool) - np.matmul(a, p)   # I - A A+
    right = np.eye(np.shape(a)[-1], dtype=bool) - np.matmul(p, a)  # I - A+ A
    return (-np.matmul(np.matmul(pt, g), pt)
            + np.matmul(np.matmul(left, mT(g)), np.matmul(p, pt))
            + np.matmul(np.matmul(pt, p), np.matmul(mT(g), right)))


def pinv_tangent(da: Any, ans: Any, a: Any) -> Any:
    """The tangent of ``np.linalg.pinv(a)`` for a tangent ``da`` of ``a`` (constant rank)."""
    p = ans
    pt = mT(p)
    left = np.eye(np.shape(a)[-2], dtype=bool) - np.matmul(a, p)
    right = np.eye(np.shape(a)[-1], dtype=bool) - np.matmul(p, a)
    return (-np.matmul(np.matmul(p, da), p)
            + np.matmul(np.matmul(p, pt), np.matmul(mT(da), left))
            + np.matmul(np.matmul(right, mT(da)), np.matmul(pt, p)))


def _powers(x: Any, count: int) -> list:
    """``[None, x, x @ x, ...]``: the first ``count`` powers of ``x`` (None is the identity)."""
    out: list = [None]
    for _ in range(1, count):
        out.append(x if out[-1] is None else np.matmul(out[-1], x))
    return out


def _power_sum(left: list, middle: Any, right: list, p: int) -> Any:
    """``sum_k left[k] @ middle @ right[p - 1 - k]`` with None as the identity."""
    total = None
    for k in range(p):
        term = middle
        if left[k] is not None:
            term = np.matmul(left[k], term)
        if right[p - 1 - k] is not None:
            term = np.matmul(term, right[p - 1 - k])
        total = term if total is None else total + term
    return total


def matrix_power_cotangent(g: Any, ans: Any, a: Any, n: int) -> Any:
    """The cotangent of ``a`` for ``np.linalg.matrix_power(a, n)``.

    ``sum_k (A.T)^k g (A.T)^(n-1-k)``; a negative ``n`` goes through the
    inverse.
    """
    if n == 0:
        return np.zeros_like(a)
    base = a if n > 0 else np.linalg.inv(a)
    powers = _powers(mT(base), abs(n))
    gb = _power_sum(powers, g, powers, abs(n))
    if n > 0:
        return gb
    return -np.matmul(np.matmul(mT(base), gb), mT(base))


def matrix_power_tangent(da: Any, ans: Any, a: Any, n: int) -> Any:
    """The tangent of ``np.linalg.matrix_power(a, n)``: ``sum_k A^k dA A^(n-1-k)``."""
    if n == 0:
        return np.zeros_like(a)
    base = a if n > 0 else np.linalg.inv(a)
    d = da if n > 0 else -np.matmul(np.matmul(base, da), base)
    powers = _powers(base, abs(n))
    return _power_sum(powers, d, powers, abs(n))


def _unique_groups(ar: Any, extra_outputs: bool, axis: Any) -> tuple:
    if extra_outputs or axis is not None:
        raise NotImplementedError(
            "srcgrad differentiates np.unique(x) for its values only (no return_index/"
            "return_inverse/return_counts, no axis); call np.unique on x without them, or "
            "on a detached copy for the indices"
        )
    _, inverse, counts = np.unique(ar, return_inverse=True, return_counts=True)
    return np.reshape(inverse, -1), counts


def unique_cotangent(g: Any, ar: Any, extra_outputs: bool = False, axis: Any = None) -> Any:
    """The cotangent of ``ar`` for ``np.unique(ar)``: each copy of a value gets an equal
    share of that value's cotangent."""
    inverse, counts = _unique_groups(ar, extra_outputs, axis)
    share = np.divide(g[inverse], counts[inverse], dtype=dtype_of(g))
    return np.reshape(share, np.shape(ar))


def unique_tangent(dx: Any, ar: Any, extra_outputs: bool = False, axis: Any = None) -> Any:
    """The tangent of ``np.unique(ar)``: the mean tangent of each value's copies."""
    inverse, counts = _unique_groups(ar, extra_outputs, axis)
    sums = np.bincount(inverse, weights=np.reshape(dx, -1), minlength=len(counts))
    return np.divide(sums, counts, dtype=dtype_of(dx))
