"""Saved tensors: ``grad_fn._saved_*``, and the hooks that pack and unpack them.

``srcgrad.autograd.graph.saved_tensors_hooks(pack, unpack)`` calls ``pack(t)``
for every tensor a node saves while the context is active and keeps only what
``pack`` returns; ``backward`` calls ``unpack`` on it each time the value is
needed.  A node saves the tensors whose *values* its VJPs read (those read for
their shape only are not packed, as PyTorch keeps only sizes there), in the
order PyTorch saves them, and its output when a VJP reads it (``_saved_result``).

The unpacked value is re-attached where the saved tensor was in the graph, so
``create_graph=True`` differentiates through it whatever the hooks return.
PyTorch stops checking versions once hooks are involved; srcgrad still refuses a
saved tensor changed in place when the unpacked value shares its memory (the
hooks kept the tensor itself), so a gradient never silently uses changed values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

# Bound by srcgrad.autograd.tensor (mutual dependency).
Tensor: Any = None

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "allow_mutation_on_saved_tensors", "SavedTensor"]

# How many hook contexts are open in any thread: the tape's hot path reads only this.
ACTIVE = [0]


class _HookState(threading.local):
    def __init__(self) -> None:
        self.stack: list = []
        self.disabled: str | None = None


_state = _HookState()


def current_hooks() -> tuple | None:
    """The innermost ``(pack, unpack)`` of this thread, or None."""
    return _state.stack[-1] if _state.stack else None


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Context manager: ``pack_hook(tensor)`` runs when a tensor is saved for backward,
    ``unpack_hook(packed)`` when it is needed again; unpack must give a tensor."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _state.disabled is not None:
            raise RuntimeError(_state.disabled)
        _state.stack.append((self.pack_hook, self.unpack_hook))
        ACTIVE[0] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        _state.stack.pop()
        ACTIVE[0] -= 1


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """PyTorch moves saved tensors to CPU memory; srcgrad's are there already, so this
    keeps them as they are (``pin_memory`` and ``device_type`` are accepted)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_keep, _keep)


def _keep(t: Any) -> Any:
    return t


@contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside, opening ``saved_tensors_hooks`` raises ``RuntimeError(error_message)``;
    entering while hooks are open raises it too (PyTorch's behaviour)."""
    if _state.stack:
        raise RuntimeError(error_message)
    previous = _state.disabled
    _state.disabled = error_message
    try:
        yield
    finally:
        _state.disabled = previous


# (PyTorch's text, word for word: it lacks the space after "context")
MUTATION_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                    "in which the graph was originally recorded.")


class _MutationContext(saved_tensors_hooks):
    """Saved tensors are copied when saved, so changing the originals in place later is
    harmless; ``backward`` must run inside the context (PyTorch's rule)."""

    def __init__(self) -> None:
        self.closed = False
        super().__init__(self._copy, self._restore)

    def _copy(self, t: Any) -> Any:
        return np.array(t._a, copy=True)

    def _restore(self, copy: Any) -> Any:
        if self.closed:
            raise AssertionError(MUTATION_OUTSIDE)
        return Tensor._wrap(copy)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.closed = True


def allow_mutation_on_saved_tensors() -> _MutationContext:
    """Context manager allowing in-place changes of tensors saved for backward."""
    return _MutationContext()


# ---------------------------------------------------------------------------
# Packing and unpacking one saved value.

class Packed:
    """A saved tensor after its pack hook: the hook's result, the unpack hook, and what
    is needed to put the unpacked value back in the graph and check its version."""

    __slots__ = ("value", "unpack", "fn", "output_nr", "rg", "acc", "vc", "version", "span",
                 "label")

    def __init__(self, t: Any, pack: Callable[[Any], Any], unpack: Callable[[Any], Any]) -> None:
        self.fn, self.output_nr, self.rg, self.acc = t._fn, t._output_nr, t._rg, t._acc
        self.vc, self.version = t._version_counter(), t._version
        self.span = _span(t._a)
        self.label = (t._a.dtype, t._a.shape)
        self.unpack = unpack
        self.value = pack(t)

    def tensor(self, node: Any = None) -> Any:
        """Unpack: the hook's tensor, attached where the saved one was in the graph
        (``node``: the saved value is that node's output)."""
        out = self.unpack(self.value)
        if not isinstance(out, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(out).__name__}")
        array = out._a
        if self.vc is not None and self.vc.value != self.version and _overlaps(array, self.span):
            from .graph import _type_string

            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_string(np.empty(0, self.label[0]))} "
                f"{list(self.label[1])}] is at version {self.vc.value}; expected version "
                f"{self.version} instead. Hint: the saved-tensor hooks kept the tensor itself, "
                "so its in-place change reaches backward; copy it in the pack hook, or .clone() "
                "it first."
            )
        if node is not None:
            return Tensor._make(array, node, self.output_nr)
        t = Tensor._wrap(array)
        if self.rg:
            t._fn, t._output_nr, t._rg, t._acc = self.fn, self.output_nr, True, self.acc
        return t


def _span(a: Any) -> tuple:
    a = np.asarray(a)
    lo = a.__array_interface__["data"][0]
    return lo, lo + a.nbytes


def _overlaps(a: Any, span: tuple) -> bool:
    lo, hi = _span(a)
    return lo < span[1] and span[0] < hi or (lo == span[0] and hi == span[1])


def pack_rule_node(node: Any, output: Any) -> None:
    """Pack what ``node`` (just recorded, with result ``output``) saved, through the
    innermost hooks: its value-read inputs in PyTorch's order, then its output."""
    hooks = current_hooks()
    if hooks is None:
        return
    pack, unpack = hooks
    packed: dict = {}
    checked = {id(t) for t, _ in node._saved or ()}
    for pos in saved_positions(node):
        t = node._args[pos]
        if isinstance(t, Tensor) and id(t) in checked and pos not in packed:
            packed[pos] = Packed(t, pack, unpack)
    if node._ans_vc is not None and isinstance(output, Tensor) and node.n_outputs == 1:
        packed[-1] = Packed(output, pack, unpack)
    if not packed:
        return
    node._packed = packed
    # packed inputs are no longer held nor version-checked here (see Packed.tensor)
    gone = [node._args[pos] for pos in packed if pos >= 0]
    node._saved = tuple((t, v) for t, v in node._saved or ()
                        if not any(t is g for g in gone)) or None
    args, raw = list(node._args), list(node._raw)
    for pos in packed:
        if pos >= 0:
            args[pos] = raw[pos] = None
    node._args, node._raw = tuple(args), tuple(raw)
    if -1 in packed:
        node._ans, node._ans_vc = None, None


def saved_positions(node: Any) -> list:
    """The argument positions ``node``'s active VJPs read, in the order PyTorch saves
    them: for each input in turn, what its derivative formula reads."""
    from ..rules.source import structural_params
    from .graph import parameters_used

    order: list = []
    rule = node._rule
    for pos in sorted({p for p, _ in node._inputs if p >= 0}):
        vjp = rule.vjps[pos]
        code = getattr(vjp, "__code__", None)
        if code is None:
            return list(range(len(node._args)))
        used = parameters_used(vjp)
        shape_only = structural_params(vjp)  # read for their shape: saved last, unpacked
        for i, name in enumerate(code.co_varnames[2:code.co_argcount]):
            if (name in used or "*" in used) and name not in shape_only \
                    and i < len(node._args) and i not in order:
                order.append(i)
    return order


def unpacked(node: Any) -> tuple:
    """``(args, raw, ans)`` of a node with packed values, unpacked for one use."""
    args, raw, ans = list(node._args), list(node._raw), node._ans
    for pos, p in node._packed.items():  # in the order they were saved, as PyTorch
        if pos >= 0:
            t = p.tensor()
            args[pos], raw[pos] = t, t._a
        else:
            ans = p.tensor(node)._a
    return tuple(args), tuple(raw), ans


# ---------------------------------------------------------------------------
# grad_fn._saved_<name> and grad_fn._raw_saved_<name>

_SECOND_NAME = {"Pow": "exponent", "Mm": "mat2", "Mv": "vec", "Dot": "tensor", "Bmm": "mat2"}


def saved_names(node: Any) -> dict:
    """``{name: slot}`` of what ``node`` saved: ``self``/``other`` (or PyTorch's name for
    the operation) for inputs, ``result`` for the output (slot -1)."""
    if node._args is None and not node._packed:
        return {}
    stem = type(node).__name__.rstrip("0123456789").removesuffix("Backward")
    second = _SECOND_NAME.get(stem, "other")
    names = {}
    checked = {id(t) for t, _ in node._saved or ()}
    packed = node._packed or {}
    for pos in saved_positions(node):
        value = node._args[pos]
        tensor_saved = pos in packed or (isinstance(value, Tensor) and id(value) in checked)
        if not tensor_saved and (value is None or isinstance(value, Tensor)):
            continue  # read for its shape only, or not saved
        names[("self", second)[pos] if pos < 2 else f"arg{pos}"] = pos
    if -1 in packed or (node._ans_vc is not None and node.n_outputs == 1):
        names["result"] = -1
    return names


def saved_value(node: Any, slot: int) -> Any:
    """What ``grad_fn._saved_<name>`` returns: the saved tensor (the input itself, or a
    tensor equal to the output with ``grad_fn`` the node), or a saved number."""
    from .graph import FREED_MESSAGE

    if node._freed:
        raise RuntimeError(FREED_MESSAGE)
    packed = (node._packed or {}).get(slot)
    if packed is not None:
        return packed.tensor(node if slot < 0 else None)
    if slot < 0:
        return Tensor._make(node._ans, node, 0)
    return node._args[slot]


class SavedTensor:
    """``grad_fn._raw_saved_<name>``: one saved tensor, whose hooks can be set."""

    __slots__ = ("_node", "_slot")

    def __init__(self, node: Any, slot: int) -> None:
        self._node, self._slot = node, slot

    def register_hooks(self, pack_hook: Callable[[Any], Any],
                       unpack_hook: Callable[[Any], Any]) -> None:
        """Pack this saved tensor now with ``pack_hook``; ``unpack_hook`` gives it back."""
        from .graph import FREED_MESSAGE

        node, slot = self._node, self._slot
        if node._freed:
            raise RuntimeError(FREED_MESSAGE)
        if slot in (node._packed or {}):
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already "
                               "been set. Hint: only one pair of hooks is allowed at a time.")
        t = saved_value(node, slot)
        packed = dict(node._packed or {})
        # (the hook sees the data without its graph, as in PyTorch; unpacking re-attaches it)
        packed[slot] = Packed(t, lambda t: pack_hook(t.detach()), unpack_hook)
        node._packed = packed
        if slot >= 0:
            args, raw = list(node._args), list(node._raw)
            args[slot] = raw[slot] = None
            node._args, node._raw = tuple(args), tuple(raw)
            node._saved = tuple((s, v) for s, v in node._saved or () if s is not t) or None
        else:
            node._ans, node._ans_vc = None, None

    def __repr__(self) -> str:
        return f"<srcgrad.autograd.SavedTensor object at {hex(id(self))}>"
