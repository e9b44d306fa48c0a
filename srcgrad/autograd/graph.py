"""The backward graph: nodes, AccumulateGrad, hooks and the backward engine.

Each recorded operation creates a node named as PyTorch names it
(``MulBackward0``); its ``next_functions`` point at the nodes that produced
its inputs, ``(None, 0)`` marking constants, and leaves end in
``AccumulateGrad`` nodes whose ``variable`` is the leaf tensor itself.

Gradients travel through the engine as plain NumPy arrays.  With
``create_graph=True`` they travel as Tensors instead and the rules run with
grad mode on, so the backward pass is itself recorded.
"""

from __future__ import annotations

import dis
import itertools
import threading
import weakref
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .. import collector
from ..runtime import is_complex
from . import anomaly, forward_ad, grad_mode, saved
from .saved import (  # noqa: F401 - PyTorch's torch.autograd.graph names
    allow_mutation_on_saved_tensors,
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)

# Bound by srcgrad.autograd.tensor once the Tensor class exists (the two modules
# need each other; binding avoids an import on every call).
Tensor: Any = None

__all__ = ["Node", "RuleNode", "AccumulateGrad", "RemovableHandle", "node_class", "run_backward",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "allow_mutation_on_saved_tensors", "register_multi_grad_hook"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Any) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Node:
    """A backward function in the graph (PyTorch's ``grad_fn`` objects)."""

    __slots__ = ("next_functions", "n_outputs", "_pre_hooks", "_post_hooks",
                 "_tensor_pre_hooks", "_metadata", "_seq", "_plain", "__weakref__")

    # A node whose backward raises (a stale view's): a restricted pass runs it wherever
    # it is reached, so a gradient that depends on it is refused, never left out.
    _refuses = False

    def name(self) -> str:
        """The node's class name, e.g. ``"AddBackward0"``."""
        return type(self).__name__

    @property
    def metadata(self) -> dict:
        """A free dict for user annotations, as in PyTorch."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    @property
    def requires_grad(self) -> bool:
        return True

    def register_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        self._plain = False
        return RemovableHandle(self._post_hooks, hook)

    def register_prehook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        self._plain = False
        return RemovableHandle(self._pre_hooks, hook)

    def _add_tensor_pre_hook(self, output_nr: int, hook: Callable[..., Any],
                             like: Any = 0.0) -> RemovableHandle:
        """``hook(grad)`` for output ``output_nr``, whose value ``like`` (its dtype) sets the
        convention of the gradient it sees (:func:`user_grad`)."""
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = []
        self._plain = False
        entry = (output_nr, hook, like)
        self._tensor_pre_hooks.append(entry)
        return RemovableHandle(self._tensor_pre_hooks, entry)

    def __call__(self, *grad_outputs: Any) -> Any:
        grads = self.apply(tuple(g._a if isinstance(g, Tensor) else g for g in grad_outputs),
                           False)
        wrapped = tuple(None if g is None else Tensor._wrap(g) for g in grads)
        return wrapped[0] if len(wrapped) == 1 else wrapped

    def apply(self, grad_outputs: tuple, create_graph: bool) -> tuple:  # pragma: no cover
        raise NotImplementedError

    def _release(self) -> None:
        """Free saved values after a backward pass that does not retain the graph."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {"next_functions", "metadata"})

    def _register_hook_dict(self, tensor: Any) -> None:
        """Present for PyTorch compatibility; hooks are kept on the node itself."""

    def _output_dtype(self, nr: int) -> Any:
        """The dtype of output ``nr``, which sets the convention of the gradient a hook
        sees there (:func:`user_grad`); None when unknown."""
        return None


_sequence = itertools.count()


def _init_node(node: Node, next_functions: tuple, n_outputs: int = 1) -> None:
    node.next_functions = next_functions
    node.n_outputs = n_outputs
    # Creation order; a node must be numbered after the nodes it points to.
    node._seq = next(_sequence)
    node._plain = False
    node._pre_hooks = None
    node._post_hooks = None
    node._tensor_pre_hooks = None
    node._metadata = None
    if _ANOMALY.enabled:
        node._metadata = {"traceback_": anomaly.forward_traceback()}


_ANOMALY = anomaly.STATE


# ---------------------------------------------------------------------------
# Rule nodes: one class per PyTorch name, all running rules from the registry.

_NODE_CLASSES: dict[str, type] = {}


def node_class(name: str, base: type | None = None) -> type:
    """The node class called ``name`` (made once, then reused)."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        base = base or RuleNode
        cls = type(name, (base,), {"__slots__": (), "__module__": "srcgrad.autograd.graph"})
        _NODE_CLASSES[name] = cls
    return cls


_USES_CACHE: dict[Any, frozenset] = {}


def parameters_used(fn: Callable[..., Any]) -> frozenset:
    """Names of ``fn``'s parameters that its body reads (all of them when unsure)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return frozenset({"*"})
    cached = _USES_CACHE.get(code)
    if cached is not None:
        return cached
    params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    used: set[str] = set()
    for ins in dis.get_instructions(code):
        if ins.opname.startswith("LOAD_FAST") or ins.opname in ("LOAD_DEREF", "LOAD_CLOSURE"):
            vals = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
            used.update(vals)
    if code.co_flags & 0x0C:  # *args or **kwargs: be conservative
        used.add("*")
    result = frozenset(n for n in used if n in params or n == "*")
    _USES_CACHE[code] = result
    return result


class RuleNode(Node):
    """A node whose VJPs come from a rule in the registry."""

    # (_fw_ans: the tangents of the saved outputs at the open forward-AD level; set only
    # there, see forward_ad._attach)
    __slots__ = ("_rule", "_args", "_raw", "_kwargs", "_ans", "_ans_vc", "_saved", "_inputs",
                 "_freed", "_packed", "_out_dtype", "_fw_ans")

    def __getattr__(self, name: str) -> Any:
        # grad_fn._saved_self, ._saved_result, ._raw_saved_other... (see autograd/saved.py)
        for prefix, raw in (("_saved_", False), ("_raw_saved_", True)):
            if name.startswith(prefix):
                if self._freed:
                    raise RuntimeError(FREED_MESSAGE)
                slot = saved.saved_names(self).get(name[len(prefix):])
                if slot is not None:
                    if raw:
                        return saved.SavedTensor(self, slot)
                    value = saved.saved_value(self, slot)
                    if name.endswith("_other") and type(value) in (bool, int, float, complex):
                        # a Python number operand is a wrapped 0-d tensor in PyTorch
                        return Tensor._wrap(np.asarray(value))
                    return value
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self) -> list[str]:
        names = saved.saved_names(self) if not self._freed else {}
        return sorted((set(super().__dir__()) - {"_saved"}) | {f"_saved_{n}" for n in names}
                      | {f"_raw_saved_{n}" for n in names if names[n] < 0
                         or isinstance(self._args[names[n]], Tensor) or names[n] in
                         (self._packed or {})})

    def apply(self, grad_outputs: tuple, create_graph: bool) -> tuple:
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._packed is not None:
            return self._apply_unpacked(grad_outputs, create_graph)
        saved = self._saved
        if saved is not None:
            for tensor, version in saved:
                vc = tensor._vc
                if vc is not None and vc.value != version:
                    raise RuntimeError(_modified_message(tensor, version))
        if self._ans_vc is not None and self._ans_vc[0].value != self._ans_vc[1]:
            self._check_versions()
        ans = self._ans
        if self.n_outputs == 1:
            g = grad_outputs[0]
        elif ans is None:  # a list output (np.split): its rule takes None for unused pieces
            g = list(grad_outputs)
        else:
            g = tuple(_zeros_like_output(a) if gi is None else gi
                      for gi, a in zip(grad_outputs, ans, strict=True))
        kwargs = self._kwargs
        if create_graph:
            args = self._args
            if ans is not None:
                ans = Tensor._output_view(ans, self)
        else:
            args = self._raw
            if kwargs:
                for v in kwargs.values():  # (constant keywords, as axis=1, stay as they are)
                    if isinstance(v, _MAY_HOLD_TENSORS):
                        kwargs = {k: _raw(v) for k, v in kwargs.items()}
                        break
        vjps = self._rule.vjps
        inputs = self._inputs
        if len(inputs) == 1 and inputs[0][1] < 0:  # the common cases, spelled out for speed
            return (vjps[inputs[0][0]](g, ans, *args, **kwargs),)
        if not kwargs:
            if len(inputs) == 2 and inputs[0][1] < 0 and inputs[1][1] < 0:
                p, q = inputs[0][0], inputs[1][0]
                return (None if p < 0 else vjps[p](g, ans, *args),
                        None if q < 0 else vjps[q](g, ans, *args))
        results: list[Any] = []
        per_pos: dict[int, Any] = {}
        for pos, k in inputs:
            if pos < 0:  # a constant input listed for PyTorch parity
                results.append(None)
            elif k < 0:
                results.append(vjps[pos](g, ans, *args, **kwargs))
            else:
                gi = per_pos.get(pos)
                if gi is None:
                    gi = per_pos[pos] = vjps[pos](g, ans, *args, **kwargs)
                results.append(gi[k])
        return tuple(results)

    def _output_dtype(self, nr: int) -> Any:
        dtype = self._out_dtype
        return dtype[nr] if type(dtype) is tuple else dtype

    def _apply_unpacked(self, grad_outputs: tuple, create_graph: bool) -> tuple:
        """``apply`` with the values saved-tensor hooks packed, unpacked for this call."""
        packed, kept = self._packed, (self._args, self._raw, self._ans)
        self._args, self._raw, self._ans = saved.unpacked(self)
        self._packed = None
        try:
            return self.apply(grad_outputs, create_graph)
        finally:
            if not self._freed:
                self._packed = packed
                self._args, self._raw, self._ans = kept

    def _check_versions(self) -> None:
        saved = self._saved
        if saved:
            for tensor, version in saved:
                if tensor._version != version:
                    raise RuntimeError(_modified_message(tensor, version))
        if self._ans_vc is not None and self._ans_vc[0].value != self._ans_vc[1]:
            vc, version = self._ans_vc
            if isinstance(vc, OutputVersions):
                i, array, vc, version = vc.changed()
            else:
                i, array = 0, self._ans
            # (an integer output, as max's indices, is not an output of the node: unnamed)
            whose = (f", which is output {i} of {_forward_name(self)},"
                     if np.asarray(array).dtype.kind in "fc" else "")
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_string(array)} {list(np.shape(array))}]{whose} is "
                f"at version {vc.value}; expected version {version} instead. Hint: the tensor "
                "was changed in place after it was saved for backward; use an out-of-place "
                "operation or .clone() it first."
            )

    def _release(self) -> None:
        self._freed = True
        self._packed = None
        self._args = None
        self._raw = None
        self._kwargs = None
        self._ans = None
        self._saved = None


def _zeros_like_output(a: Any) -> Any:
    """The zero cotangent of an unused output; one per array of a nested sequence output
    (np.histogramdd's bin edges, whose lengths may differ)."""
    if isinstance(a, (list, tuple)):
        return type(a)(np.zeros_like(e) for e in a)
    return np.zeros_like(a)


_MAY_HOLD_TENSORS = (list, tuple)  # with Tensor once it is bound (see _raw)


def _raw(a: Any) -> Any:
    if isinstance(a, Tensor):
        return a._a
    if isinstance(a, (list, tuple)) and a and any(isinstance(x, Tensor) for x in a):
        return type(a)(x._a if isinstance(x, Tensor) else x for x in a)
    return a


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}


def _type_string(array: Any) -> str:
    name = np.asarray(array).dtype.name
    return "srcgrad." + _TYPE_NAMES.get(name, name.capitalize() + "Tensor")


class OutputVersions:
    """The version counters of a node's several outputs (``max(x, dim)``'s values and
    indices), each its own, as in PyTorch.  ``value`` changes when an output the node's
    VJPs read changes in place: changing one they do not read is allowed."""

    __slots__ = ("counters", "read", "arrays")

    def __init__(self, counters: tuple, read: tuple, arrays: tuple) -> None:
        self.counters = counters
        self.read = read
        self.arrays = arrays

    @property
    def value(self) -> int:
        counters = self.counters
        return sum(counters[i].value for i in self.read)

    def changed(self) -> tuple:
        """``(index, array, counter, saved version)`` of the first read output changed."""
        for i in self.read:
            if self.counters[i].value:
                return i, self.arrays[i], self.counters[i], 0
        raise AssertionError("no output changed")  # pragma: no cover


def _forward_name(node: Any) -> str:
    """The operation a node records, as PyTorch's messages name it (``Exp`` for
    ``ExpBackward0``)."""
    name = type(node).__name__
    stem = name.rstrip("0123456789")
    return stem[: -len("Backward")] if stem.endswith("Backward") and stem != "Backward" else name


def _modified_message(tensor: Any, version: int) -> str:
    fn = tensor.grad_fn
    whose = f", which is output {tensor._output_nr} of {_forward_name(fn)}," if fn else ""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{_type_string(tensor._a)} {list(tensor._a.shape)}]{whose} is at version "
        f"{tensor._version}; expected version {version} instead. Hint: the tensor was changed "
        "in place after it was saved for backward; use an out-of-place operation or .clone() it "
        "first."
    )


class AccumulateGrad(Node):
    """The end of the graph for a leaf: adds incoming gradients to ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        _init_node(self, ())
        self.variable = variable
        # The engine's hot path skips hook handling for a plain node; a hook
        # registered later on the tensor clears this (Tensor.register_hook).
        self._plain = variable._hooks is None

    def _output_dtype(self, nr: int) -> Any:
        return self.variable._a.dtype

    def apply(self, grad_outputs: tuple, create_graph: bool) -> tuple:
        var = self.variable
        # (in a backward pass grad mode is on exactly when it creates a graph; without
        # one, .grad gets no tangent, as in PyTorch)
        var._accumulate(grad_outputs[0], create_graph and grad_mode._state.enabled)
        hooks = var._post_accumulate_hooks
        if hooks:
            for hook in list(hooks):
                hook(var)
        return ()


def make_rule_node(cls: type, rule: Any, args: tuple, raw: tuple, kwargs: dict,
                   next_functions: tuple, inputs: tuple, ans: Any, ans_vc: Any,
                   saved: tuple | None, ans_list: list | None = None,
                   n_outputs: int | None = None, out: Any = None) -> RuleNode:
    """Create a node of class ``cls`` (see :func:`node_class`) running ``rule``'s VJPs.

    ``n_outputs`` is the call's number of outputs when its arguments choose it; ``out``
    the call's result, whose dtypes only are kept (for hooks: ``_output_dtype``).
    """
    node = cls()
    node.next_functions = next_functions
    # A primitive returning a list (np.split) has one output per element.
    if n_outputs is None:
        n_outputs = len(ans_list) if ans_list is not None else rule.outputs
    node.n_outputs = n_outputs
    node._seq = next(_sequence)
    node._plain = n_outputs == 1
    node._pre_hooks = None
    node._post_hooks = None
    node._tensor_pre_hooks = None
    node._metadata = None
    node._rule = rule
    node._args = args
    node._raw = raw
    node._kwargs = kwargs
    node._ans = ans
    node._ans_vc = ans_vc
    node._saved = saved
    node._inputs = inputs
    node._freed = False
    node._packed = None
    node._out_dtype = out.dtype if type(out) is np.ndarray else _dtypes_of(out)
    if _ANOMALY.enabled:
        node._metadata = {"traceback_": anomaly.forward_traceback()}
    return node


def _dtypes_of(out: Any) -> Any:
    """A call's result's dtype, or one per item of a tuple or list result."""
    if type(out) in (tuple, list):
        return tuple(getattr(o, "dtype", None) for o in out)
    return getattr(out, "dtype", None)


# ---------------------------------------------------------------------------
# The engine.

def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _wrap_all(grads: tuple) -> tuple:
    return tuple(None if g is None else (g if isinstance(g, Tensor) else Tensor._wrap(g))
                 for g in grads)


def _unwrap_all(grads: Any, create_graph: bool) -> tuple:
    if create_graph:
        return tuple(grads)
    return tuple(g._a if isinstance(g, Tensor) else g for g in grads)


def run_backward(
    roots: list[tuple[Node, int, Any]],
    retain_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
    targets: set | None = None,
) -> dict:
    """Propagate gradients from ``roots`` (node, output index, gradient) to the leaves.

    Nodes run in decreasing creation order: every consumer of a node was
    created after it, so when a node is popped all of its gradient has
    arrived.  With ``capture`` (a dict keyed by ``(node, output_nr)``),
    gradients arriving at those places are recorded there (``autograd.grad``);
    with ``targets`` (nodes), only those run at the end of the pass
    (``backward(inputs=...)``).  Either way, as in PyTorch, only the nodes on
    a path to a captured place or a target run: the graph behind a captured
    non-leaf is neither run nor freed, and hooks there do not fire.
    """
    needed = reach = None
    if capture is not None or targets is not None:
        needed = _needed_nodes([r[0] for r in roots], capture, targets)
        # a captured node is reached (its gradient is taken) but runs only when needed
        reach = needed | {node for node, _ in capture} if capture else needed
        roots = [r for r in roots if r[0] in reach]
    buffers: dict[Node, list] = {}
    heap: list[tuple[int, Node]] = []
    outer_pass = _PASS.current
    _PASS.current = BackwardPass([r[0] for r in roots], reach)
    for node, idx, grad in roots:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
            heappush(heap, (-node._seq, node))
        buf[idx] = _add(buf[idx], grad)

    state = grad_mode._state
    prev_mode = state.enabled
    state.enabled = bool(create_graph)
    # Inside a forward-AD level the rules run on tensors, so that the gradients get the
    # tangents of what they are computed from (forward-over-reverse); grad mode, which
    # stays create_graph during the pass, says whether that is recorded.
    create_graph = create_graph or (forward_ad.OPEN[0] and not forward_ad.through_tangents(roots))
    plain = capture is None and not create_graph and not _ANOMALY.enabled
    # The sweep creates many short-lived objects and no reference cycles, so the
    # cyclic collector would only rescan the (possibly huge) graph over and over.
    try:
        with collector.paused():
            while heap:
                node = heappop(heap)[1]
                buf = buffers.pop(node)
                if plain and node._plain:
                    grads = node.apply(buf, False)  # the hot path: nothing to intercept
                elif _ANOMALY.enabled:
                    grads = anomaly.run_checked(
                        node, lambda: _run_node(node, buf, create_graph, capture, needed))
                    if grads is None:
                        continue
                else:
                    grads = _run_node(node, buf, create_graph, capture, needed)
                    if grads is None:  # captured, and nothing behind it is needed: not run
                        continue
                if not retain_graph:
                    node._release()
                for (nxt, idx), g in zip(node.next_functions, grads, strict=False):
                    if nxt is None or g is None or (needed is not None and nxt not in reach):
                        continue
                    nbuf = buffers.get(nxt)
                    if nbuf is None:
                        if nxt.n_outputs == 1:
                            buffers[nxt] = [g]
                        else:
                            buffers[nxt] = _slot(nxt, idx, g)
                        heappush(heap, (-nxt._seq, nxt))
                    else:
                        old = nbuf[idx]
                        nbuf[idx] = g if old is None else old + g
    finally:
        state.enabled = prev_mode
        _PASS.current = outer_pass
    return capture if capture is not None else {}


class BackwardPass:
    """The backward pass running in this thread: which nodes it will run (worked out
    only when asked, by ``register_multi_grad_hook``)."""

    __slots__ = ("roots", "reach")

    def __init__(self, roots: list, reach: set | None) -> None:
        self.roots = roots
        self.reach = reach

    def will_run(self, node: Node) -> bool:
        if self.reach is None:
            seen: set = set()
            stack = list(self.roots)
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(nxt for nxt, _ in n.next_functions if nxt is not None)
            self.reach = seen
        return node in self.reach


class _PassState(threading.local):
    current: BackwardPass | None = None


_PASS = _PassState()


def _slot(node: Node, idx: int, g: Any) -> list:
    buf = [None] * node.n_outputs
    buf[idx] = g
    return buf


def _needed_nodes(starts: list, capture: dict | None, targets: set | None) -> set:
    """The nodes reachable from ``starts`` that lead to a captured place or a target
    (targets included): the only ones a restricted pass runs."""
    goals = {node for node, _ in capture} if capture else set()
    seen: set = set()
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    needed: set = set()
    # a node's next functions were created before it: in creation order, they come first
    for node in sorted(seen, key=_creation):
        if (targets is not None and node in targets) or node._refuses or any(
                nxt is not None and (nxt in needed or nxt in goals)
                for nxt, _ in node.next_functions):
            needed.add(node)
    return needed


def _creation(node: Node) -> int:
    return node._seq


def _run_node(node: Node, buf: list, create_graph: bool, capture: dict | None,
              needed: set | None = None) -> tuple | None:
    if isinstance(node, AccumulateGrad) and node.variable._hooks:
        like = node.variable._a
        for hook in list(node.variable._hooks):
            out = hook(_wrap_all((user_grad(buf[0], like),))[0])
            if out is not None:
                buf[0] = cotangent(_unwrap_all((out,), create_graph)[0])
    if node._tensor_pre_hooks:
        # retain_grad's hook is kept last so it sees the final gradient
        for output_nr, hook, like in sorted(node._tensor_pre_hooks, key=_retain_last):
            g = buf[output_nr]
            if g is None:
                continue
            out = hook(_wrap_all((user_grad(g, like),))[0])
            if out is not None:
                buf[output_nr] = cotangent(_unwrap_all((out,), create_graph)[0])
    if capture is not None:
        hit = False
        for i in range(node.n_outputs):
            key = (node, i)
            if key in capture:
                capture[key] = _add(capture[key], buf[i])
                hit = True
        if hit and (needed is None or node not in needed):
            return None
    if all(g is None for g in buf):
        return (None,) * len(node.next_functions)
    if node._pre_hooks:
        # (hooks see PyTorch's convention, gradients travel in the rules': see user_grad)
        kinds = tuple(node._output_dtype(i) for i in range(len(buf)))
        for hook in list(node._pre_hooks):
            out = hook(_wrap_all(_user_grads(buf, kinds)))
            if out is not None:
                buf = list(_cotangents(_unwrap_all(out, create_graph)))
    if capture is not None and isinstance(node, AccumulateGrad):
        return ()
    if not create_graph:
        buf = [g._a if isinstance(g, Tensor) else g for g in buf]
    else:
        buf = [_as_tensor(g) for g in buf]
    grads = node.apply(tuple(buf), create_graph)
    if node._post_hooks:
        kinds = tuple(node._output_dtype(i) for i in range(len(buf)))
        inputs = tuple(None if nxt is None else nxt._output_dtype(nr)
                       for nxt, nr in node.next_functions)
        for hook in list(node._post_hooks):
            out = hook(_wrap_all(_user_grads(grads, inputs)),
                       _wrap_all(_user_grads(buf, kinds)))
            if out is not None:
                grads = _cotangents(_unwrap_all(out, create_graph))
    return grads


def _user_grads(grads: Any, dtypes: tuple) -> tuple:
    """:func:`user_grad` of each gradient, for slots of ``dtypes`` (None: unknown, taken
    as complex when the gradient is)."""
    return tuple(g if g is None or not is_complex(g) else
                 np.real(g) if d is not None and d.kind != "c" else np.conj(g)
                 for g, d in zip(grads, dtypes, strict=False))


def _cotangents(grads: Any) -> tuple:
    return tuple(cotangent(g) for g in grads)


def user_grad(g: Any, like: Any) -> Any:
    """A cotangent of ``like`` (JAX's convention, which the rules use) as PyTorch's gradient.

    PyTorch's gradient of a complex value is the conjugate, and a real value's is
    real (the cotangent of a real value may carry an imaginary part inside the sweep:
    see :func:`srcgrad.runtime.real_cotangent`).
    """
    if g is None or not is_complex(g):
        return g
    return np.conj(g) if is_complex(like) else np.real(g)


def cotangent(g: Any) -> Any:
    """A gradient in PyTorch's convention (a user's) as the cotangent the rules take."""
    return np.conj(g) if g is not None and is_complex(g) else g


def _retain_last(entry: tuple) -> int:
    return 1 if getattr(entry[1], "_retains_grad", False) else 0


def _as_tensor(g: Any) -> Any:
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._wrap(g)


def release_graph(root: Node) -> None:
    """Drop every saved value reachable from ``root`` (used by tests and ``del``)."""
    stack, seen = [root], {root}
    while stack:
        node = stack.pop()
        node._release()
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)


def weak(obj: Any) -> Any:
    return weakref.ref(obj)


from .multi_hook import register_multi_grad_hook  # noqa: E402 - it needs this module's classes
