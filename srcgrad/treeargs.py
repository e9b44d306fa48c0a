"""Container arguments at the transforms' boundary: spread into leaves, gathered back.

A transform called with a pytree in a differentiated position differentiates
:class:`TreeFunction`, ``fun`` taking the leaves of those trees as separate
arguments, once per structure (:attr:`Spread.key`). The source engine
transforms it from ``fun``'s own source (``compiler.trees``), the tape runs
it: it rebuilds the trees from the leaves and calls ``fun``. Gradients come
back as trees of the same structure, ``None`` at constant leaves.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

from . import tree

__all__ = ["Plan", "Spread", "TreeFunction", "spread", "has_tree"]


def has_tree(args: tuple, argnums: tuple[int, ...]) -> bool:
    """Is one of the differentiated arguments a container (to be spread into leaves)?

    Without optree, a plain list or tuple of floating-point arrays and floats is not
    spread: both engines differentiate such a sequence argument as they are, item by
    item (its gradient is a list or tuple of the items' gradients, as when spread).
    """
    for i in argnums:
        if i < len(args) and tree.is_container(args[i]) and not _native_sequence(args[i]):
            return True
    return False


def _native_sequence(x: Any) -> bool:
    return type(x) in (list, tuple) and len(x) > 0 \
        and all(tree.leaf_kind(v) is True for v in x) and not tree.available()


class TreeFunction:
    """``fun`` with the trees at ``trees`` (``(position, treedef, leaf count)``) spread.

    Calling it rebuilds the trees (fresh containers: ``fun`` never changes the
    caller's) and calls ``fun``; the source engine reads :attr:`fun` and
    :attr:`trees` and transforms ``fun``'s source for that structure.
    """

    def __init__(self, fun: Callable[..., Any], trees: tuple) -> None:
        try:    # (weakly: kept per function in a weak dictionary, it must not keep it alive)
            ref = weakref.ref(fun)
            self._fun = ref
        except TypeError:
            self._fun = lambda: fun
        self.trees = trees
        self.positions = frozenset(position for position, _, _ in trees)
        signature = _spread_signature(fun, trees)
        if signature is not None:
            self.__signature__ = signature
        self.__name__ = getattr(fun, "__name__", "f")
        self.__qualname__ = getattr(fun, "__qualname__", self.__name__)
        self.__module__ = getattr(fun, "__module__", None)

    @property
    def fun(self) -> Callable[..., Any]:
        """The function whose container arguments are spread (alive while called)."""
        return self._fun()

    def rebuild(self, flat: tuple) -> list:
        args: list = []
        at = 0
        for position, treedef, count in self.trees:
            while len(args) < position:
                args.append(flat[at])
                at += 1
            args.append(tree.unflatten(treedef, flat[at:at + count]))
            at += count
        args.extend(flat[at:])
        return args

    def __call__(self, *flat: Any, **kwargs: Any) -> Any:
        args = self.rebuild(flat)
        from .autograd.tensor import Tensor

        if any(isinstance(x, Tensor) for x in flat):
            # on the tape: lists of Tensors that NumPy functions stack (as NumPy does arrays)
            from .autograd.transforms import tape_sequences

            args = [tape_sequences(a) if i in self.positions else a
                    for i, a in enumerate(args)]
        return self.fun(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self.__qualname__} with its tree arguments spread>"


def _spread_signature(fun: Callable[..., Any], trees: tuple) -> inspect.Signature | None:
    """``fun``'s signature with one positional parameter per leaf of each spread tree (the
    compiler binds call sites to it)."""
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    counts = {position: count for position, _, count in trees}
    taken = {p.name for p in params}
    out = []
    for i, p in enumerate(params):
        if i not in counts:
            out.append(p)
            continue
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            return None
        for k in range(counts[i]):
            leaf = f"{p.name}_leaf{k}"
            while leaf in taken:
                leaf += "_"
            taken.add(leaf)
            out.append(p.replace(name=leaf, default=p.empty))
    try:
        return signature.replace(parameters=out)
    except ValueError:
        return None


class Plan:
    """What a call with one tree structure needs, made once per structure: the leaves'
    ``argnums``, per differentiated argument ``(treedef, slots)`` (or None for a plain
    one), the :class:`TreeFunction`, and ``key`` (the structure)."""

    __slots__ = ("argnums", "groups", "function", "key", "inner")

    def __init__(self, argnums: tuple, groups: list, function: TreeFunction,
                 key: tuple) -> None:
        self.argnums = argnums
        self.groups = groups
        self.function = function
        self.key = key
        self.inner: Any = None      # what the owner of the plans made for the structure


class Spread:
    """One call's arguments with their trees spread: ``args`` and its :class:`Plan`
    (``argnums``, ``groups``, ``function`` and ``key`` read through)."""

    __slots__ = ("args", "plan")

    def __init__(self, args: tuple, plan: Plan) -> None:
        self.args = args
        self.plan = plan

    @property
    def argnums(self) -> tuple:
        return self.plan.argnums

    @property
    def key(self) -> tuple:
        return self.plan.key

    @property
    def groups(self) -> list:
        return self.plan.groups

    @property
    def function(self) -> TreeFunction:
        return self.plan.function

    def gather(self, values: Any) -> list:
        """Per-leaf results (one per entry of ``argnums``) as one per original argument."""
        out, at = [], 0
        args, argnums = self.args, self.plan.argnums
        for group in self.plan.groups:
            if group is None:
                out.append(values[at])
                at += 1
                continue
            treedef, slots = group
            leaves = []
            for slot in slots:
                if slot:
                    leaves.append(_like(values[at], args[argnums[at]]))
                    at += 1
                else:
                    leaves.append(None)
            out.append(treedef.unflatten(leaves))
        return out

    def scatter(self, values: tuple) -> tuple:
        """Per-argument trees (tangents shaped like the primals) as per-leaf values."""
        flat = []
        for group, value in zip(self.groups, values, strict=True):
            if group is None:
                flat.append(value)
                continue
            treedef, slots = group
            leaves, other = tree.flatten(value)
            if other != treedef:
                raise ValueError(f"a tangent has structure {other}, but its primal has "
                                 f"structure {treedef}")
            flat.extend(v for v, slot in zip(leaves, slots, strict=True) if slot)
        return tuple(flat)


def _like(value: Any, primal: Any) -> Any:
    """A Python float leaf's gradient as a Python float (as for a float argument)."""
    if type(primal) is float and type(value) is not float and getattr(value, "ndim", 1) == 0 \
            and type(value).__module__ == "numpy":
        return float(value)
    return value


def spread(fun: Callable[..., Any], args: tuple, argnums: tuple[int, ...],
           plans: dict | None = None) -> Spread:
    """Spread the container arguments among ``argnums``; bad leaves are named by path.

    ``plans`` (kept by the caller, per function) holds the :class:`Plan` of each
    structure met: a call with a known structure only flattens its trees and marks
    their leaves.
    """
    flat: list = []
    key: list = []
    for i, x in enumerate(args):
        if i not in argnums or not tree.is_container(x):
            flat.append(x)
            continue
        leaves, treedef = tree.flatten(x)
        key.append((i, treedef, tuple(tree.leaf_kind(leaf) for leaf in leaves)))
        flat.extend(leaves)
    structure = (tuple(key), len(args))
    plan = plans.get(structure) if plans is not None else None
    if plan is None:
        plan = _plan(fun, args, argnums, structure)
        if plans is not None:
            if len(plans) >= 64:
                plans.clear()
            plans[structure] = plan
    return Spread(tuple(flat), plan)


def _plan(fun: Callable[..., Any], args: tuple, argnums: tuple[int, ...],
          structure: tuple) -> Plan:
    """The :class:`Plan` for the structure ``spread`` found (refusing bad leaves)."""
    where: dict[int, list[int]] = {}     # original position -> differentiated flat positions
    slots: dict[int, tuple] = {}
    layout = []
    trees = {i: (treedef, marks) for i, treedef, marks in structure[0]}
    at = 0
    for i, x in enumerate(args):
        if i not in trees:
            where[i] = [at]
            at += 1
            continue
        treedef, marks = trees[i]
        if None in marks:
            k = marks.index(None)
            raise TypeError(_bad_leaf(fun, x, i, k, tree.flatten(x)[0][k]))
        where[i] = [at + k for k, m in enumerate(marks) if m]
        slots[i] = (treedef, marks)
        at += len(marks)
        layout.append((i, treedef, len(marks)))
    new_argnums: list[int] = []
    for i in argnums:
        new_argnums.extend(where.get(i, [at + i - len(args)]))
    groups = [slots.get(i) for i in argnums]
    return Plan(tuple(new_argnums), groups, tree_function(fun, tuple(layout)), structure)


# fun -> {layout: its TreeFunction}: one per structure, so that what is kept per function
# (a warning given once, the Hessian-vector product's code) is kept per structure
_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def tree_function(fun: Callable[..., Any], layout: tuple) -> TreeFunction:
    """``fun`` with the containers at ``layout`` spread, one object per structure."""
    with _LOCK:
        try:
            kept = _FUNCTIONS.setdefault(fun, {})
        except TypeError:       # no weak reference to it
            return TreeFunction(fun, layout)
        made = kept.get(layout)
        if made is None:
            if len(kept) >= 64:
                kept.clear()
            made = kept[layout] = TreeFunction(fun, layout)
        return made


def _bad_leaf(fun: Any, root: Any, position: int, index: int, leaf: Any) -> str:
    name = _parameter_name(fun, position)
    path = tree.path_of(root, index, name)
    return (f"{path} is a {type(leaf).__name__}, not a float or an array of floats; srcgrad "
            f"differentiates trees of numbers only (register {type(leaf).__name__} with "
            "srcgrad.tree.register if it is a container, or take it out of the argument)")


def _parameter_name(fun: Any, position: int) -> str:
    try:
        params = [p.name for p in inspect.signature(fun).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[position] if position < len(params) else f"args[{position}]"
