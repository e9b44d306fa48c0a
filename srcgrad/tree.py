"""Pytrees: nests of dict, list, tuple, namedtuple, dataclass and None around leaves.

Flattening and unflattening are :mod:`optree`'s (an optional dependency:
``pip install 'srcgrad[tree]'``), in srcgrad's own registry namespace, with
dicts kept in insertion order (the order a function sees when it iterates
them). Dataclass instances are containers of their fields; users register
other containers with :func:`register`. Everything else is a leaf.

>>> import numpy as np, srcgrad
>>> params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
>>> vector, unravel = srcgrad.tree.ravel(params)
>>> vector.shape
(6,)
"""

from __future__ import annotations

import atexit
import dataclasses
import importlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["flatten", "unflatten", "leaves", "structure", "map", "ravel", "register",
           "is_container", "TreeError"]

NAMESPACE = "srcgrad"
_INSTALL = "pip install 'srcgrad[tree]'"
_optree: Any = None
_ordered: Any = None
_LOCK = threading.Lock()
# the containers every argument check recognises without importing optree
_BUILTIN = (dict, list, tuple, type(None))
_registered: set[type] = set()      # dataclasses and user types in srcgrad's namespace
DATACLASSES: set[type] = set()      # the dataclasses registered by srcgrad (by their fields)
_SEEN: set[type] = set()            # types _note has looked at


class TreeError(TypeError):
    """A tree argument srcgrad cannot use: a bad leaf (named by its path) or no optree."""


def _lib() -> Any:
    """optree, imported when a container is first met."""
    global _optree, _ordered
    if _optree is None:
        try:
            lib = importlib.import_module("optree")
        except ImportError:
            raise TreeError(
                "srcgrad needs optree to differentiate with respect to containers (dict, "
                f"list, tuple, namedtuple, dataclass): {_INSTALL}") from None
        with _LOCK:
            if _ordered is None:
                # dicts flatten in insertion order in srcgrad's namespace, set once for good
                # (entering optree's context on every call cost more than the flattening;
                # the context is kept referenced: closing it would restore sorted order)
                _ordered = lib.dict_insertion_ordered(True, namespace=NAMESPACE)
                _ordered.__enter__()
                atexit.register(_ordered.__exit__, None, None, None)    # (closed in time)
        _optree = lib
    return _optree


def available() -> bool:
    """Is optree installed (and so containers flattened)?"""
    if _optree is not None:
        return True
    try:
        _lib()
    except TreeError:
        return False
    return True


def is_container(x: Any) -> bool:
    """Is ``x`` a pytree node (not a leaf)?  Cheap for arrays and numbers."""
    if isinstance(x, _BUILTIN):
        return True
    kind = type(x)
    if kind in _registered:
        return True
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return True
    if _optree is None:
        return False
    return not _optree.tree_is_leaf(x, none_is_leaf=False, namespace=NAMESPACE) \
        and not _has_dtype(x)


def _has_dtype(x: Any) -> bool:
    return hasattr(x, "dtype") and hasattr(x, "shape")


def _dataclass_flatten(obj: Any) -> tuple:
    names = tuple(f.name for f in dataclasses.fields(obj))
    # (the stored values, as unflatten stores them: not through a __getattribute__ hook)
    return tuple(object.__getattribute__(obj, n) for n in names), names, names


def _dataclass_unflatten(cls: type) -> Callable[[Any, Any], Any]:
    def unflatten(names: tuple, children: Any) -> Any:
        # rebuilt field by field, without running __init__ or __post_init__ again (they ran
        # when the user made the instance; they may not accept Tensors), frozen ones too
        obj = object.__new__(cls)
        for n, v in zip(names, children, strict=True):
            object.__setattr__(obj, n, v)
        return obj
    return unflatten


def _note(x: Any) -> bool:
    """``is_leaf`` hook: registers a dataclass's type the first time one is met."""
    kind = type(x)
    if kind in _SEEN:
        return False
    if len(_SEEN) < 4096:
        _SEEN.add(kind)     # (cheap for the types met again: arrays, dicts, floats)
    if kind not in _registered and dataclasses.is_dataclass(x) and not isinstance(x, type):
        with _LOCK:
            if kind not in _registered:
                try:
                    _lib().register_pytree_node(kind, _dataclass_flatten,
                                                _dataclass_unflatten(kind),
                                                namespace=NAMESPACE)
                except ValueError:      # registered by the user already
                    pass
                else:
                    DATACLASSES.add(kind)
                _registered.add(kind)
    return False


def register(cls: type, flatten: Callable[[Any], tuple[Any, Any]],
             unflatten: Callable[[Any, Any], Any]) -> type:
    """Make ``cls`` a container: ``flatten(x) -> (children, aux)``,
    ``unflatten(aux, children) -> x``. Returns ``cls`` (usable as a decorator helper)."""
    lib = _lib()
    with _LOCK:
        lib.register_pytree_node(cls, lambda x: tuple(flatten(x)), unflatten,
                                 namespace=NAMESPACE)
        _registered.add(cls)
    return cls


def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, Any]:
    """``(leaves, treedef)``: leaves in order (dicts in insertion order), and the structure.
    ``is_leaf(x)`` may stop the flattening at some containers (they become leaves)."""
    stop = _note if is_leaf is None else (lambda x: _note(x) or is_leaf(x))
    return _lib().tree_flatten(tree, is_leaf=stop, namespace=NAMESPACE)


def unflatten(treedef: Any, leaves: Any) -> Any:
    """The tree of structure ``treedef`` holding ``leaves``."""
    return _lib().tree_unflatten(treedef, list(leaves))


def same_structure(a: Any, b: Any) -> bool:
    """Do ``a`` and ``b`` have one structure (dicts compared by their keys, in any order)?"""
    try:
        parts = structure(a).flatten_up_to(b)
    except (ValueError, TypeError):
        return False
    return not any(is_container(p) for p in parts)


def leaves(tree: Any) -> list:
    """The leaves of ``tree``, in :func:`flatten`'s order."""
    return flatten(tree)[0]


def structure(tree: Any) -> Any:
    """The treedef of ``tree``."""
    return flatten(tree)[1]


def map(f: Callable[..., Any], tree: Any, *rest: Any,
        is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``f`` applied leaf by leaf; ``rest`` are trees with ``tree``'s structure (or a
    structure of which ``tree``'s is a prefix). ``None`` entries (gradients of
    constant leaves) pass through unchanged; ``is_leaf`` as for :func:`flatten`."""
    values, treedef = flatten(tree, is_leaf)
    others = [treedef.flatten_up_to(r) for r in rest]
    out = [v if any(o[i] is None for o in others) else f(v, *(o[i] for o in others))
           for i, v in enumerate(values)]
    return unflatten(treedef, out)


def leaf_kind(leaf: Any) -> bool | None:
    """How a transform takes ``leaf``: True, differentiated (a floating-point or complex
    number or array); False, held constant (integers, booleans, strings, and arrays of
    them); None, neither (not a number: a bad leaf)."""
    if type(leaf) is np.ndarray:        # (the common case first)
        kind = leaf.dtype.kind
        return True if kind in "fc" else False if kind in "biuSU" else None
    if isinstance(leaf, (bool, int, str, bytes)):
        return False
    if isinstance(leaf, (float, complex)):
        return True
    dtype = getattr(leaf, "dtype", None)
    if dtype is None:
        return None
    try:
        kind = np.dtype(dtype).kind
    except TypeError:       # another library's dtype
        return bool(getattr(dtype, "is_floating_point", False) or
                    getattr(dtype, "is_complex", False))
    return True if kind in "fc" else False if kind in "biuSU" else None


def differentiable(leaf: Any) -> bool:
    """Is ``leaf`` a floating-point or complex number or array (not a constant)?"""
    return leaf_kind(leaf) is True


def ravel(tree: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``(vector, unravel)``: the floating-point leaves of ``tree`` as one flat vector, and
    the function taking such a vector back to a tree (constant leaves kept as they are).

    ``ravel(grads)[0]`` lines up with ``ravel(params)[0]`` for gradients of ``params``,
    which is what ``scipy.optimize.minimize(fun, x0, jac=True)`` needs.
    """
    values, treedef = flatten(tree)
    picked = [i for i, v in enumerate(values) if v is not None and differentiable(v)]
    shapes = [np.shape(values[i]) for i in picked]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    kinds = [type(values[i]) for i in picked]
    dtypes = [np.result_type(values[i]) for i in picked]
    dtype = np.result_type(*dtypes) if dtypes else np.float64
    vector = np.concatenate([np.ravel(np.asarray(values[i], dtype=dtype)) for i in picked]) \
        if picked else np.zeros(0, dtype)

    def unravel(flat: np.ndarray) -> Any:
        flat = np.asarray(flat)
        if flat.shape != (sum(sizes),):
            raise ValueError(f"unravel expects a vector of shape ({sum(sizes)},), got "
                             f"{flat.shape}")
        out, start = list(values), 0
        for i, shape, size, kind, dt in zip(picked, shapes, sizes, kinds, dtypes, strict=True):
            piece = flat[start:start + size].reshape(shape).astype(dt, copy=True)
            out[i] = kind(piece) if kind in (float, complex) else piece
            start += size
        return unflatten(treedef, out)

    return vector, unravel


def path_of(tree: Any, index: int, root: str) -> str:
    """How leaf ``index`` of ``tree`` is written in code: ``params["enc"][1]``."""
    accessors, _, _ = _lib().tree_flatten_with_accessor(tree, is_leaf=_note,
                                                        namespace=NAMESPACE)
    return accessors[index].codify(root).replace("'", '"')
