"""Rules: values with indices along a dimension (PyTorch's ``max(dim)``/``min(dim)``,
``sort``) and ``index_add``.

Unlike ``np.max(x, axis)``, whose gradient is shared by tied maxima, the
gradient of ``max_with_indices`` flows to the one element whose index is
returned, as PyTorch's ``MaxBackward0`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .registry import defjvp, defvjp

__all__ = ["max_with_indices", "min_with_indices", "sort_with_indices", "index_add"]


def max_with_indices(x: Any, axis: int, keepdims: bool = False) -> tuple:
    """``(values, indices)`` of the maxima of ``x`` along ``axis``."""
    return _pick(x, np.argmax(x, axis=axis, keepdims=True), axis, keepdims)


def min_with_indices(x: Any, axis: int, keepdims: bool = False) -> tuple:
    """``(values, indices)`` of the minima of ``x`` along ``axis``."""
    return _pick(x, np.argmin(x, axis=axis, keepdims=True), axis, keepdims)


def _pick(x: Any, idx: np.ndarray, axis: int, keepdims: bool) -> tuple:
    values = np.take_along_axis(x, idx, axis=axis)
    if not keepdims:
        values = np.squeeze(values, axis=axis)
        idx = np.squeeze(idx, axis=axis)
    return values, idx


def scatter_selected(g: Any, x: Any, indices: Any, axis: int, keepdims: bool) -> Any:
    """The cotangent of ``x`` when ``g`` belongs to the elements picked by ``indices``."""
    if not keepdims:
        g = np.expand_dims(g, axis)
        indices = np.expand_dims(indices, axis)
    positions = np.reshape(np.arange(np.shape(x)[axis]),
                           [-1 if d == axis % np.ndim(x) else 1 for d in range(np.ndim(x))])
    return np.where(positions == indices, g, 0.0 * g)


defvjp(max_with_indices,
       lambda g, ans, x, axis, keepdims=False: scatter_selected(g[0], x, ans[1], axis, keepdims),
       node="MaxBackward0", outputs=2)
defjvp(max_with_indices,
       lambda dx, ans, x, axis, keepdims=False: (_pick(dx, _expand(ans[1], axis, keepdims),
                                                       axis, keepdims)[0], None))
defvjp(min_with_indices,
       lambda g, ans, x, axis, keepdims=False: scatter_selected(g[0], x, ans[1], axis, keepdims),
       node="MinBackward0", outputs=2)
defjvp(min_with_indices,
       lambda dx, ans, x, axis, keepdims=False: (_pick(dx, _expand(ans[1], axis, keepdims),
                                                       axis, keepdims)[0], None))


def _expand(indices: Any, axis: int, keepdims: bool) -> Any:
    return indices if keepdims else np.expand_dims(indices, axis)


def sort_with_indices(x: Any, axis: int = -1, descending: bool = False) -> tuple:
    """``(values, indices)`` of ``x`` sorted along ``axis`` (ties keep their order)."""
    order = np.argsort(-x if descending else x, axis=axis, kind="stable")
    return np.take_along_axis(x, order, axis=axis), order


def _unsort(g: Any, order: Any, axis: int) -> Any:
    """``g`` (in sorted order) put back where its elements came from."""
    return np.take_along_axis(g, np.argsort(order, axis=axis, kind="stable"), axis=axis)


defvjp(sort_with_indices,
       lambda g, ans, x, axis=-1, descending=False: _unsort(g[0], ans[1], axis),
       node="SortBackward0", outputs=2)
defjvp(sort_with_indices,
       lambda dx, ans, x, axis=-1, descending=False:
       (np.take_along_axis(dx, ans[1], axis=axis), None))


def index_add(x: Any, axis: int, index: Any, source: Any, alpha: Any = 1) -> Any:
    """``x`` with ``alpha * source``'s slices added at ``index`` along ``axis`` (repeated
    indices add up), as PyTorch's ``index_add``.  Written with NumPy functions that
    dispatch, so it also runs on array-like objects."""
    n = np.shape(x)[axis]
    hits = np.arange(n)[:, None] == np.reshape(index, (1, -1))  # (n, len(index))
    added = np.tensordot(hits, np.moveaxis(source, axis, 0), axes=1)
    return x + np.moveaxis(added, 0, axis) * alpha


defvjp(index_add,
       lambda g, ans, x, axis, index, source, alpha=1: g,
       lambda g, ans, x, axis, index, source, alpha=1: np.take(g, index, axis) * alpha,
       argnums=(0, 3), node="IndexAddBackward0")
defjvp(index_add,
       lambda dx, ans, x, axis, index, source, alpha=1: dx,
       lambda dx, ans, x, axis, index, source, alpha=1:
       index_add(np.zeros_like(ans), axis, index, dx, alpha),
       argnums=(0, 3))
