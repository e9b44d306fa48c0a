"""The pipeline: parse -> normalize -> analyze -> reverse -> optimize -> emit, and its cache."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from .. import collector
from ..identity import nested_codes
from ..rules import registry
from ..runtime import as_gradient, zeros_like
from ..treeargs import TreeFunction
from . import cache, inline, support, variants
from .analyze import Activity, analyze, reanalyze, scalar_closed, scalar_names, target_names
from .emit import compile_module, finish_statements, to_source
from .forward import ForwardSweep
from .names import Namer, Namespace
from .normalize import (
    NormalizedFunction,
    assign,
    clone,
    const,
    copy_statements,
    name,
    name_nodes,
    nodes_of,
    normalize,
    statements,
    store,
)
from .optimize import Index, release_saved_values
from .parse import MISSING, bind_receiver, parse_function
from .reverse import Read, ReverseSweep, _Marker
from .sweep import LIVE, ZERO
from .trees import spread_parameters
from .wrappers import unwrapped

__all__ = ["Compiled", "compile_function", "set_untransformable_call_handler"]


@dataclass
class Compiled:
    """A transformed function: ``function`` to call, ``source`` to read."""

    function: Callable[..., Any]
    source: str
    name: str = ""
    filename: str = ""
    mode: str = "grad"
    argnums: tuple = ()
    namespace: dict = field(default_factory=dict, repr=False)
    pullback: Callable[..., Any] | None = None    # vjp: ``pullback(cotangent, saved)``
    # an internal vjp: for each differentiated argument, is its cotangent never None?
    live_grads: tuple = ()

    def __repr__(self) -> str:
        return f"<Compiled {self.mode} of {self.name} argnums={self.argnums}>"


# Mixed mode: a strategy that differentiates a call the compiler cannot transform.
# ``handler(fun, argnums, error, mode)`` returns, for mode ``"vjp"``, a callable
# ``vjp(*args, **kwargs) -> (out, pullback)``, for mode ``"jvp"`` a callable
# ``jvp(*tangents, *args, **kwargs) -> (out, tangent)``, or re-raises ``error``.
# ``None`` (the default) re-raises.
_UNTRANSFORMABLE_CALL_HANDLER: Callable[..., Any] | None = None


def set_untransformable_call_handler(
    handler: Callable[..., Any] | None,
) -> Callable[..., Any] | None:
    """Install the strategy used when a called user function cannot be transformed.

    Returns the strategy it replaces, so a caller can put it back.
    """
    global _UNTRANSFORMABLE_CALL_HANDLER
    previous = _UNTRANSFORMABLE_CALL_HANDLER
    _UNTRANSFORMABLE_CALL_HANDLER = handler
    return previous


# the file name under which generated derivative code is registered (see ``_Builder.build``)
_DERIVATIVE_CODE = re.compile(r"<srcgrad (grad|vjp|jvp) of ")
# Transforms in progress, by key: a recursive call gets the placeholder, filled in when
# its transform is done.  Only the thread holding ``cache.LOCK`` ever sees it.
_PENDING: dict[tuple, Compiled] = {}
# (key, entry) stored while a transform is in progress: a failed transform removes
# what was stored after it started (it may call the failed placeholder)
_JOURNAL: list[tuple[tuple, Any]] = []
_DEPTH = [0]        # nested compile_function calls (callees) under way


class _Entry:
    """A cached transform: how to make its generated functions for a function's values.

    ``code`` is the compiled module of generated functions, ``template`` the
    namespace it runs in, less the arrays bound by value (``rebind``: name ->
    where the function holds it) and the callees' derivatives (``callees``),
    which each use binds afresh.  A refusal keeps its ``error`` instead.
    ``strict`` entries bound an array they cannot bind again: they are rebuilt
    when the arrays change.
    """

    def __init__(self, pins: list) -> None:
        self.pins = pins                  # what the key names by id, kept alive
        self.users: dict[int, Any] = {}   # weak references to the functions using it
        self.immortal = False
        self.error: Exception | None = None
        self.proto: Compiled | None = None
        self.code: Any = None
        self.template: dict = {}
        self.rebind: dict[str, tuple] = {}
        self.callees: dict[str, tuple] = {}
        self.live_grads: dict[str, tuple] = {}   # pullback name -> the results code relies on
        self.entry_name = ""
        self.pullback_name = ""
        self.strict = False
        self.last: Any = None             # weak reference to the last Compiled made
        self.last_idents: tuple = ()
        self.rules: tuple = ()            # the rule templates its code inlined

    def current(self, idents: tuple) -> Compiled | None:
        compiled = self.last() if self.last is not None else None
        return compiled if compiled is not None and self.last_idents == idents else None

    def remember(self, compiled: Compiled, idents: tuple) -> None:
        self.last = weakref.ref(compiled)
        self.last_idents = idents


def clear_cache() -> None:
    """Forget every cached transform and refusal."""
    cache.clear()


def compile_function(fun: Any, argnums: tuple, mode: str, has_aux: bool = False,
                     internal: bool = False, tangent_index: int | None = None) -> Compiled:
    """The cached transform of ``fun`` (``mode`` is ``"grad"``, ``"vjp"`` or ``"jvp"``).

    Thread-safe; a refusal is cached and raised again (the same ``TransformError``).
    """
    as_source = getattr(fun, "source_function", None)
    if callable(as_source) and not isinstance(fun, type):
        # a srcgrad transform: its generated code, never the function it wraps
        plain = as_source()
        if plain is None:
            from ..errors import TransformError

            code = getattr(getattr(fun, "fun", None), "__code__", None)
            raise TransformError(
                f"{getattr(fun, '__name__', 'a transform')}, a srcgrad transform with no "
                "generated code to differentiate (has_aux, or it runs on the tape)",
                'Differentiate the original function instead, or use engine="tape".',
                code.co_filename if code else "<unknown>", code.co_firstlineno if code else 0)
        fun = plain
    trees = ()
    if isinstance(fun, TreeFunction):
        # containers spread into leaves: ``fun``'s own source, rewritten for their structure
        fun, trees = fun.fun, fun.trees
    # a decorator's wrapper is looked through only where it provably forwards
    fun = unwrapped(fun)
    # (a transform allocates some hundred thousand short-lived objects, syntax trees and
    # analysis facts, and leaves no cycles among them: see _Builder.release)
    with cache.LOCK, collector.paused():
        _DEPTH[0] += 1
        try:
            return _cached(fun, tuple(argnums), mode, has_aux, internal, tangent_index, trees)
        finally:
            _DEPTH[0] -= 1
            if not _DEPTH[0]:
                _JOURNAL.clear()


def _cached(fun: Any, argnums: tuple, mode: str, has_aux: bool, internal: bool,
            tangent_index: int | None, trees: tuple = ()) -> Compiled:
    found = cache.state(fun)
    # (``trees``: the structure of each container argument, dict key order included)
    key = (argnums, mode, has_aux, internal, tangent_index, _UNTRANSFORMABLE_CALL_HANDLER,
           registry.GENERATION[0], found.facts, trees)
    pending = _PENDING.get(key)
    if pending is not None:
        return pending
    entry = cache.lookup(key)
    if entry is not None and not all(map(inline.is_current, entry.rules)):
        entry = None        # an inlined rule reads a global rebound since: build again
    if entry is not None:
        cache.watch(key, entry, found.anchors)
        if entry.error is not None:
            raise entry.error.with_traceback(None)
        compiled = entry.current(found.idents)
        if compiled is not None:
            return compiled
        if not entry.strict:
            bound = _bind(key, entry, fun, found.idents)
            if bound is not None:
                return bound
    return _build(key, found, fun, argnums, mode, has_aux, internal, tangent_index, trees)


def _build(key: tuple, found: Any, fun: Any, argnums: tuple, mode: str, has_aux: bool,
           internal: bool, tangent_index: int | None, trees: tuple = ()) -> Compiled:
    from ..errors import TransformError

    placeholder = Compiled(function=None, source="", name=getattr(fun, "__name__", "f"),
                           mode=mode, argnums=argnums)
    entry = _Entry(found.pins)
    _PENDING[key] = placeholder
    mark = len(_JOURNAL)
    builder = _Builder(fun, argnums, mode, has_aux, internal, tangent_index, trees)
    inlined: list = []
    inline.RECORDING.append(inlined)
    try:
        compiled = builder.build()
    except BaseException as error:
        _forget_since(mark)
        if isinstance(error, TransformError):
            entry.error = error
            cache.store(key, entry, found.anchors)
        raise
    finally:
        _PENDING.pop(key, None)
        # (by identity: two lists of the same templates are equal)
        del inline.RECORDING[next(i for i, r in enumerate(inline.RECORDING) if r is inlined)]
    entry.rules = tuple({id(t): t for t in inlined}.values())
    for item in dataclasses.fields(Compiled):
        setattr(placeholder, item.name, getattr(compiled, item.name))
    _bind_proxies(placeholder)
    variants.own(placeholder)
    builder.fill(entry, placeholder)
    builder.release()
    entry.remember(placeholder, found.idents)
    cache.store(key, entry, found.anchors)
    _JOURNAL.append((key, entry))
    return placeholder


def _forget_since(mark: int) -> None:
    for key, entry in _JOURNAL[mark:]:
        cache.remove(key, entry)
    del _JOURNAL[mark:]


def _bind(key: tuple, entry: _Entry, fun: Any, idents: tuple) -> Compiled | None:
    """Run a cached transform's code for ``fun``'s current arrays and callees (None when
    a callee's pullback may now give ``None`` where the code relies on a value)."""
    namespace = dict(entry.template)
    for ident, where in entry.rebind.items():
        namespace[ident] = _held_value(fun, where)
    compiled = dataclasses.replace(entry.proto, namespace=namespace)
    _PENDING[key] = compiled
    mark = len(_JOURNAL)
    try:
        for fn_name, (pb_name, callee, argnums, mode) in entry.callees.items():
            fn, pullback, live = _callee_functions(callee, argnums, mode)
            relied = entry.live_grads.get(pb_name, ())
            if any(r and not (k < len(live) and live[k]) for k, r in enumerate(relied)):
                _forget_since(mark)
                return None
            namespace[fn_name] = fn
            if pb_name is not None:
                namespace[pb_name] = pullback
        _note_proxies(namespace)
        exec(entry.code, namespace)
    except BaseException:
        _forget_since(mark)
        raise
    finally:
        _PENDING.pop(key, None)
    compiled.function = namespace[entry.entry_name]
    compiled.pullback = namespace.get(entry.pullback_name) if entry.pullback_name else None
    _bind_proxies(compiled)
    variants.own(compiled)
    entry.remember(compiled, idents)
    return compiled


def _held_value(fun: Any, where: tuple) -> Any:
    """The value ``fun`` holds at ``where``: a global, a closure cell or a default."""
    kind, place = where
    if kind == "global":
        return fun.__globals__[place]
    if kind == "closure":
        return fun.__closure__[fun.__code__.co_freevars.index(place)].cell_contents
    if kind == "default":
        return fun.__defaults__[place]
    return fun.__kwdefaults__[place]


def _callee_functions(callee: Any, argnums: tuple, mode: str) -> tuple[Any, Any, tuple]:
    """A callee's derivative for generated code: ``(vjp, pullback, live)`` or
    ``(jvp, None, ())``; ``live[k]`` says the pullback's cotangent for ``argnums[k]`` is
    never ``None`` (so that the caller needs no ``is None`` test for it).

    A callee still being transformed (recursion) is called through a proxy; one the
    compiler refuses runs as the untransformable-call strategy says.
    """
    from ..errors import GeneratedCodeError, TransformError

    try:
        compiled = compile_function(callee, argnums, mode, internal=True)
    except TransformError as error:
        handler = _UNTRANSFORMABLE_CALL_HANDLER
        if handler is None or isinstance(error, GeneratedCodeError) \
                or getattr(error, "changes_argument", False) or isinstance(callee, TreeFunction) \
                or mode == "jvp" and _DERIVATIVE_CODE.match(
                    getattr(getattr(callee, "__code__", None), "co_filename", "")):
            # (a callee changing its caller's list cannot run on the tape, nor one given
            # containers: on the tape it gets containers of its own, which may change;
            # nor generated derivative code in forward mode: it takes saved values,
            # tuples holding pullbacks, which the tape cannot differentiate)
            raise
        # (the tape's pullback gives zeros, never None, for an argument it did not reach)
        return handler(callee, argnums, error, mode), (
            None if mode == "jvp" else support.call_pullback), (True,) * len(argnums)
    fn = compiled.function if compiled.function is not None else _Proxy(compiled)
    pullback = None if mode == "jvp" else (
        compiled.pullback if compiled.pullback is not None else _Proxy(compiled, "pullback"))
    if getattr(compiled, "recursive", False):   # entering a finished recursion
        label = getattr(callee, "__name__", "f")
        fn = _guard_depth(fn, label)
        pullback = None if pullback is None else _guard_depth(pullback, label)
    return fn, pullback, compiled.live_grads    # (empty while a recursion is in progress)


def _note_proxies(namespace: dict) -> None:
    """Tell the transforms in progress which names of ``namespace`` call them by proxy."""
    for ident, value in namespace.items():
        if isinstance(value, _Proxy):
            sites = value.compiled.__dict__.setdefault("proxy_sites", [])
            sites.append((namespace, ident, value.attribute))


def _bind_proxies(compiled: Compiled) -> None:
    """Replace the proxies to a finished recursive transform by its functions themselves.

    A call through a proxy costs two more frames (its ``__call__`` and the C
    call of the instance), so recursion through proxies reached a third of
    Python's depth; bound directly, the derivative takes one frame per level
    of the user's recursion, as the user's function does.
    """
    sites = compiled.__dict__.pop("proxy_sites", None)
    if not sites:
        return
    compiled.recursive = True       # (callers entering it guard its depth)
    values = {"function": compiled.function, "pullback": compiled.pullback}
    for namespace, ident, attribute in sites:
        if isinstance(namespace.get(ident), _Proxy) and values.get(attribute) is not None:
            namespace[ident] = values[attribute]


def _guard_depth(fn: Any, name: str) -> Any:
    """``fn``, a recursive derivative, raising a clear error past Python's recursion limit."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RecursionError:
            limit = sys.getrecursionlimit()
            raise RecursionError(
                f"the derivative of the recursive function {name} went deeper than Python's "
                f"recursion limit ({limit}). Its generated code takes one Python frame per "
                f"level of {name}'s recursion (the forward pass, then the reverse pass); "
                "raise the limit with sys.setrecursionlimit, or rewrite the recursion as a "
                "loop.") from None

    guarded.__name__ = getattr(fn, "__name__", "guarded")
    guarded.source_function = lambda: fn    # transforms of the caller see the generated code
    return guarded


class _Proxy:
    """Calls a function whose transform is still in progress (recursion)."""

    def __init__(self, compiled: Compiled, attribute: str = "function") -> None:
        self.compiled = compiled
        self.attribute = attribute

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.compiled, self.attribute)(*args, **kwargs)


class _Builder:
    def __init__(self, fun: Any, argnums: tuple, mode: str, has_aux: bool,
                 internal: bool, tangent_index: int | None = None, trees: tuple = ()) -> None:
        self.fun = fun
        self.trees = trees          # container parameters: (position, treedef, leaf count)
        self.argnums = argnums
        self.mode = mode
        self.has_aux = has_aux
        self.tangent_index = tangent_index   # jvp: the tangent of out[tangent_index] only
        self.internal = internal
        self.rebind: dict[str, tuple] = {}   # namespace name -> where ``fun`` holds that array
        self.callees: dict[str, tuple] = {}  # namespace name -> the callee it differentiates
        self.live_grads: dict[str, tuple] = {}   # a callee's pullback -> Compiled.live_grads
        self.sweeps: list = []                   # every variant's sweep (release)
        self.front: tuple | None = None          # (keep_front)
        self.user_names: set | None = None       # (optimized)

    def build(self) -> Compiled:
        self.ns = Namespace(Namer())
        generic = self.variant(scalar=False)
        functions, entry = generic["functions"], generic["entry"]
        if generic["scalar_closed"] and (self.nf.params or self.nf.kwonly):
            kept = self.nf, getattr(self, "pullback_name", None)
            scalar = self.variant(scalar=True, taken=set(self.ns.values))
            if _serves_scalars(generic, scalar, self.ns.values):
                # the scalar variant would be the same code: one function, no dispatch
                self.nf, self.pullback_name = kept
            else:
                functions[0].body.insert(0, self.dispatch(scalar["entry"],
                                                          generic.get("leading", [])))
                functions = functions + scalar["functions"]
        parsed = self.parsed
        source = to_source(functions)
        label = self.mode
        where = f"{os.path.basename(parsed.filename)}:{parsed.first_lineno}"
        filename = f"<srcgrad {label} of {parsed.name} at {where}>"   # made unique when compiled
        namespace = dict(self.ns.values)
        namespace["__name__"] = getattr(self.fun, "__module__", None) or "srcgrad.generated"
        namespace["__builtins__"] = __builtins__
        self.code = compile_module(source, filename)
        _check_fresh(self.code, self.ns.values, parsed)
        filename = self.code.co_filename
        bound = set(namespace)
        _note_proxies(namespace)
        exec(self.code, namespace)
        self.defined = set(namespace) - bound
        self.entry_name = entry
        function = namespace[entry]
        pullback = namespace.get(getattr(self, "pullback_name", None) or "")
        return Compiled(function=function, source=source, name=parsed.name, filename=filename,
                        mode=self.mode, argnums=self.argnums, namespace=namespace,
                        pullback=pullback, live_grads=generic.get("live_grads", ()))

    def release(self) -> None:
        """Drop this transform's working state now that its code is built.

        The sweeps and the builder refer to each other (callbacks), so their syntax
        trees would otherwise wait for the cyclic collector.
        """
        for sweep in self.sweeps:
            sweep.__dict__.clear()
        self.__dict__.clear()

    def fill(self, entry: _Entry, compiled: Compiled) -> None:
        """What ``entry`` needs to run this transform's code for other values (``_bind``)."""
        entry.proto = dataclasses.replace(compiled, function=None, pullback=None, namespace={})
        entry.code = self.code
        entry.entry_name = self.entry_name
        entry.pullback_name = getattr(self, "pullback_name", None) or ""
        entry.rebind = dict(self.rebind)
        entry.callees = dict(self.callees)
        entry.live_grads = dict(self.live_grads)
        dropped = self.defined | set(self.rebind) | set(self.callees) | {
            pb for pb, *_ in self.callees.values() if pb is not None}
        entry.template = {k: v for k, v in compiled.namespace.items() if k not in dropped}
        # an array bound some other way is bound for good: rebuild when the arrays change
        entry.strict = any(type(v) is np.ndarray for v in entry.template.values())

    def dispatch(self, target: str, leading: list[str]) -> Any:
        """``if <every argument is a Python or NumPy scalar>: return <scalar variant>(...)``."""
        types_name = self.ns.bind("SCALAR_TYPES", support.SCALAR_TYPES)
        params = self.nf.params + self.nf.kwonly
        type_name = self.ns.bind("type", type)
        tests = [gast.Compare(left=gast.Call(func=name(type_name), args=[name(p)], keywords=[]),
                              ops=[gast.In()], comparators=[name(types_name)]) for p in params]
        test = tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.And(), values=tests)
        call = gast.Call(func=name(target), args=[name(p) for p in [*leading, *self.nf.params]],
                         keywords=[gast.keyword(arg=k, value=name(k)) for k in self.nf.kwonly])
        return gast.If(test=test, body=[gast.Return(value=call)], orelse=[])

    def variant(self, scalar: bool, taken: set | None = None) -> dict:
        """Transform once: the generic code, or the variant for all-scalar arguments.

        Both modes share everything but the sweep: parsing, normalization, name
        binding, activity analysis, optimization and emission.
        """
        front = self.front if scalar else None
        if front is None:
            parsed = parse_function(self.fun)
            if inspect.ismethod(self.fun):
                bind_receiver(parsed)
            if self.trees:
                spread_parameters(parsed, self.trees)
            self.parsed = parsed
            namer = Namer(taken or set())
            nf = normalize(parsed, namer)
            self.kinds = dict(nf.kinds)     # (as normalized: see keep_front)
            self.known = None
        else:
            # the generic variant's normalized function (a copy), under a namer that
            # knows the names it took: parsing and normalizing again gives the same
            parsed, (nf, names, self.known) = self.parsed, front
            namer = nf.namer = Namer((taken or set()) | names)
        nf.callee = self.internal       # (its caller sees what it changes in its arguments)
        self.nf = nf
        self.namer = namer
        self.ns.namer = namer
        if front is None:
            self.bind_user_names(nf)
        params = nf.params
        for i in self.argnums:
            if i >= len(params):
                raise parsed.error(parsed.node, f"argnums {self.argnums} for a function with "
                                   f"{len(params)} positional parameters")
        self.wrt = [params[i] for i in self.argnums]
        self.fname = parsed.name if parsed.name != "<lambda>" else "lambda"
        if self.mode == "jvp":
            return self.forward_variant(scalar)
        return self.reverse_variant(scalar)

    def forward_variant(self, scalar: bool) -> dict:
        """``f_jvp(d<args>..., <args>...) -> (out, dout)``: the tangent code."""
        nf, ns, namer = self.nf, self.ns, self.namer
        body, ret = nf.body[:-1], nf.body[-1]
        out_atom = ret.value
        outputs = [out_atom.id] if isinstance(out_atom, gast.Name) else []
        act = self.analyze(outputs, mode="jvp")
        self.closed = not scalar and scalar_closed(nf, self.ns)    # (reads the analysis)
        if self.closed:
            self.keep_front(act)
        sweep = ForwardSweep(nf, act, ns, namer, self.compile_callee, scalar=scalar)
        sweep.scalars = self.scalar_names()
        self.sweep = sweep
        self.sweeps.append(sweep)
        tangent_params = []
        for p in self.wrt:
            tangent_params.append(sweep.adj(p))
            sweep.state[p] = LIVE
        code = sweep.block(body)
        tangent_out = sweep.tangent(clone(out_atom))
        if self.tangent_index is not None:
            tangent_out = _select_item(code, tangent_out, self.tangent_index)
        sweep.drop_unread_zeros(code + [gast.Expr(value=tangent_out)])
        finish_statements(code)
        keep = set(nf.params) | set(nf.kwonly) | set(tangent_params)
        code, _ = self.optimized(code, [], keep, sweep, [out_atom, tangent_out])
        code = finish_statements(code)
        args = self.arguments(leading=tangent_params)
        fn_name = namer.fresh(self.fname + "_jvp" + ("_scalar" if scalar else ""))
        result = gast.Tuple(elts=[out_atom, tangent_out], ctx=gast.Load())
        functions = [_function_def(fn_name, args, code + [gast.Return(value=result)])]
        return {"functions": functions, "entry": fn_name, "scalar_closed": self.closed,
                "names": set(namer.taken), "leading": tangent_params}

    def analyze(self, outputs: list[str], mode: str = "vjp") -> Activity:
        """The activity analysis of ``self.nf``, which refuses what it cannot follow.

        The scalar variant's function is a copy of the generic variant's, analysed
        already: its operations are attached again, the rest is the same.
        """
        if self.known is not None:
            return reanalyze(self.nf, self.known)
        return analyze(self.nf, self.wrt, outputs, callee=self.internal, mode=mode,
                       generated=bool(_DERIVATIVE_CODE.match(self.parsed.filename)))

    def keep_front(self, act: Activity) -> None:
        """Keep what the scalar variant starts from: the normalized function with its
        names bound, copied before a sweep changes it, its kinds as normalization left
        them, the names taken so far, and its analysis."""
        nf = self.nf
        self.front = (dataclasses.replace(nf, body=copy_statements(nf.body),
                                          kinds=dict(self.kinds)), set(self.namer.taken), act)

    def scalar_names(self) -> set[str]:
        """``scalar_names(self.nf)``, kept for the scalar variant, whose function is a copy."""
        if self.known is not None:
            return set(self.front_scalars)
        names = scalar_names(self.nf)
        if self.closed:
            self.front_scalars = frozenset(names)     # (the sweep adds to its own set)
        return names

    def optimized(self, forward: list, reverse: list, keep: set, sweep: Any,
                  reads: list) -> tuple[list, list]:
        """Both sweeps' code after dead code, copy propagation and folding."""
        if self.user_names is None:     # (one parsed function serves both variants)
            self.user_names = _user_names(self.parsed)
        user_names = self.user_names
        temps = {n for n in sweep.primal if n not in user_names}
        pure = {n for n, v in self.ns.values.items() if _pure_callable(v)}
        self.index = Index()        # (release_saved_values reads names from it)
        return self_optimize(forward, reverse, keep, temps, pure, reads, self.ns,
                             sweep.shapes, self.index)

    def arguments(self, leading: list[str] = ()) -> Any:
        """The generated function's parameters: the user's (defaults bound), after ``leading``."""
        args = clone(self.parsed.node.args)
        _strip_annotations(args)
        self.bind_defaults(args)
        extra = _arguments(list(leading)).args
        if args.posonlyargs:
            args.posonlyargs = extra + args.posonlyargs
        else:
            args.args = extra + args.args
        return args

    def reverse_variant(self, scalar: bool) -> dict:
        """``f_grad(<args>) -> (out, grads)`` or ``f_vjp`` with its pullback."""
        nf, ns, namer = self.nf, self.ns, self.namer
        body = nf.body[:-1]
        ret = nf.body[-1]
        out_atom = ret.value
        params = nf.params
        wrt = self.wrt
        if _DERIVATIVE_CODE.match(self.parsed.filename):
            # derivative code's own derivatives run forward-over-reverse
            ReverseSweep.refuse_generated_function(self.parsed, nf.body[0])
        diff_out, seed_index = self.differentiated_output(body, out_atom)
        if self.mode == "grad" and seed_index is None and nf.kinds.get(diff_out or "") in (
                "list", "tuple", "dict"):
            diff_out = None     # surely not a scalar: the caller's output check raises
        act = self.analyze([diff_out] if diff_out else [])
        # an internal VJP's caller calls its generic pullback: no scalar variant there
        closed = self.closed = not scalar and not (self.internal and self.mode == "vjp") \
            and scalar_closed(nf, ns)
        if closed:
            self.keep_front(act)
        sweep = ReverseSweep(nf, act, ns, namer, self.compile_callee, scalar=scalar)
        sweep.live_grads = self.live_grads
        sweep.scalars = self.scalar_names()
        self.sweep = sweep
        self.sweeps.append(sweep)
        sweep.add_counters(body)
        sweep.prepare_calls(body)
        sweep.insert_complex_guards(body)
        seed_active = diff_out is not None and act.is_active(diff_out)
        fname = self.fname
        cotangent = sweep.adj(diff_out) if seed_active else namer.fresh("g")
        seed: list = []
        if seed_active:
            b = sweep.adj(diff_out)
            if self.mode == "grad":
                value = const(1.0) if scalar else gast.Call(
                    func=name(ns.bind("one_like", support.one_like)), args=[name(diff_out)],
                    keywords=[])
                if seed_index is not None:
                    # the output must be a pair (output, aux): checked as the seed is made
                    value = gast.Call(func=name(ns.bind("aux_seed", support.aux_seed)),
                                      args=[name(diff_out), const(_qualname(self.fun))],
                                      keywords=[])
                seed.append(assign(b, value, None))
            elif sweep.is_container(diff_out):
                seed.append(assign(b, gast.Call(
                    func=name(ns.bind("as_seq_adjoint", support.as_seq_adjoint)),
                    args=[name(b)], keywords=[]), None))
            sweep.state[diff_out] = LIVE
        reverse = sweep.block(body)
        grads = []
        for p in wrt:
            state = sweep.get(p)
            if state != LIVE or sweep.is_seq(p):
                sweep.reads.append(Read(p, body[0] if body else ret, before=True))
            grads.append(self.final_grad(p, state))
        live_grads = tuple(sweep.get(p) == LIVE and not sweep.is_seq(p) for p in wrt)
        holder = [gast.Expr(value=gast.Tuple(elts=grads, ctx=gast.Load()))]
        shape_only = sweep.share_shapes(body, holder)
        inserts = sweep.place_saves(body, shape_only)
        _insert_pushes(body, inserts)
        reverse = _materialize(reverse)
        shape_stack = ns.bind("ShapeStack", support.ShapeStack) if sweep.shape_stacks else None
        prelude = [assign(stack, gast.Call(func=name(shape_stack), args=[], keywords=[])
                          if stack in sweep.shape_stacks else gast.List(elts=[], ctx=gast.Load()),
                          None)
                   for stack in sweep.stacks.values()]
        prelude += [assign(v, const(None), None) for v in sweep.none_init]
        finish_statements(body)       # loops get their `if stop: break` before dead code goes
        keep = set(params) | set(nf.kwonly) | set(sweep.stacks.values())
        if isinstance(out_atom, gast.Name):
            keep.add(out_atom.id)
        forward, reverse = self.optimized(body, seed + reverse, keep, sweep, [out_atom, *grads])
        if isinstance(out_atom, gast.Name) and any(
                n.id == out_atom.id and isinstance(n.ctx, gast.Store)
                for st in statements(reverse) for n in target_names(st)):
            # the reverse sweep restores the output's variable: keep the value first
            kept = namer.fresh("value")
            forward.append(assign(kept, out_atom, None))
            out_atom = name(kept)
        forward = finish_statements(forward)
        reverse = finish_statements(reverse)
        args = self.arguments()
        suffix = "_scalar" if scalar else ""
        grads_tuple = gast.Tuple(elts=grads, ctx=gast.Load())
        if self.mode == "grad":
            fn_name = namer.fresh(fname + "_grad" + suffix)
            if not scalar:
                reverse = release_saved_values(forward, reverse, keep | {
                    n.id for e in [out_atom, *grads] for n in name_nodes(e)},
                    sweep.shapes.may_be_large, self.index)
            body_out = prelude + forward + reverse + [
                gast.Return(value=gast.Tuple(elts=[out_atom, grads_tuple], ctx=gast.Load()))]
            functions = [_function_def(fn_name, args, body_out)]
        else:
            fn_name = namer.fresh(fname + "_vjp" + suffix)
            pb_name = namer.fresh(fname + "_pullback" + suffix)
            live = self.live_names(reverse, grads, params)
            stacks = set(sweep.stacks.values())
            forward_defined = set(params) | set(nf.kwonly) | {
                s.targets[0].id for s in forward if isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)}
            late = [v for v in live if v not in forward_defined and v not in stacks
                    and v not in sweep.none_init]
            prelude += [assign(v, const(None), None) for v in late]
            # the pullback takes the saved values as one tuple, so that generated code
            # calling it stays plain data flow (differentiable again, forward mode);
            # stacks are copied so that a pullback can be called more than once
            saved = self.namer.fresh("saved")
            unpack = []
            if live:
                unpack.append(gast.Assign(targets=[gast.Tuple(elts=[store(v) for v in live],
                                                              ctx=gast.Store())],
                                          value=name(saved), type_comment=None))
            copy = ns.bind("copy_stack", support.copy_stack)
            unpack += [assign(v, gast.Call(func=name(copy), args=[name(v)], keywords=[]),
                              None) for v in live if v in stacks]
            saved_tuple = gast.Tuple(elts=[name(v) for v in live], ctx=gast.Load())
            if self.internal:
                returned = saved_tuple
            else:
                returned = gast.Lambda(args=_arguments([cotangent]), body=gast.Call(
                    func=name(pb_name), args=[name(cotangent), saved_tuple], keywords=[]))
            body_vjp = prelude + forward + [
                gast.Return(value=gast.Tuple(elts=[out_atom, returned], ctx=gast.Load()))]
            body_pb = unpack + reverse + [gast.Return(value=grads_tuple)]
            functions = [_function_def(fn_name, args, body_vjp),
                         _function_def(pb_name, _arguments([cotangent, saved]), body_pb)]
            self.pullback_name = pb_name
        return {"functions": functions, "entry": fn_name, "scalar_closed": closed,
                "names": set(namer.taken), "live_grads": live_grads}

    # -- pieces -------------------------------------------------------------------------
    def bind_user_names(self, nf: NormalizedFunction) -> None:
        # one walk of each statement (nested ones too) finds its names and its arithmetic
        # (defaults are bound by value: bind_defaults)
        found = [node for stmt in nf.body for node in nodes_of(stmt, _NAMES_AND_ARITHMETIC)]
        names = [n for n in found if n.__class__ is gast.Name]
        locals_ = set(nf.params) | set(nf.kwonly)
        locals_.update(sub.id for sub in names if sub.ctx.__class__ is gast.Store)
        for ident, alias in self.parsed.builtin_names.items():
            if alias != ident:      # builtins normalized code calls, by names users cannot shadow
                self.ns.bind_user(alias, self.parsed.closure[alias])
        operands = {id(n) for op in found if op.__class__ is not gast.Name
                    for n in _operands(op)}
        for sub in names:
            if sub.id in locals_:
                continue
            if getattr(sub, "support", False):
                sub.support_name = sub.id
                sub.id = self.ns.bind(sub.id, support.resolve(sub.id))
                continue
            value = self.parsed.resolve(sub.id)
            if value is MISSING:
                raise self.parsed.error(sub, f"the name {sub.id!r}, which is not defined")
            if id(sub) in operands and not isinstance(value, _PLAIN_OPERANDS):
                # an object's own operators (__mul__, __rmul__...) are not the NumPy
                # arithmetic the derivative rules describe
                raise self.parsed.error(
                    sub, f"arithmetic with {sub.id!r}, a {type(value).__name__} object",
                    "Use arrays and numbers in arithmetic (e.g. an attribute that holds "
                    "the array).")
            if sub.id not in self.ns.values:
                self.ns.bind_user(sub.id, value)
                if type(value) is np.ndarray:      # bound again for each use (_bind)
                    self.rebind[sub.id] = ("closure" if sub.id in self.parsed.closure
                                           else "global", sub.id)

    def bind_defaults(self, args: Any) -> None:
        """Defaults are the function's actual default values, not re-evaluated expressions."""
        positional = [a.id for a in [*args.posonlyargs, *args.args]]
        values = list(getattr(self.fun, "__defaults__", None) or ())
        values = values[max(0, len(values) - len(positional)):] if positional else []
        names = positional[len(positional) - len(values):]
        args.defaults = [self.default_node(n, v, ("default", i))
                         for i, (n, v) in enumerate(zip(names, values, strict=True))]
        kw = getattr(self.fun, "__kwdefaults__", None) or {}
        args.kw_defaults = [self.default_node(a.id, kw[a.id], ("kwdefault", a.id))
                            if a.id in kw else None for a in args.kwonlyargs]

    def default_node(self, param: str, value: Any, where: tuple) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return const(value)
        bound = self.ns.bind(param + "_default", value)
        if type(value) is np.ndarray:
            self.rebind[bound] = where
        return name(bound)

    def differentiated_output(self, body: list, out_atom: Any) -> tuple[str | None, Any]:
        if not isinstance(out_atom, gast.Name):
            return None, None
        out = out_atom.id
        if not self.has_aux:
            return out, None
        for stmt in reversed(body):
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and stmt.targets[0].id == out:
                value = stmt.value
                if isinstance(value, (gast.Tuple, gast.List)) and value.elts:
                    first = value.elts[0]
                    return (first.id if isinstance(first, gast.Name) else None), None
                break
        self.nf.kinds[out] = "tuple"
        return out, 0

    def final_grad(self, p: str, state: str) -> Any:
        sweep = self.sweep
        b = sweep.adjoints.get(p)
        if self.internal:
            return name(b) if state != ZERO else const(None)
        if state == LIVE and not sweep.is_seq(p):
            # (in the argument's dtype, real for a real one: see runtime.as_gradient)
            helper = self.ns.bind("as_gradient", as_gradient)
            return gast.Call(func=name(helper), args=[name(b), name(p)], keywords=[])
        if state == ZERO:
            fn = self.ns.bind("zeros_like", zeros_like) if not sweep.is_seq(p) else None
            if fn is not None:
                return gast.Call(func=name(fn), args=[name(p)], keywords=[])
            b_value = const(None)
        else:
            b_value = name(b)
        helper = self.ns.bind("grad_or_zeros", support.grad_or_zeros)
        return gast.Call(func=name(helper), args=[b_value, name(p)], keywords=[])

    def live_names(self, reverse: list, grads: list, params: list) -> list[str]:
        sweep = self.sweep
        primal = sweep.primal | set(sweep.stacks.values())
        seen: list[str] = []
        assigned: set[str] = set()
        for node in reverse + grads:
            for sub in name_nodes(node):
                if isinstance(sub, gast.Name) and sub.id in primal and sub.id not in seen:
                    if isinstance(sub.ctx, gast.Load):
                        seen.append(sub.id)
                    else:
                        assigned.add(sub.id)
        return seen

    def compile_callee(self, callee: Any, argnums: tuple, stmt: Any) -> tuple[str, str | None]:
        """Names bound to the callee's derivative: ``(vjp, pullback)`` or ``(jvp, None)``.

        A VJP returns ``(out, saved)``; the caller's reverse sweep calls
        ``pullback(cotangent, saved)``.
        """
        mode = "jvp" if self.mode == "jvp" else "vjp"
        if mode == "jvp" and callee is support.call_pullback and 1 in argnums:
            # generated reverse code called the tape, whose pullback closes over the
            # differentiated values: a tangent cannot go through that closure
            raise self.parsed.error(
                stmt, "forward mode through a pullback that ran on the tape (a call the "
                "source engine could not transform, in the reverse code differentiated "
                "again here)", 'Use engine="tape" (engine="auto" does so by itself).')
        base = re.sub(r"\W", "", getattr(callee, "__name__", "")) or "rule"
        fn, pullback, live = _callee_functions(callee, argnums, mode)
        fn_name = self.ns.bind(base + "_" + mode, fn)
        pb_name = None if mode == "jvp" else self.ns.bind(base + "_pullback", pullback)
        if pb_name is not None:
            self.live_grads[pb_name] = live
        self.callees[fn_name] = (pb_name, callee, argnums, mode)
        return fn_name, pb_name


def _check_fresh(code: Any, values: dict, parsed: Any) -> None:
    """No name a generated function assigns (a parameter, a temporary, a stack) is a global
    it reads: every global the code reads (the user's, helpers, callees' derivatives) means
    that value everywhere in it.  The namer makes this so (it hands out no name the
    user's function or the namespace holds); checked here, a refusal rather than a guess.

    ``code`` is the compiled module: its functions' local variables are what Python
    itself takes for local, and reading them costs no walk of the trees.
    """
    for function in nested_codes(code):
        clash = sorted(name for name in (*function.co_varnames, *function.co_cellvars)
                       if name in values)
        if clash:
            raise parsed.error(parsed.node, "a function whose generated code would give "
                               f"a local variable the name of the global {clash[0]!r}",
                               "Rename the variable (this is a fault of srcgrad: "
                               "please report it).")


def _serves_scalars(generic: dict, scalar: dict, values: dict) -> bool:
    """Is the generic code the scalar variant's code, up to what costs scalars nothing?

    Their functions must be the same, node for node, once the scalar variant's
    names are the generic ones, the generic seed ``one_like(out)`` reads as the
    scalar ``1.0`` (``one_like`` gives ``1.0`` for a float at once) and the
    generic code's ``del`` statements (releasing arrays early) are left out.
    """
    if len(generic["functions"]) != len(scalar["functions"]):
        return False
    renames = {s.name: g.name for s, g in zip(scalar["functions"], generic["functions"],
                                               strict=True)}
    seeds = {k for k, v in values.items() if v is support.one_like}
    one = const(1.0)

    def same(g: Any, s: Any, direct: bool) -> bool:
        """Are ``g`` (generic) and ``s`` (scalar) the same once rewritten as above?
        (``direct``: a field's value itself, not an item of a list: only those are
        renamed and read as a seed.)"""
        if g.__class__ is list:
            return s.__class__ is list and len(g) == len(s) and all(
                same(a, b, False) for a, b in zip(g, s, strict=True))
        if not isinstance(g, gast.AST):
            return not isinstance(s, (gast.AST, list)) and (g is s or repr(g) == repr(s))
        if direct and g.__class__ is gast.Call and g.func.__class__ is gast.Name \
                and g.func.id in seeds:
            g = one
        if g.__class__ is not s.__class__:
            return False
        for field_name in g._fields:
            a, b = _dumped(g, field_name), _dumped(s, field_name)
            if field_name == "body" and a.__class__ is list:
                a = [st for st in a if not isinstance(st, gast.Delete)] or _ABSENT
            if a is _ABSENT or b is _ABSENT:
                if a is not b:
                    return False
            elif field_name == "name" and g.__class__ is gast.FunctionDef \
                    or field_name == "id" and g.__class__ is gast.Name and direct:
                if renames.get(a, a) != renames.get(b, b):
                    return False
            elif not same(a, b, True):
                return False
        return True

    return all(same(g, s, False)
               for g, s in zip(generic["functions"], scalar["functions"], strict=True))


_ABSENT = object()


def _dumped(node: Any, field_name: str) -> Any:
    """``node``'s field as ``gast.dump`` shows it: ``_ABSENT`` where it leaves the field out
    (unset, an empty list, or ``None`` where the class's default is ``None``)."""
    value = getattr(node, field_name, _ABSENT)
    if value is None and getattr(node.__class__, field_name, 42) is None \
            or value.__class__ is list and not value:
        return _ABSENT
    return value


# operand values whose operators are Python's or NumPy's own
_PLAIN_OPERANDS = (int, float, complex, np.ndarray, np.generic, list, tuple, str, bytes,
                   type(None))


_NAMES_AND_ARITHMETIC = (gast.Name, gast.BinOp, gast.UnaryOp, gast.AugAssign)


def _operands(node: Any) -> list:
    """The operands of an arithmetic node (empty for any other node)."""
    if isinstance(node, gast.BinOp):
        return [node.left, node.right]
    if isinstance(node, gast.UnaryOp):
        return [node.operand]
    if isinstance(node, gast.AugAssign):
        return [node.target, node.value]
    return []


def _select_item(code: list, tangent: Any, index: int) -> Any:
    """Keep only item ``index`` of a tuple-valued tangent, so dead code drops the rest.

    Every assignment of the tangent's variable is rewritten: a tuple literal keeps
    its item, any other value is indexed right after it is assigned.
    """
    if not isinstance(tangent, gast.Name):
        return gast.Subscript(value=tangent, slice=const(index), ctx=gast.Load())
    target = tangent.id

    def rewrite(stmts: list) -> list:
        out = []
        for stmt in stmts:
            for attr in ("body", "orelse"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list):
                    setattr(stmt, attr, rewrite(inner))
            out.append(stmt)
            if not isinstance(stmt, gast.Assign):
                continue
            stored = [n for n in name_nodes(stmt.targets[0]) if isinstance(n, gast.Name)]
            if not any(n.id == target for n in stored):
                continue
            if isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Tuple):
                stmt.value = stmt.value.elts[index]
            else:
                out.append(assign(target, gast.Subscript(value=name(target), slice=const(index),
                                                         ctx=gast.Load()), None))
        return out

    code[:] = rewrite(code)
    return tangent


def self_optimize(forward: list, reverse: list, keep: set, temps: set, pure: set,
                  extra_reads: list, ns: Namespace | None = None,
                  facts: Any = None, index: Index | None = None) -> tuple[list, list]:
    import numpy as np

    from .optimize import optimize_body

    holder = gast.Expr(value=gast.Tuple(elts=list(extra_reads), ctx=gast.Load()))
    holder.is_holder = True
    values = ns.values if ns is not None else None
    numpy_name = (lambda: ns.bind("np", np)) if ns is not None else None
    forward, reverse = optimize_body(forward, reverse + [holder], keep, temps, pure,
                                     values, numpy_name, facts, index)
    reverse = [s for s in reverse if not getattr(s, "is_holder", False)]
    return forward, reverse


_PURE_BUILTIN_VALUES = (len, range, min, max, abs, slice, reversed, type)


def _pure_callable(value: Any) -> bool:
    from ..rules.registry import lookup

    if value is None:
        return False
    if any(value is b for b in _PURE_BUILTIN_VALUES):
        return True
    try:
        if lookup(value) is not None:
            return True
    except TypeError:
        return False
    module = getattr(value, "__module__", "") or ""
    return module.startswith(("srcgrad.runtime", "srcgrad.rules", "srcgrad.compiler.support"))


def _user_names(parsed: Any) -> set[str]:
    return {sub.id for sub in name_nodes(parsed.node)}


def _insert_pushes(stmts: list, inserts: dict) -> None:
    index = 0
    while index < len(stmts):
        stmt = stmts[index]
        for attr in ("body", "orelse"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                _insert_pushes(inner, inserts)
        pushes = inserts.get(id(stmt))
        if pushes:
            for p in pushes:
                p.is_push = True
            stmts[index:index] = pushes
            index += len(pushes)
        index += 1


def _materialize(stmts: list) -> list:
    out = []
    for stmt in stmts:
        if isinstance(stmt, _Marker):
            out.extend(getattr(stmt, "replace_with", []))
            continue
        for attr in ("body", "orelse"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                setattr(stmt, attr, _materialize(inner))
        out.append(stmt)
    return out


def _arguments(names: list[str]) -> Any:
    return gast.arguments(args=[gast.Name(id=n, ctx=gast.Param(), annotation=None,
                                          type_comment=None) for n in names],
                          posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                          kwarg=None, defaults=[])


def _strip_annotations(args: Any) -> None:
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        a.annotation = None


def _function_def(fn_name: str, args: Any, body: list) -> Any:
    return gast.FunctionDef(name=fn_name, args=args, body=body, decorator_list=[],
                            returns=None, type_comment=None, type_params=[])


def _qualname(fun: Any) -> str:
    return getattr(fun, "__qualname__", None) or getattr(fun, "__name__", "the function")

