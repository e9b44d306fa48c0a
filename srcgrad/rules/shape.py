"""Rules: shape changes, joining and splitting, indexing.

Most of these primitives only move elements around, so their VJPs move the
cotangent back (reshape back, transpose by the inverse permutation, cut a
concatenation into pieces, scatter an indexing cotangent) and their JVPs
apply the primitive itself to the tangent.

Three primitives have no NumPy function of their own and are defined here:
:func:`setitem` (index assignment, out of place), :func:`astype`
(``ndarray.astype``) and :func:`in_place` (what an augmented assignment such
as ``a += b`` leaves in ``a``: NumPy writes into the array, keeping its dtype
and shape).

``np.split`` and ``np.array_split`` return a list whose length depends on
the call, so their rules are registered with one output that is a
*sequence*: the VJP receives one cotangent per piece (``None`` or zeros for
unused pieces) and the JVP returns the list of the pieces' tangents.  The
same holds for ``hsplit``/``vsplit``/``dsplit``, ``unstack``, ``meshgrid``
and ``broadcast_arrays``.

Functions creating arrays from shapes (``zeros``, ``eye``, ``arange``...)
and returning indices (``argwhere``, ``searchsorted``, ``unique``...) are
declared constant; ``np.full`` is differentiable in its fill value.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..runtime import is_complex, real_cotangent, unbroadcast, zeros_like
from ._extra_helpers import (
    append_cotangent,
    choose_cotangent,
    column_stack_cotangents,
    delete_cotangent,
    dstack_cotangents,
    flat_positions_cotangent,
    insert_cotangent,
    meshgrid_cotangent,
    partition_order,
    pieces_cotangent,
    resize_cotangent,
    rollaxis_destination,
    select_cotangents,
    select_which,
    zeros_but,
)
from ._helpers import broadcast_like, items_cotangent
from ._shape_helpers import (
    array_cotangent,
    array_tangent,
    assign,
    assigned_cotangent,
    block_cotangent,
    cast_cotangent,
    cast_tangent,
    concat_cotangents,
    convert,
    dtype_of,
    embed_diagonal,
    holds_fractions,
    hstack_cotangents,
    index_cotangent,
    inverse_permutation,
    pad_tangent,
    sort_cotangent,
    sort_tangent,
    split_cotangent,
    take_along_axis_cotangent,
    take_cotangent,
    unique_cotangent,
    unique_tangent,
    unpad,
    unrepeat,
    untile,
    vstack_cotangents,
    with_operand,
)
from ._shape_helpers import embed_diagonal as _embed_diagonal
from .registry import alias, defjvp, defvjp, nondifferentiable

__all__ = ["setitem", "astype", "in_place", "in_place_tangent", "index_node_name"]


# --- primitives without a NumPy function of their own ---------------------------------


def setitem(x: Any, index: Any, value: Any) -> Any:
    """``x`` with ``x[index] = value``, as a new array: index assignment out of place.

    Differentiable in ``x`` (its cotangent is zero at ``index``) and in
    ``value`` (the cotangent gathered at ``index``, summed to ``value``'s
    shape).  Repeated integer indices keep NumPy's value (one write per
    element, the last): the writes it drops get no cotangent.
    """
    return assign(x, index, value)


def astype(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype``: ``ndarray.astype`` as a function.

    The cotangent is cast back to ``x``'s dtype.
    """
    return convert(x, dtype)


# the method each augmented assignment calls when the left operand has it
IN_PLACE_METHODS = {"+=": "__iadd__", "-=": "__isub__", "*=": "__imul__", "/=": "__itruediv__",
                    "//=": "__ifloordiv__", "%=": "__imod__", "**=": "__ipow__",
                    "@=": "__imatmul__", "&=": "__iand__", "|=": "__ior__", "^=": "__ixor__",
                    "<<=": "__ilshift__", ">>=": "__irshift__"}
_ndarray = np.ndarray


def in_place(new: Any, old: Any, op: str) -> Any:
    """What ``old op= value`` leaves bound to the name, given ``new = old op value``.

    Python rebinds the name to ``new`` unless ``old`` updates itself (``op``'s
    method, such as ``__iadd__``): a NumPy array keeps its dtype and shape, so
    ``new`` becomes an array like ``old``, cast with NumPy's ``same_kind`` rule
    (a float32 array stays float32 after ``+=`` of float64 values; an integer
    array refuses ``/=``; a sum broadcast wider than ``old`` raises
    ``ValueError``).  Numbers, NumPy scalars and arrays without in-place
    operators (tuples, immutable arrays) get ``new``.  The derivative is the
    identity: a cast between floating dtypes only rounds.
    """
    if type(old) is _ndarray:
        if type(new) is _ndarray and new.dtype == old.dtype and new.shape == old.shape:
            return new      # the common case: nothing changes
    elif getattr(old, "dtype", None) is None or not hasattr(type(old), IN_PLACE_METHODS[op]):
        return new
    # NumPy's order: the cast is checked before the shape
    have, want = dtype_of(new), dtype_of(old)
    if not np.can_cast(have, want, "same_kind"):
        raise TypeError(f"Cannot cast ufunc output from {have!r} to {want!r} with casting "
                        "rule 'same_kind'")
    shape, old_shape = np.shape(new), np.shape(old)
    if shape != old_shape:
        raise ValueError(f"non-broadcastable output operand with shape {old_shape} doesn't "
                         f"match the broadcast shape {shape}")
    if isinstance(old, _ndarray) and isinstance(new, (np.generic, int, float, complex)):
        return np.array(new, dtype=want)        # a 0-d array stays an array
    # (srcgrad's Tensors, when the tape runs generated code, keep their dtype the same way)
    return new if have == want else convert(new, want)


in_place.returns_argument = True     # ``new`` itself where no cast is needed


def in_place_tangent(dnew: Any, ans: Any) -> Any:
    """The tangent of :func:`in_place`: ``dnew`` in the result's dtype."""
    want = dtype_of(ans)
    return dnew if dtype_of(dnew) == want else cast_tangent(dnew, want)


# --- node names that depend on the call --------------------------------------------


def _index_part_name(i: Any) -> str | None:
    """The PyTorch node for one entry of an index (None for entries that do nothing)."""
    if i is Ellipsis:
        return None
    if i is None:
        return "UnsqueezeBackward0"
    if isinstance(i, slice):
        return "SliceBackward0"
    if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
        return "SelectBackward0"
    return "IndexBackward0"


def index_node_name(index: Any) -> str:
    """PyTorch's node for ``x[index]``: the last view op applied, or IndexBackward0.

    ``x[0]`` -> SelectBackward0, ``x[1:]`` -> SliceBackward0, ``x[None]`` ->
    UnsqueezeBackward0, integer arrays and masks -> IndexBackward0; in a tuple
    the last entry that does something names the node (``x[:, 0]`` selects).
    """
    if not isinstance(index, tuple):
        return _index_part_name(index) or "AliasBackward0"
    names = [_index_part_name(i) for i in index]
    if "IndexBackward0" in names:
        return "IndexBackward0"
    acting = [n for i, n in zip(index, names, strict=True)
              if n is not None and i != slice(None)]
    return acting[-1] if acting else "AliasBackward0"


def _getitem_node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
    return index_node_name(args[1] if len(args) > 1 else None)


def _squeeze_node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
    axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
    return "SqueezeBackward0" if axis is None else "SqueezeBackward1"


def _diag_node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
    return "DiagEmbedBackward0" if args and np.ndim(args[0]) == 1 else "DiagonalBackward0"


def _take_node(is_tensor: tuple, kwargs: dict, args: tuple) -> str:
    axis = kwargs.get("axis", args[2] if len(args) > 2 else None)
    return "TakeBackward0" if axis is None else "IndexSelectBackward0"


# --- reshaping --------------------------------------------------------------------

defvjp(np.reshape,
       lambda g, ans, a, shape=None, order="C", *, newshape=None, copy=None:
       np.reshape(g, np.shape(a), order=order),
       node="ViewBackward0")
defjvp(np.reshape,
       lambda dx, ans, a, shape=None, order="C", *, newshape=None, copy=None:
       np.reshape(dx, np.shape(ans), order=order))

defvjp(np.ravel, lambda g, ans, a, order="C": np.reshape(g, np.shape(a), order=order),
       node="ViewBackward0")
defjvp(np.ravel, lambda dx, ans, a, order="C": np.ravel(dx, order))

defvjp(np.expand_dims, lambda g, ans, a, axis: np.reshape(g, np.shape(a)),
       node="UnsqueezeBackward0")
defjvp(np.expand_dims, lambda dx, ans, a, axis: np.expand_dims(dx, axis))

defvjp(np.squeeze, lambda g, ans, a, axis=None: np.reshape(g, np.shape(a)), node=_squeeze_node)
defjvp(np.squeeze, lambda dx, ans, a, axis=None: np.squeeze(dx, axis))

for _atleast in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    # one array in, one array out (several arrays give a tuple: not a primitive here)
    defvjp(_atleast, lambda g, ans, ary: np.reshape(g, np.shape(ary)), node="ViewBackward0")
    defjvp(_atleast, lambda dx, ans, ary: np.reshape(dx, np.shape(ans)))

defvjp(np.broadcast_to, lambda g, ans, array, shape, subok=False: unbroadcast(g, array),
       node="ExpandBackward0")
defjvp(np.broadcast_to, lambda dx, ans, array, shape, subok=False: np.broadcast_to(dx, shape))

defvjp(np.copy, lambda g, ans, a, order="K", subok=False: g, node="CloneBackward0")
defjvp(np.copy, lambda dx, ans, a, order="K", subok=False: dx)

# --- axis permutations ----------------------------------------------------------------

defvjp(np.transpose,
       lambda g, ans, a, axes=None: np.transpose(g, inverse_permutation(axes, np.ndim(a))),
       node="PermuteBackward0")
defjvp(np.transpose, lambda dx, ans, a, axes=None: np.transpose(dx, axes))

defvjp(np.swapaxes, lambda g, ans, a, axis1, axis2: np.swapaxes(g, axis1, axis2),
       node="TransposeBackward0")
defjvp(np.swapaxes, lambda dx, ans, a, axis1, axis2: np.swapaxes(dx, axis1, axis2))

defvjp(np.moveaxis, lambda g, ans, a, source, destination: np.moveaxis(g, destination, source),
       node="PermuteBackward0")
defjvp(np.moveaxis, lambda dx, ans, a, source, destination: np.moveaxis(dx, source, destination))

# --- reversing and rotating ----------------------------------------------------------------

defvjp(np.flip, lambda g, ans, m, axis=None: np.flip(g, axis), node="FlipBackward0")
defjvp(np.flip, lambda dx, ans, m, axis=None: np.flip(dx, axis))

defvjp(np.fliplr, lambda g, ans, m: np.fliplr(g), node="FlipBackward0")
defjvp(np.fliplr, lambda dx, ans, m: np.fliplr(dx))

defvjp(np.flipud, lambda g, ans, m: np.flipud(g), node="FlipBackward0")
defjvp(np.flipud, lambda dx, ans, m: np.flipud(dx))

defvjp(np.rot90, lambda g, ans, m, k=1, axes=(0, 1): np.rot90(g, -k, axes),
       node="Rot90Backward0")
defjvp(np.rot90, lambda dx, ans, m, k=1, axes=(0, 1): np.rot90(dx, k, axes))

defvjp(np.roll, lambda g, ans, a, shift, axis=None: np.roll(g, np.negative(shift), axis),
       node="RollBackward0")
defjvp(np.roll, lambda dx, ans, a, shift, axis=None: np.roll(dx, shift, axis))

# --- joining and splitting ----------------------------------------------------------------

defvjp(np.concatenate,
       lambda g, ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind":
       items_cotangent(concat_cotangents(g, arrays, axis), arrays),
       node="CatBackward0", sequence_argnums=(0,))
defjvp(np.concatenate,
       lambda dx, ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind":
       np.concatenate(dx, axis))

defvjp(np.stack,
       lambda g, ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind":
       items_cotangent([np.take(g, i, axis) for i in range(len(arrays))], arrays),
       node="StackBackward0", sequence_argnums=(0,))
defjvp(np.stack,
       lambda dx, ans, arrays, axis=0, out=None, *, dtype=None, casting="same_kind":
       np.stack(dx, axis))

defvjp(np.hstack,
       lambda g, ans, tup, *, dtype=None, casting="same_kind":
       items_cotangent(hstack_cotangents(g, tup), tup),
       node="CatBackward0", sequence_argnums=(0,))
defjvp(np.hstack, lambda dx, ans, tup, *, dtype=None, casting="same_kind": np.hstack(dx))

defvjp(np.vstack,
       lambda g, ans, tup, *, dtype=None, casting="same_kind":
       items_cotangent(vstack_cotangents(g, tup), tup),
       node="CatBackward0", sequence_argnums=(0,))
defjvp(np.vstack, lambda dx, ans, tup, *, dtype=None, casting="same_kind": np.vstack(dx))

# The output is one value, the list of pieces; g holds a cotangent per piece.
defvjp(np.split,
       lambda g, ans, ary, indices_or_sections, axis=0: split_cotangent(g, ans, axis),
       node="SplitBackward0")
defjvp(np.split,
       lambda dx, ans, ary, indices_or_sections, axis=0: np.split(dx, indices_or_sections, axis))

defvjp(np.array_split,
       lambda g, ans, ary, indices_or_sections, axis=0: split_cotangent(g, ans, axis),
       node="SplitWithSizesBackward0")
defjvp(np.array_split,
       lambda dx, ans, ary, indices_or_sections, axis=0:
       np.array_split(dx, indices_or_sections, axis))

# --- repeating and padding ---------------------------------------------------------------

defvjp(np.tile, lambda g, ans, A, reps: untile(g, A, reps), node="RepeatBackward0")
defjvp(np.tile, lambda dx, ans, A, reps: np.tile(dx, reps))

defvjp(np.repeat, lambda g, ans, a, repeats, axis=None: unrepeat(g, a, repeats, axis),
       node="RepeatInterleaveBackward0")
defjvp(np.repeat, lambda dx, ans, a, repeats, axis=None: np.repeat(dx, repeats, axis))

defvjp(np.pad,
       lambda g, ans, array, pad_width, mode="constant", **kwargs:
       unpad(g, array, pad_width, mode, **kwargs),
       node="ConstantPadNdBackward0")
defjvp(np.pad,
       lambda dx, ans, array, pad_width, mode="constant", **kwargs:
       pad_tangent(dx, pad_width, mode, **kwargs))

# --- triangles and diagonals -------------------------------------------------------------

defvjp(np.triu, lambda g, ans, m, k=0: np.triu(g, k), node="TriuBackward0")
defjvp(np.triu, lambda dx, ans, m, k=0: np.triu(dx, k))

defvjp(np.tril, lambda g, ans, m, k=0: np.tril(g, k), node="TrilBackward0")
defjvp(np.tril, lambda dx, ans, m, k=0: np.tril(dx, k))

# np.diag builds a matrix from a vector and reads the diagonal of a matrix: each
# is the other's adjoint.
defvjp(np.diag,
       lambda g, ans, v, k=0:
       np.diag(g, k) if np.ndim(v) == 1 else embed_diagonal(g, np.shape(v), k),
       node=_diag_node)
defjvp(np.diag, lambda dx, ans, v, k=0: np.diag(dx, k))

defvjp(np.diagonal,
       lambda g, ans, a, offset=0, axis1=0, axis2=1:
       embed_diagonal(g, np.shape(a), offset, axis1, axis2),
       node="DiagonalBackward0")
defjvp(np.diagonal,
       lambda dx, ans, a, offset=0, axis1=0, axis2=1: np.diagonal(dx, offset, axis1, axis2))

# --- gathering and sorting ----------------------------------------------------------------

defvjp(np.take,
       lambda g, ans, a, indices, axis=None, out=None, mode="raise":
       take_cotangent(g, a, indices, axis, mode),
       node=_take_node)
defjvp(np.take,
       lambda dx, ans, a, indices, axis=None, out=None, mode="raise":
       np.take(dx, indices, axis, mode=mode))

defvjp(np.take_along_axis,
       lambda g, ans, arr, indices, axis=-1: take_along_axis_cotangent(g, arr, indices, axis),
       node="GatherBackward0")
defjvp(np.take_along_axis,
       lambda dx, ans, arr, indices, axis=-1: np.take_along_axis(dx, indices, axis))

defvjp(np.sort, lambda g, ans, a, axis=-1, kind=None, order=None: sort_cotangent(g, a, axis),
       node="SortBackward0")
defjvp(np.sort, lambda dx, ans, a, axis=-1, kind=None, order=None: sort_tangent(dx, a, axis))

# --- indexing ------------------------------------------------------------------------------

# x[index]: int, slice, None, Ellipsis, integer arrays, boolean masks and tuples of
# these; repeated integer indices accumulate their cotangents.
defvjp(operator.getitem, lambda g, ans, x, index: index_cotangent(g, x, index),
       node=_getitem_node)
defjvp(operator.getitem, lambda dx, ans, x, index: dx[index])

# setitem(x, index, value): x with x[index] = value, out of place; of repeated integer
# indices only the last write lands, and only it gets a cotangent.  Values written into
# an integer array are truncated: piecewise constant, no derivative.
defvjp(setitem,
       lambda g, ans, x, index, value: setitem(g, index, 0),
       None,
       lambda g, ans, x, index, value:
       unbroadcast(assigned_cotangent(g, x, index), value) if holds_fractions(x)
       else zeros_like(value),
       node="CopySlices")
defjvp(setitem,
       lambda dx, ans, x, index, value: setitem(dx, index, 0),
       None,
       lambda dx, ans, x, index, value:
       setitem(np.zeros_like(x), index, dx) if holds_fractions(x) else np.zeros_like(x))

# A cast to integers or booleans is piecewise constant: zero derivative.
defvjp(astype, lambda g, ans, x, dtype: cast_cotangent(g, x, dtype), node="ToCopyBackward0")
defjvp(astype, lambda dx, ans, x, dtype: cast_tangent(dx, dtype))

# Writing into the old array only casts (a float32 array keeps its dtype): the derivative
# in the new value is the identity, the old array gives only its dtype and shape.
defvjp(in_place, lambda g, ans, new, old, op: real_cotangent(g, new), None, None,
       node="CopyBackwards", complex=True)
defjvp(in_place, lambda dnew, ans, new, old, op: in_place_tangent(dnew, ans), None, None)
nondifferentiable(in_place, argnums=(1, 2))

# --- more joining, splitting and reshaping ---------------------------------------------

defvjp(np.append,
       lambda g, ans, arr, values, axis=None: append_cotangent(g, arr, values, axis, 0),
       lambda g, ans, arr, values, axis=None: append_cotangent(g, arr, values, axis, 1),
       node="CatBackward0")
defjvp(np.append,
       lambda dx, ans, arr, values, axis=None: np.append(dx, np.zeros_like(values), axis),
       lambda dv, ans, arr, values, axis=None: np.append(np.zeros_like(arr), dv, axis))

# The inserted values are argument 2; obj (where) is a constant.
defvjp(np.insert,
       lambda g, ans, arr, obj, values, axis=None: insert_cotangent(g, arr, obj, values, axis, 0),
       None,
       lambda g, ans, arr, obj, values, axis=None: insert_cotangent(g, arr, obj, values, axis, 1))
defjvp(np.insert,
       lambda dx, ans, arr, obj, values, axis=None:
       np.insert(dx, obj, np.zeros_like(values), axis),
       None,
       lambda dv, ans, arr, obj, values, axis=None: np.insert(np.zeros_like(arr), obj, dv, axis))

defvjp(np.delete, lambda g, ans, arr, obj, axis=None: delete_cotangent(g, arr, obj, axis))
defjvp(np.delete, lambda dx, ans, arr, obj, axis=None: np.delete(dx, obj, axis))

# column_stack makes 1-D inputs columns; dstack makes every input 3-D first.
defvjp(np.column_stack,
       lambda g, ans, tup: items_cotangent(column_stack_cotangents(g, tup), tup),
       node="CatBackward0", sequence_argnums=(0,))
defjvp(np.column_stack, lambda dx, ans, tup: np.column_stack(dx))

defvjp(np.dstack,
       lambda g, ans, tup: items_cotangent(dstack_cotangents(g, tup), tup),
       node="CatBackward0", sequence_argnums=(0,))
defjvp(np.dstack, lambda dx, ans, tup: np.dstack(dx))

if hasattr(np, "row_stack") and np.row_stack is not np.vstack:
    alias(np.row_stack, np.vstack)

# hsplit / vsplit / dsplit: np.split along axis 1 (0 for 1-D), 0 and 2.
defvjp(np.hsplit,
       lambda g, ans, ary, indices_or_sections: pieces_cotangent(g, ans, min(1, np.ndim(ary) - 1)),
       node="SplitBackward0")
defjvp(np.hsplit, lambda dx, ans, ary, indices_or_sections: np.hsplit(dx, indices_or_sections))

defvjp(np.vsplit, lambda g, ans, ary, indices_or_sections: pieces_cotangent(g, ans, 0),
       node="SplitBackward0")
defjvp(np.vsplit, lambda dx, ans, ary, indices_or_sections: np.vsplit(dx, indices_or_sections))

defvjp(np.dsplit, lambda g, ans, ary, indices_or_sections: pieces_cotangent(g, ans, 2),
       node="SplitBackward0")
defjvp(np.dsplit, lambda dx, ans, ary, indices_or_sections: np.dsplit(dx, indices_or_sections))

if hasattr(np, "unstack"):
    # The pieces along axis; stacking their cotangents undoes it.
    defvjp(np.unstack, lambda g, ans, x, *, axis=0: np.stack(zeros_but(g, ans), axis),
           node="UnbindBackward0")
    defjvp(np.unstack, lambda dx, ans, x, *, axis=0: np.unstack(dx, axis=axis))

defvjp(np.rollaxis,
       lambda g, ans, a, axis, start=0:
       np.moveaxis(g, rollaxis_destination(np.ndim(a), axis, start), axis),
       node="PermuteBackward0")
defjvp(np.rollaxis, lambda dx, ans, a, axis, start=0: np.rollaxis(dx, axis, start))

# resize repeats the flattened array cyclically: the copies' cotangents add up.
defvjp(np.resize, lambda g, ans, a, new_shape: resize_cotangent(g, a, new_shape))
defjvp(np.resize, lambda dx, ans, a, new_shape: np.resize(dx, new_shape))

defvjp(np.diagflat,
       lambda g, ans, v, k=0: np.reshape(np.diagonal(g, k), np.shape(v)),
       node="DiagEmbedBackward0")
defjvp(np.diagflat, lambda dx, ans, v, k=0: np.diagflat(dx, k))

if hasattr(np.linalg, "diagonal"):
    defvjp(np.linalg.diagonal,
           lambda g, ans, x, *, offset=0: _embed_diagonal(g, np.shape(x), offset, -2, -1),
           node="DiagonalBackward0")
    defjvp(np.linalg.diagonal,
           lambda dx, ans, x, *, offset=0: np.linalg.diagonal(dx, offset=offset))

# --- selecting ---------------------------------------------------------------------------

# The condition (argument 0) is a constant mask.
defvjp(np.compress,
       lambda g, ans, condition, a, axis=None, out=None:
       flat_positions_cotangent(g, a, np.flatnonzero(condition), axis),
       argnums=(1,), node="IndexBackward0")
defjvp(np.compress,
       lambda dx, ans, condition, a, axis=None, out=None: np.compress(condition, dx, axis),
       argnums=(1,))

defvjp(np.extract,
       lambda g, ans, condition, arr:
       flat_positions_cotangent(g, arr, np.flatnonzero(condition)),
       argnums=(1,), node="IndexBackward0")
defjvp(np.extract, lambda dx, ans, condition, arr: np.extract(condition, dx), argnums=(1,))

defvjp(np.choose,
       lambda g, ans, a, choices, out=None, mode="raise":
       items_cotangent(choose_cotangent(g, a, choices, mode), choices),
       argnums=(1,), sequence_argnums=(1,))
defjvp(np.choose,
       lambda dx, ans, a, choices, out=None, mode="raise": np.choose(a, dx, mode=mode),
       argnums=(1,))

# select(condlist, choicelist, default): each element comes from the first true condition.
defvjp(np.select,
       lambda g, ans, condlist, choicelist, default=0:
       items_cotangent(select_cotangents(g, condlist, choicelist), choicelist),
       lambda g, ans, condlist, choicelist, default=0:
       unbroadcast(np.where(select_which(condlist, len(choicelist)) == -1, g, 0 * g), default),
       argnums=(1, 2), sequence_argnums=(1,))
defjvp(np.select,
       lambda dx, ans, condlist, choicelist, default=0:
       broadcast_like(np.select(condlist, dx, 0 * dx[0]), ans),
       lambda dd, ans, condlist, choicelist, default=0:
       broadcast_like(np.where(select_which(condlist, len(choicelist)) == -1, dd, 0 * dd), ans),
       argnums=(1, 2))

# masks and conditions choose, they carry no derivative (a float mask is read for its
# truth: piecewise constant)
nondifferentiable(np.compress, np.extract, np.select, argnums=(0,))

# partition moves elements like a sort: the cotangent goes back along the same moves.
defvjp(np.partition,
       lambda g, ans, a, kth, axis=-1, kind="introselect", order=None:
       np.reshape(take_along_axis_cotangent(g, np.ravel(a) if axis is None else a,
                                            partition_order(a, ans, axis),
                                            -1 if axis is None else axis), np.shape(a)),
       node="SortBackward0")
defjvp(np.partition,
       lambda dx, ans, a, kth, axis=-1, kind="introselect", order=None:
       np.take_along_axis(np.ravel(dx) if axis is None else dx, partition_order(a, ans, axis),
                          -1 if axis is None else axis))

# --- creating arrays -----------------------------------------------------------------------

# full(shape, fill_value): every element is fill_value.
defvjp(np.full,
       lambda g, ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None:
       unbroadcast(g if is_complex(ans) else np.real(g), fill_value),
       argnums=(1,), node="FillBackward0")
defjvp(np.full,
       lambda dx, ans, shape, fill_value, dtype=None, order="C", *, device=None, like=None:
       np.broadcast_to(dx if is_complex(ans) else np.real(dx), np.shape(ans)),
       argnums=(1,))


# np.array(obj): obj's items (arrays or numbers, in nested lists or tuples) stacked.
defvjp(np.array,
       lambda g, ans, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0,
       like=None: array_cotangent(g, object, dtype),
       node="StackBackward0", sequence_argnums=(0,))
defjvp(np.array,
       lambda dx, ans, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0,
       like=None: array_tangent(dx, ans, ndmin))

# block(arrays): nested lists joined along the last axes; each item gets its block.
defvjp(np.block, lambda g, ans, arrays: block_cotangent(g, arrays), node="CatBackward0",
       sequence_argnums=(0,))
defjvp(np.block, lambda dx, ans, arrays: np.block(dx))

# meshgrid(*xi): output k repeats input k along every other axis.
_MESH_ARGS = 8
defvjp(np.meshgrid,
       *(lambda g, ans, *xi, k=k, copy=True, sparse=False, indexing="xy":
         meshgrid_cotangent(g, xi, k, indexing) for k in range(_MESH_ARGS)),
       argnums=range(_MESH_ARGS))
defjvp(np.meshgrid,
       *(lambda dx, ans, *xi, k=k, copy=True, sparse=False, indexing="xy":
         np.meshgrid(*with_operand([np.zeros_like(x) for x in xi], k, dx), sparse=sparse,
                     indexing=indexing) for k in range(_MESH_ARGS)),
       argnums=range(_MESH_ARGS))

defvjp(np.broadcast_arrays,
       *(lambda g, ans, *args, k=k, subok=False:
         np.zeros_like(args[k]) if g[k] is None else unbroadcast(g[k], args[k])
         for k in range(_MESH_ARGS)),
       argnums=range(_MESH_ARGS), node="ExpandBackward0")
defjvp(np.broadcast_arrays,
       *(lambda dx, ans, *args, k=k, subok=False:
         [np.broadcast_to(dx, np.shape(a)) if i == k else np.zeros_like(a)
          for i, a in enumerate(ans)] for k in range(_MESH_ARGS)),
       argnums=range(_MESH_ARGS))

# np.unique: the sorted distinct values. Away from ties it is a permutation of the
# input; where values repeat, each copy gets an equal share of its value's cotangent.
defvjp(np.unique, lambda g, ans, ar, return_index=False, return_inverse=False,
       return_counts=False, axis=None, *, equal_nan=True, sorted=True:
       unique_cotangent(g, ar, return_index or return_inverse or return_counts, axis),
       node="UniqueBackward0")
defjvp(np.unique, lambda dx, ans, ar, return_index=False, return_inverse=False,
       return_counts=False, axis=None, *, equal_nan=True, sorted=True:
       unique_tangent(dx, ar, return_index or return_inverse or return_counts, axis))

nondifferentiable(
    np.empty, np.zeros, np.ones, np.eye, np.identity, np.tri, np.indices,
    np.diag_indices, np.diag_indices_from, np.tril_indices, np.tril_indices_from,
    np.triu_indices, np.triu_indices_from, np.mask_indices,
    np.argwhere, np.flatnonzero, np.searchsorted, np.digitize, np.isin,
    np.lexsort, np.argpartition, np.nanargmax, np.nanargmin,
    np.ravel_multi_index, np.unravel_index, np.packbits, np.unpackbits,
    np.bartlett, np.blackman, np.hamming, np.hanning,
    np.result_type, np.can_cast, np.min_scalar_type, np.common_type,
    np.may_share_memory, np.shares_memory, np.einsum_path, np.ix_,
    np.busday_count, np.busday_offset, np.is_busday, np.datetime_as_string,
)

if hasattr(np, "astype"):
    # NumPy 2's function spelling of ndarray.astype.
    defvjp(np.astype, lambda g, ans, x, dtype, /, *, copy=True, device=None:
           cast_cotangent(g, x, dtype), node="ToCopyBackward0")
    defjvp(np.astype, lambda dx, ans, x, dtype, /, *, copy=True, device=None:
           cast_tangent(dx, dtype))
# Constant results that still vary with a float argument: an active value reaching one
# is refused (no argument declared inert), never differentiated as a zero.
# arange(start, stop, step) is start + k * step; the bin edges of histogram_bin_edges
# move with the data and the range; kaiser's window with beta; unique_* return values.
nondifferentiable(np.arange, np.histogram_bin_edges, argnums=())
nondifferentiable(np.kaiser, argnums=(0,))
for _name in ("unique_all", "unique_counts", "unique_inverse", "unique_values"):
    if hasattr(np, _name):
        nondifferentiable(getattr(np, _name), argnums=())

del _atleast, _name
