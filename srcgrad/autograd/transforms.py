"""Function transforms (grad, vjp) carried out on the tape.

``srcgrad.grad(f, engine="tape")`` lands here: the differentiated
arguments become Tensors, ``f`` runs unchanged (NumPy calls reach the tape
through the array protocols), and the recorded graph is walked backwards.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..outputs import is_tree
from . import functional, grad_mode
from .engine import grad as tape_grad
from .graph import cotangent as from_user_convention
from .tensor import Tensor, unwrap
from .typechecks import check_type_tests

__all__ = ["tape_vjp", "tape_functional", "to_tensor_input", "from_tensor", "numpy_code",
           "recording", "any_live"]


def to_tensor_input(value: Any) -> Tensor:
    """A differentiated argument as a leaf Tensor (float dtype kept; Python float -> float64)."""
    if isinstance(value, Tensor):
        array = value.detach()._a
    else:
        array = np.asarray(value)
    t = Tensor._wrap(np.array(array, copy=True))
    t._rg = True
    return t


def from_tensor(value: Any) -> Any:
    """Tensors (also inside tuples/lists/dicts) back to NumPy arrays (0-d as NumPy scalars)."""
    if isinstance(value, Tensor):
        a = value._a
        if isinstance(a, np.ndarray) and a.ndim == 0:
            return a[()]
        return a
    if isinstance(value, tuple):
        items = [from_tensor(v) for v in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    if isinstance(value, list):
        return [from_tensor(v) for v in value]
    if isinstance(value, dict):
        return {k: from_tensor(v) for k, v in value.items()}
    from .. import tree

    if tree.is_container(value):        # a dataclass or a registered container
        return tree.map(from_tensor, value)
    return value


class _Stackable:
    """A list or tuple argument on the tape, of leaf Tensors.

    It behaves as the list it stands for in Python code (``len``, ``append``,
    ``+``, slices); NumPy functions and ufuncs, which would turn a list into an
    array, get the stacked Tensor instead, so that the gradient flows through.
    """

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)  # type: ignore[misc]
        return type(self)(item) if isinstance(index, slice) else item

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return getattr(ufunc, method)(*_stacked(inputs), **kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        return func(*_stacked(args), **dict(zip(kwargs, _stacked(tuple(kwargs.values())),
                                                strict=True)))


class _TapeList(_Stackable, list):
    pass


class _TapeTuple(_Stackable, tuple):
    pass


_SEQUENCES = {list: _TapeList, tuple: _TapeTuple}


def tape_sequences(x: Any) -> Any:
    """``x`` with its lists and tuples (through dicts, lists and tuples) as the tape's own,
    which NumPy functions stack, as NumPy stacks a list of arrays."""
    kind = type(x)
    if kind in _SEQUENCES:
        return _SEQUENCES[kind](tape_sequences(v) for v in x)
    if kind is dict:
        return {k: tape_sequences(v) for k, v in x.items()}
    return x


def _stacked(values: tuple) -> tuple:
    from .namespace import stack

    return tuple(stack(list(v)) if isinstance(v, _Stackable) else v for v in values)


def _output_pairs(out: Any, cotangent: Any) -> list:
    """``[(output item, its cotangent)]``, item by item through the output's containers
    (tuples, lists, dicts, dataclasses...: a pytree output takes a cotangent of its
    structure; generated code's adjoints may leave out entries, which get none)."""
    if isinstance(out, dict):
        if not isinstance(cotangent, dict):
            raise ValueError(f"the cotangent of an output that is a dict must be a dict, got "
                             f"{type(cotangent).__name__}")
        return [p for k, o in out.items() for p in _output_pairs(o, cotangent.get(k))]
    if isinstance(out, (tuple, list)):
        if isinstance(cotangent, dict):     # generated code's {index: cotangent}
            cotangent = [cotangent.get(k) for k in range(len(out))]
        if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(out):
            raise ValueError(f"the cotangent of an output that is a {type(out).__name__} of "
                             f"{len(out)} items must be a tuple or list of {len(out)} items")
        return [p for o, c in zip(out, cotangent, strict=True) for p in _output_pairs(o, c)]
    if cotangent is None:
        return []
    if not isinstance(out, Tensor) and out is not None:
        from .. import tree

        if tree.is_container(out):      # a dataclass or a registered container
            children, treedef = tree.flatten(out)
            return [p for o, c in zip(children, treedef.flatten_up_to(cotangent), strict=True)
                    for p in _output_pairs(o, c)]
    return [(out, cotangent)]


def _zeros_like_input(x: Any) -> Any:
    if isinstance(x, float):
        return 0.0
    return np.zeros_like(np.asarray(x))


def _cast_like(g: Any, x: Any) -> Any:
    """A gradient array in the form of its primal: float for float, same dtype for arrays."""
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return float(np.asarray(g))
    if type(x) is complex:
        return complex(np.asarray(g))
    a = np.asarray(g)
    dtype = np.asarray(x).dtype
    if a.dtype != dtype:
        a = a.astype(dtype)
    if isinstance(x, np.generic):
        return a[()]
    return a


# How many tape runs of user code are in progress, in all threads: the steady-state
# source-engine call reads only this, the per-thread flag only when it is not zero.
RUNS = [0]
_RUNS_LOCK = threading.Lock()


class numpy_code:
    """Context in which the tape runs a user's NumPy function (see ``grad_mode``)."""

    def __enter__(self) -> None:
        self._previous = grad_mode._state.numpy_code
        grad_mode._state.numpy_code = True
        with _RUNS_LOCK:
            RUNS[0] += 1

    def __exit__(self, *exc: object) -> None:
        grad_mode._state.numpy_code = self._previous
        with _RUNS_LOCK:
            RUNS[0] -= 1


def recording() -> bool:
    """True while this thread's tape runs a user's function.

    A transform called then is nested inside one the tape is computing: its
    results must stay Tensors on that tape, differentiable again (create_graph),
    or the outer derivative would see constants.
    """
    return RUNS[0] > 0 and grad_mode._state.numpy_code


def _live(x: Any) -> bool:
    return isinstance(x, Tensor) and x._rg


def _flat(value: Any) -> list:
    """The leaves of a (nested) tuple or list, in order."""
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _flat(v)]
    return [value]


def any_live(value: Any) -> bool:
    """Whether a value (or a leaf of a tuple or list) is a Tensor that requires grad."""
    return any(_live(v) for v in _flat(value))


def _enter(x: Any, nested: bool) -> Tensor:
    """A differentiated argument as the transform's own input.

    Nested, a Tensor of the outer computation gets a node of its own (a recorded
    copy): the inner derivative is taken at that node and the outer one flows
    through it, so a transform never mistakes an outer variable for its input
    (``grad(lambda x: grad(lambda y: x * y)(x))`` is 1, not 2).
    """
    if nested and _live(x):
        with grad_mode.enable_grad():
            return x.clone()
    return to_tensor_input(x)


def _as_tensors(value: Any) -> Any:
    """A function's result for the functional transforms: what does not depend on the
    inputs (a constant, a plain array) becomes a Tensor that needs no gradient."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_as_tensors(v) for v in value)
    return Tensor._wrap(np.asarray(value))


def tape_functional(transform: Callable[..., Any], fun: Callable[..., Any], args: tuple,
                    argnums: tuple[int, ...], *extra: Any, check: str = "") -> Any:
    """Apply a ``srcgrad.autograd.functional`` transform to NumPy function ``fun``.

    A pytree output (a dict, a namedtuple, nested containers) is differentiated leaf by
    leaf and the result rebuilt in its structure; ``check`` names the transform whose
    output checks run on each result (``"jacobian"``).
    The arguments in ``argnums`` become the transform's inputs, the others stay
    fixed; ``extra`` (tangent vectors) is converted to Tensors; results come
    back as NumPy arrays, or as Tensors on the outer tape when the transform is
    nested in one the tape computes (see :func:`recording`).
    """
    nested = recording() or any(_live(args[i]) for i in argnums) or any_live(extra)
    structure: list = []        # a pytree output's treedef: its leaves are the outputs

    def partial(*inputs: Any) -> Any:
        call = list(args)
        for i, t in zip(argnums, inputs, strict=True):
            call[i] = t
        with numpy_code():
            result = fun(*call)
        if check or result is None or isinstance(result, (str, bytes)):
            from ..outputs import check_array_output

            kind = check or getattr(transform, "__name__", "a transform")
            check_array_output(kind, getattr(fun, "__qualname__", None) or repr(fun),
                               from_tensor(result))
        if is_tree(result):
            from .. import tree

            leaves, treedef = tree.flatten(result)
            # (integer leaves have no tangent: a float zero stands for them here)
            kept = {i: v for i, v in enumerate(leaves) if not _float_leaf(v)}
            structure[:] = [treedef, kept]
            result = tuple(np.zeros(np.shape(v)) if i in kept else v
                           for i, v in enumerate(leaves))
        return _as_tensors(result)

    check_type_tests(fun, argnums)
    inputs = tuple(args[i] if nested and _live(args[i]) else to_tensor_input(args[i])
                   for i in argnums)
    vectors = tuple(
        tuple(v if _live(v) else Tensor._wrap(np.asarray(unwrap(v), dtype=x._a.dtype))
              for v, x in zip(vec, inputs, strict=True)) for vec in extra
    )
    result = transform(partial, inputs, *vectors, create_graph=nested)
    if structure:       # back in the output's structure: [output leaf] -> the output tree
        from .. import tree
        from ..outputs import integer_tangents

        treedef, kept = structure
        rebuild = functools.partial(tree.unflatten, treedef)
        if transform is functional.jvp:
            out = rebuild([kept.get(i, o) for i, o in enumerate(result[0])])
            result = (out, integer_tangents(out, rebuild(result[1])))
        else:
            result = rebuild(result)
    return result if nested else from_tensor(result)


def _float_leaf(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value._a.dtype.kind in "fc"
    from ..tree import differentiable

    return differentiable(value)



def tape_vjp(fun: Callable[..., Any], args: tuple, kwargs: dict, argnums: tuple[int, ...],
             has_aux: bool) -> tuple[Any, Any, Callable[[Any], tuple]]:
    """Run ``fun`` on the tape: ``(out, aux, pullback)``; ``pullback(ct)`` gives one cotangent
    per entry of ``argnums``, shaped and typed like that argument.

    ``out`` may be a (nested) tuple or list of arrays, ``ct`` then has its structure.
    Nested in a computation the tape records (or given Tensors that require grad),
    everything stays on the tape and the pullback builds its own graph, so that the
    result can be differentiated again, also with respect to the cotangent.
    """
    call_args = list(args)
    leaves = []
    nested = recording() or any(any_live(args[i]) for i in argnums)

    def leaf_of(x: Any) -> Any:
        # a list or tuple argument stays one, of leaves: the function sees what it was
        # given (it may append to it, take its len, concatenate it)
        if type(x) in (list, tuple):
            return _SEQUENCES[type(x)](leaf_of(v) for v in x)
        leaf = _enter(x, nested)
        leaves.append(leaf)
        return leaf

    check_type_tests(fun, argnums)
    for i in argnums:
        call_args[i] = leaf_of(args[i])
    try:
        with grad_mode.enable_grad(), numpy_code():
            result = fun(*call_args, **kwargs)
    except ValueError as err:
        if "setting an array element with a sequence" not in str(err):
            raise
        raise RuntimeError(
            f"{getattr(fun, '__qualname__', fun)} stores a value that needs a gradient into a "
            "plain NumPy array (e.g. one made with np.zeros), which cannot hold it on "
            "srcgrad's tape. Build the result with np.stack/np.concatenate, or differentiate "
            "with engine='source', which supports item assignment."
        ) from err
    aux = None
    if has_aux:
        from ..outputs import check_aux_pair

        check_aux_pair(getattr(fun, "__qualname__", None) or repr(fun), result)
        result, aux = result
        aux = aux if nested else from_tensor(aux)
    out = result

    def pullback(cotangent: Any) -> tuple:
        graph = nested or recording() or any_live(cotangent)
        return _pull(out, cotangent, leaves, [args[i] for i in argnums], graph)

    return (out if nested else from_tensor(out)), aux, pullback


def _pull(out: Any, cotangent: Any, leaves: list, primals: list, graph: bool) -> tuple:
    """The pullback of :func:`tape_vjp`: ``graph`` records it for another derivative."""
    # a tuple or list output: each item that needs a gradient gets its cotangent
    roots, seeds = [], []
    for o, ct in _output_pairs(out, cotangent):
        if not _live(o):
            continue
        if not (graph and isinstance(ct, Tensor)):
            ct = np.asarray(unwrap(ct), dtype=o._a.dtype)
        if np.shape(ct) != o._a.shape:
            ct = np.broadcast_to(ct, o._a.shape)
        roots.append(o)
        seeds.append(from_user_convention(ct))     # (tape_grad takes PyTorch's conjugate)
    grads: tuple = (None,) * len(leaves)
    if roots:
        grads = tape_grad(tuple(roots), leaves, tuple(seeds), retain_graph=True,
                          allow_unused=True, create_graph=graph)
    flat = iter(zip(grads, leaves, strict=True))

    def rebuild(x: Any) -> Any:
        if type(x) in (list, tuple):
            return type(x)(rebuild(v) for v in x)
        g, leaf = next(flat)
        if g is not None:
            g = from_user_convention(g)     # (back from PyTorch's convention to JAX's)
        if graph:
            return Tensor._wrap(np.zeros_like(leaf._a)) if g is None else g
        return _zeros_like_input(x) if g is None else _cast_like(g._a, x)

    return tuple(rebuild(x) for x in primals)
