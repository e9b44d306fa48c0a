"""The helpers generated code calls besides :mod:`srcgrad.runtime` and the rules' own.

Adjoints of lists and tuples are dicts ``{index: cotangent}`` (a missing
index is a zero); ``None`` stands for an adjoint that is zero at run time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..runtime import as_gradient, zeros_like

__all__ = ["add", "zeros_for", "zeros_like", "tangent_or_zeros", "seq_add", "seq_get", "key_get",
           "seq_grad", "seq_cotangent", "setitem_copy", "setitem_list", "resolve", "grad_or_zeros"]


# Argument types for which every value of a "scalar-closed" function is a scalar.
SCALAR_TYPES = frozenset({float, int, np.float64, np.float32, np.float16, np.int64, np.int32})


def one_like(out: Any) -> Any:
    """The seed cotangent for a gradient: ones with ``out``'s shape and dtype."""
    kind = type(out)
    if kind is float or kind is np.float64:
        return 1.0          # the same value and promotion as np.float64(1), made faster
    if isinstance(out, np.ndarray):
        return np.ones_like(out)
    if isinstance(out, np.generic):
        return out.dtype.type(1)
    from ..outputs import not_scalar

    error = not_scalar("the differentiated function", out)
    if error is not None:        # a tuple a callee returned, None...
        raise error
    return 1.0


def aux_seed(out: Any, fname: str = "the differentiated function") -> dict:
    """The seed cotangent of ``(output, aux)`` with ``has_aux=True``: ones for the output."""
    if not (type(out) is tuple and len(out) == 2):
        from ..outputs import check_aux_pair

        check_aux_pair(fname, out)
    if type(out[0]) is not float and type(out[0]) is not np.float64:
        from ..outputs import not_scalar

        error = not_scalar(fname, out[0], first_of_pair=True)
        if error is not None:
            raise error
    return {0: one_like(out[0])}


class ShapeOf:
    """What a loop saves of a value the reverse sweep reads only the shape of."""

    __slots__ = ("shape",)

    def __init__(self, value: Any) -> None:
        self.shape = np.shape(value)

    def __repr__(self) -> str:
        return f"ShapeOf({self.shape})"


_ndarray = np.ndarray


class ShapeStack:
    """A loop's stack of values the reverse sweep reads only the shape of.

    ``append(v)`` records ``v``'s shape, ``pop()`` gives it back as a
    :class:`ShapeOf`.  Equal shapes pushed one after another are stored once
    with a count, so a loop whose shapes do not change keeps a single entry.
    Iterating yields every pushed entry in order (``list(stack)`` is a plain
    stack of ``ShapeOf`` values).
    """

    __slots__ = ("top", "shape", "count", "older")

    def __init__(self) -> None:
        self.top: ShapeOf | None = None     # the newest run: its ShapeOf, shape and length
        self.shape: Any = None              # never equal to a shape while the stack is empty
        self.count = 0
        self.older: list = []               # earlier runs, (ShapeOf, length) pairs

    def append(self, value: Any) -> None:
        shape = value.shape if type(value) is _ndarray else np.shape(value)
        if shape == self.shape:
            self.count += 1
            return
        if self.count:
            self.older.append((self.top, self.count))
        entry = ShapeOf.__new__(ShapeOf)
        entry.shape = shape
        self.top, self.shape, self.count = entry, shape, 1

    def pop(self) -> ShapeOf:
        top = self.top
        if top is None:
            raise IndexError("pop from an empty ShapeStack")
        self.count -= 1
        if not self.count:
            if self.older:
                self.top, self.count = self.older.pop()
                self.shape = self.top.shape
            else:
                self.top = self.shape = None
        return top

    def __iter__(self) -> Any:
        runs = [*self.older, (self.top, self.count)] if self.count else self.older
        for entry, count in runs:
            for _ in range(count):
                yield entry

    def __len__(self) -> int:
        return self.count + sum(count for _, count in self.older)

    def __repr__(self) -> str:
        return f"ShapeStack({list(self)!r})"


def add(a: Any, b: Any) -> Any:
    """``a + b`` where ``None`` is zero."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict):
        if isinstance(b, (list, tuple)):
            b = dict(enumerate(b))      # one cotangent per item, as the sweep's {index: ...}
        merged = dict(a)
        for key, value in b.items():
            merged[key] = add(merged.get(key), value)
        return merged
    if isinstance(a, (list, tuple)):
        if isinstance(b, dict):
            return add(b, a)
        if isinstance(b, (list, tuple)):
            return type(a)(add(u, v) for u, v in zip(a, b, strict=True))
    return a + b


def _plus(a: Any, b: Any) -> Any:
    """Two cotangents of one item added: item by item where the item is a list or tuple."""
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return add(a, b)
    return a + b


def seq_add(adjoint: dict | None, index: Any, value: Any, length: int) -> dict:
    """Add ``value`` to entry ``index`` (negative counts from ``length``) of a sequence adjoint.

    For a slice ``index``, ``value`` holds one cotangent per selected entry.
    """
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if value is None:
        return {} if adjoint is None else adjoint
    if adjoint is None:
        adjoint = {}
    if isinstance(index, slice):
        picked = range(length)[index]
        if isinstance(value, dict):         # a slice's own sequence adjoint
            for k, item in value.items():
                seq_add(adjoint, picked[k], item, length)
            return adjoint
        for j, item in zip(picked, value, strict=True):
            seq_add(adjoint, j, item, length)
        return adjoint
    if index < 0:
        index += length
    old = adjoint.get(index)
    adjoint[index] = value if old is None else _plus(old, value)
    return adjoint


def seq_add_all(adjoint: dict | None, values: Any) -> dict:
    """Add a sequence of cotangents (``None`` entries are zeros) to a sequence adjoint."""
    if adjoint is None:
        adjoint = {}
    for index, value in enumerate(values):
        if value is not None:
            old = adjoint.get(index)
            adjoint[index] = value if old is None else _plus(old, value)
    return adjoint


def seq_get(adjoint: dict | None, index: int, length: int = 0) -> Any:
    """Entry ``index`` of a sequence adjoint, or ``None``."""
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if adjoint is None:
        return None
    if index < 0:
        index += length
    return adjoint.get(index)


def key_get(adjoint: dict | None, key: Any) -> Any:
    """Entry ``key`` of a dict's adjoint (its cotangent, a dict of the same keys), or ``None``."""
    return None if adjoint is None else adjoint.get(key)


def seq_without(adjoint: dict | None, index: int, length: int) -> dict | None:
    """A sequence adjoint without entry ``index`` (the item was overwritten)."""
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if adjoint is None:
        return None
    if index < 0:
        index += length
    return {k: v for k, v in adjoint.items() if k != index}


def seq_pop(adjoint: dict | None, index: int) -> Any:
    """Remove and return entry ``index`` of a sequence adjoint (the adjoint of an append)."""
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if adjoint is None:
        return None
    return adjoint.pop(index, None)


def seq_cotangent(adjoint: dict | None, value: Any) -> Any:
    """A sequence adjoint as the tuple/list of cotangents shaped like ``value``."""
    if isinstance(adjoint, (list, tuple)):  # already one cotangent per item (a rule's)
        adjoint = dict(enumerate(adjoint))
    adjoint = adjoint or {}
    items = [adjoint[k] if adjoint.get(k) is not None else zeros_for(v)
             for k, v in enumerate(value)]
    return tuple(items) if isinstance(value, tuple) else items


def zeros_for(value: Any) -> Any:
    """Zeros shaped like ``value``, item by item for a list or tuple.

    ``None`` and dicts (the run-time zero and sequence adjoints of generated
    gradient code, when forward mode runs over it) stay ``None`` and empty.
    """
    if isinstance(value, (list, tuple)):
        return type(value)(zeros_for(v) for v in value)
    if value is None:
        return None
    if isinstance(value, dict):
        return {}
    return zeros_like(value)


def copy_stack(stack: Any) -> list:
    """A pullback's own copy of a saved stack, so that it can be called again."""
    return list(stack)


def call_pullback(cotangent: Any, pullback: Any) -> Any:
    """The pullback of a call that ran on the tape (its "saved" value is the pullback)."""
    return pullback(cotangent)


def seq_tangent(tangents: Any, value: Any) -> Any:
    """The tangents of a primitive's several outputs, zeros where a JVP gave ``None``."""
    items = [zeros_for(v) if t is None else t for t, v in zip(tangents, value, strict=True)]
    return tuple(items) if isinstance(value, tuple) else items


def tangent_or_zeros(tangent: Any, value: Any) -> Any:
    """A tangent that may be ``None`` at run time, as zeros shaped like ``value`` then."""
    return zeros_for(value) if tangent is None else tangent


def seq_grad(adjoint: Any, value: Any) -> Any:
    """The gradient returned for an argument: zeros where nothing flowed."""
    if isinstance(value, (list, tuple)):
        if adjoint is None or isinstance(adjoint, dict):
            return seq_cotangent(adjoint, value)
        return adjoint
    if adjoint is None:
        return zeros_like(value)
    return adjoint


def grad_or_zeros(adjoint: Any, value: Any) -> Any:
    """``adjoint``, or zeros shaped like ``value`` when it is ``None`` (in ``value``'s
    dtype, real for a real ``value``: :func:`~srcgrad.runtime.as_gradient`)."""
    if adjoint is None:
        return zeros_for(value)
    if isinstance(adjoint, dict):
        return seq_cotangent(adjoint, value)
    if isinstance(value, (list, tuple)) and not isinstance(adjoint, (list, tuple)):
        # a list argument indexed like an array: one row of the cotangent per item
        rows = np.asarray(adjoint)
        return type(value)(as_gradient(rows[k].reshape(np.shape(v)), v)
                           for k, v in enumerate(value))
    return as_gradient(adjoint, value)


def setitem_copy(x: Any, index: Any, value: Any) -> Any:
    """``x`` with ``x[index] = value``, leaving ``x`` unchanged."""
    out = np.array(x, copy=True, dtype=np.result_type(x, value))
    out[index] = value
    return out


def setitem_list(x: list, index: Any, value: Any) -> list:
    """A copy of list ``x`` with ``x[index] = value``."""
    out = list(x)
    out[index] = value
    return out


def seq_concat(a: Any, b: Any) -> Any:
    """``a + b`` for lists or tuples (concatenation)."""
    return a + b


def seq_repeat(a: Any, n: Any) -> Any:
    """``a * n`` for a list or tuple (repetition)."""
    return a * n


def seq_head(adjoint: dict | None, length: int) -> dict | None:
    """The entries of a concatenation's adjoint that belong to its first ``length`` items."""
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if adjoint is None:
        return None
    return {k: v for k, v in adjoint.items() if k < length}


def seq_tail(adjoint: dict | None, length: int) -> dict | None:
    """The entries after the first ``length`` items, counted from 0 again."""
    if isinstance(adjoint, (list, tuple)):
        adjoint = dict(enumerate(adjoint))    # one cotangent per item (a callee's)
    if adjoint is None:
        return None
    return {k - length: v for k, v in adjoint.items() if k >= length}


def resolve(name: str) -> Any:
    """The callable a normalized support call (``setitem``) stands for."""
    if name == "setitem":
        from ..rules import shape

        return getattr(shape, "setitem", setitem_copy)
    if name == "in_place":
        from ..rules.shape import in_place

        return in_place
    return globals()[name]


def zip_count(strict: Any, *counts: int) -> int:
    """How many items ``zip(..., strict=strict)`` of sequences this long yields.

    With ``strict`` true, different lengths raise Python's own ``ValueError``.
    """
    if strict:
        for k, n in enumerate(counts[1:], 2):
            if n != counts[0]:
                which = "argument 1" if k == 2 else f"arguments 1-{k - 1}"
                raise ValueError(f"zip() argument {k} is "
                                 f"{'shorter' if n < counts[0] else 'longer'} than {which}")
    return min(counts)


def as_seq_adjoint(g: Any) -> Any:
    """A cotangent for a tuple/list output, as a sequence adjoint."""
    if isinstance(g, (tuple, list)):
        return dict(enumerate(g))
    if isinstance(g, np.ndarray) and g.ndim:
        # the caller used the tuple as the array NumPy stacks it into: one row per item
        return dict(enumerate(g))
    return g
