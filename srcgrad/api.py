"""The function transforms: ``grad``, ``value_and_grad``, ``vjp``.

Each transform chooses an engine: ``"source"`` (generated NumPy code from
:mod:`srcgrad.compiler`), ``"tape"`` (Tensor mode) or ``"auto"``, which
tries the source engine and falls back to the tape, once warning with
:class:`~srcgrad.errors.FallbackWarning`, for functions it cannot transform.
Argument checking (argnums, dtypes, scalar outputs) lives here, once, for
both engines.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import compiler, outputs, tree, treeargs
from .autograd.transforms import RUNS as _TAPE_RUNS
from .autograd.transforms import any_live, recording
from .errors import (
    FallbackWarning,
    GeneratedCodeError,
    NestingError,
    NoRuleError,
    NoSourceError,
    TapeNoRuleError,
    TransformError,
    callable_name,
    user_stacklevel,
)
from .namespaces import call_namespace

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jvp_source", "jacobian", "jacfwd", "jacrev",
           "hessian", "hvp", "source"]

ENGINES = ("auto", "source", "tape")


# ---------------------------------------------------------------------------
# Argument checks shared by every transform and both engines.

def _normalize_argnums(fun: Callable[..., Any], argnums: Any) -> tuple[tuple[int, ...], bool]:
    """``argnums`` as a tuple, plus whether the caller asked for a tuple."""
    as_tuple = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if as_tuple else (argnums,)
    for n in nums:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if len(set(nums)) != len(nums):
        raise ValueError(f"argnums contains duplicates: {argnums!r}")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return nums, as_tuple
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return nums, as_tuple
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for n in nums:
        if not -len(positional) <= n < len(positional):
            names = ", ".join(p.name for p in positional)
            raise ValueError(
                f"argnums {n} is out of range for {_name(fun)}({names}), which has "
                f"{len(positional)} positional parameter(s)"
            )
    return tuple(n % len(positional) for n in nums), as_tuple


def _name(fun: Any) -> str:
    return callable_name(fun)


_FLOAT_KINDS = frozenset("fc")
_FLOAT_SCALARS = frozenset({float, np.float64, np.float32})


def _check_inputs(fun: Callable[..., Any], args: tuple, argnums: tuple[int, ...]) -> bool:
    """Check the differentiated arguments; True when one is a tree (its leaves are checked
    when it is spread, :func:`srcgrad.treeargs.spread`)."""
    for i in argnums:
        if i < len(args):
            x = args[i]  # the common cases, checked cheaply on every call
            if type(x) is float or (type(x) is np.ndarray and x.dtype.kind in _FLOAT_KINDS):
                continue
        if i >= len(args):
            raise TypeError(
                f"{_name(fun)} is differentiated with respect to argument {i}, but was called "
                f"with {len(args)} positional argument(s)"
            )
        x = args[i]
        if treeargs.has_tree(args, argnums):
            return True
        dtype = _dtype_of(x)
        if dtype is None:
            raise TypeError(
                f"argument {i} of {_name(fun)} must be a float or an array of floats to be "
                f"differentiated, got {type(x).__name__}"
            )
        if dtype.kind not in "fc":
            raise TypeError(
                f"argument {i} of {_name(fun)} has dtype {dtype}; srcgrad differentiates "
                f"with respect to floating-point inputs only: pass it as a float "
                f"(e.g. x.astype(float) or float(x)), or leave it out of argnums"
            )
    return False


def _dtype_of(x: Any) -> np.dtype | None:
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, (int, float, complex, np.ndarray, np.generic)):
        return np.asarray(x).dtype
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        try:
            return np.dtype(dtype)
        except TypeError:       # another library's dtype: NumPy's of the same name
            from .namespaces import float_kind

            return np.dtype(str(dtype).rpartition(".")[2]) if float_kind(x) else None
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x).dtype
        except (ValueError, TypeError):     # a ragged list: its items' common dtype
            dtypes = [_dtype_of(v) for v in x]
            return np.result_type(*dtypes) if dtypes and all(d is not None for d in dtypes) \
                else None
    return None


def _check_scalar(fun: Callable[..., Any], out: Any, first_of_pair: bool = False,
                  holomorphic: bool = False) -> None:
    if type(out) in _FLOAT_SCALARS and not holomorphic:
        return
    error = outputs.not_scalar(_name(fun), out, first_of_pair)
    if error is not None:
        raise error
    shape = np.shape(out)
    if math.prod(shape) != 1:
        raise TypeError(
            f"grad requires {_name(fun)} to return a scalar, but it returned an array of shape "
            f"{shape}; use srcgrad.vjp (or jacobian) for non-scalar outputs, or reduce it "
            "(e.g. .sum())"
        )
    dtype = _dtype_of(out)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError(
            f"grad requires {_name(fun)} to return a floating-point scalar, got dtype {dtype}"
        )
    _check_complex_output("grad", fun, dtype, holomorphic)


def _check_complex_output(what: str, fun: Any, dtype: Any, holomorphic: bool) -> None:
    """JAX's rule: a complex output needs ``holomorphic=True``, which needs one."""
    if dtype is None:
        return
    if holomorphic and dtype.kind != "c":
        raise TypeError(f"{what} with holomorphic=True requires {_name(fun)} to return complex "
                        f"values, got dtype {dtype}")
    if not holomorphic and dtype.kind == "c":
        raise TypeError(
            f"{what} requires {_name(fun)} to return real values, got dtype {dtype}. For a "
            "holomorphic function pass holomorphic=True; for the derivative of a complex "
            "output otherwise, use srcgrad.vjp (or differentiate np.real and np.imag of it)")


def _check_holomorphic_inputs(what: str, fun: Any, args: tuple, argnums: tuple) -> None:
    for i in argnums:
        dtype = _dtype_of(args[i]) if i < len(args) else None
        if dtype is not None and dtype.kind != "c":
            raise TypeError(f"{what} with holomorphic=True requires complex inputs, but "
                            f"argument {i} of {_name(fun)} has dtype {dtype}")


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


def _nesting_error(fun: Any, nest: str, why: str) -> NestingError:
    """The source engine's refusal of a nest of transforms, located at ``fun``'s code."""
    code = getattr(inspect.unwrap(fun), "__code__", None) if callable(fun) else None
    return NestingError(
        nest, f"{why}. Use engine='tape' (engine='auto' does so by itself).",
        code.co_filename if code else "<unknown>", code.co_firstlineno if code else 0)


def _refuse_nest(fun: Any, what: str, engine: str) -> None:
    """A nest the source engine does not compute: raised for "source", the tape for "auto"."""
    err = _nesting_error(fun, what, "The source engine differentiates generated gradient code "
                         "once (forward-over-reverse), and a Jacobian or Hessian not at all")
    if engine == "source":
        raise err
    _warn_fallback(fun, err, "")
    return None


def _describe(fun: Any) -> str:
    """``srcgrad.jacobian(f)`` for a transform, ``f`` for a function (in refusals)."""
    kind = getattr(fun, "_kind", None)
    if kind is None:
        return _name(fun)
    if isinstance(fun, _ValueAndGrad):
        kind = "value_and_grad"
    return f"srcgrad.{kind}({_describe(fun.fun)})"


def _on_tape_now(t: Any) -> bool:
    """Whether this call of transform ``t`` (with generated code) must run on the tape.

    Called inside a function the tape differentiates, a transform is nested in that
    derivative: it runs on the tape too (create_graph), so that its result stays
    differentiable with respect to the outer function's values, also those it closes
    over. Generated code would return constants there; ``engine="source"`` refuses.
    """
    if not _TAPE_RUNS[0] or not recording():
        return False
    if t._requested == "source":
        raise _nesting_error(
            t.fun, f"{_describe(t)} with engine='source' called inside a function that the "
            "tape differentiates", "Its generated code would return constants, cutting the "
            "outer derivative")
    return True


# ---------------------------------------------------------------------------
# Engine choice.

# what was warned about once: (the code's id and place, what); bounded
_warned: set[Any] = set()
_WARNED_LIMIT = 4096


def _warn_fallback(fun: Callable[..., Any], err: TransformError, what: str) -> None:
    code = getattr(fun, "__code__", None)
    # by identity (equal code from two files warns twice), with its place, so that a
    # reused id of a collected code object is rarely taken for it
    where = (id(code), code.co_filename, code.co_firstlineno) if code is not None else id(fun)
    key = (where, what)
    if key in _warned:
        return
    if len(_warned) >= _WARNED_LIMIT:
        _warned.clear()
    _warned.add(key)
    if isinstance(err, NoSourceError):
        text = err.fallback_message(what)
    else:
        where = f"{_name(fun)} runs on the tape engine" + (f" {what}" if what else "")
        location = f" at {err.filename}:{err.lineno}" \
            if err.filename and not err.filename.startswith("<") else ""
        text = (f"srcgrad could not transform {_name(fun)} ({err.construct}{location}); "
                f"{where} instead. Pass engine='tape' to choose the tape explicitly, or "
                "rewrite the construct.")
        wrapped = getattr(fun, "__wrapped__", None)
        if wrapped is not None and callable(wrapped) and code is not None:
            text += (f" {_name(fun)} is a decorator's wrapper (its function {code.co_name!r}) "
                     f"around the original {callable_name(wrapped)}; "
                     "srcgrad looks through a wrapper only when "
                     "its code just passes its arguments on and returns the result, and "
                     "otherwise differentiates the wrapper's own code, which is what runs.")
    warnings.warn(text, FallbackWarning, stacklevel=user_stacklevel())


def _tape_call(fun: Callable[..., Any], argnums: tuple[int, ...],
               error: TransformError, mode: str = "vjp") -> Callable[..., Any]:
    """Mixed mode: generated code calls a function it could not transform on the tape."""
    from .autograd.transforms import tape_vjp

    if mode == "jvp":
        # srcgrad's own rule helpers (a product's "all others") are an implementation
        # detail: the user's code still runs as generated code, so no warning for them
        if not (getattr(fun, "__module__", "") or "").startswith("srcgrad."):
            _warn_fallback(fun, error, "inside the generated tangent code of its caller")

        def tangent_call(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
            from .autograd import functional
            from .autograd.transforms import tape_functional

            tangents, primals = args[:len(argnums)], list(args[len(argnums):])

            def only(*xs: Any) -> Any:
                full = list(primals)
                for k, x in zip(argnums, xs, strict=True):
                    full[k] = x
                return fun(*full, **kwargs)
            return tape_functional(functional.jvp, only, tuple(primals[k] for k in argnums),
                                   tuple(range(len(argnums))), tuple(tangents))
        return tangent_call
    _warn_fallback(fun, error, "inside the generated gradient of its caller")

    def vjp(*args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
        out, _, pullback = tape_vjp(fun, args, kwargs, argnums, False)
        return out, pullback

    return vjp


def _call_with_keywords(function: Callable[..., Any], kwargs: dict, *args: Any) -> Any:
    return function(*args, **kwargs)


def _compile(fun: Callable[..., Any], argnums: tuple[int, ...], has_aux: bool,
             engine: str, kind: str, refusals: list | None = None) -> Any:
    """The compiled transform, or None when the tape must be used (the source engine's
    refusal is then appended to ``refusals``)."""
    if engine == "tape":
        return None
    if isinstance(fun, _Derivative):
        return _refuse_nest(fun, f"a derivative of {_describe(fun)}", engine)
    make = compiler.compile_grad if kind == "grad" else compiler.compile_vjp
    try:
        return make(fun, argnums, has_aux=has_aux)
    except TransformError as err:
        if engine == "source" or isinstance(err, GeneratedCodeError):
            raise
        _warn_fallback(fun, err, "")
        if refusals is not None:
            refusals.append(err)
        return None


def _tape_vjp(fun: Callable[..., Any], args: tuple, kwargs: dict, argnums: tuple,
              has_aux: bool, refusals: list) -> tuple:
    """The tape's ``(out, aux, pullback)``; where the tape stops at the call the source
    engine refused for want of a rule, the source engine's located ``NoRuleError``
    (with its ``defvjp`` template) is raised instead of the tape's message."""
    from .autograd.transforms import tape_vjp

    try:
        return tape_vjp(fun, args, kwargs, argnums, has_aux)
    except TapeNoRuleError as missing:
        for err in refusals:
            if isinstance(err, NoRuleError) and err.fun is missing.fun:
                raise NoRuleError(err.fun, err.filename, err.lineno, err.col_offset,
                                  err.line) from missing
        raise


def _in_namespace(t: Any, compiled: Any, args: tuple, kwargs: dict) -> Any:
    """The compiled code to run for this call: ``compiled`` for NumPy arrays and numbers,
    its variant for the arrays' namespace otherwise (see :mod:`srcgrad.namespaces`)."""
    ns = call_namespace(args, kwargs)
    if ns is None:
        return compiled
    if compiled is None:
        raise _numpy_only(t, ns)
    from .compiler.variants import variant

    return variant(compiled, ns, t.fun)


def _numpy_only(t: Any, ns: Any, requested: str | None = None) -> TypeError:
    """The error for arrays of another library where only the tape could run (``t``: a
    transform, or the function a forward-mode call runs)."""
    refusals = getattr(t, "_refusals", None)
    requested = getattr(t, "_requested", requested)
    why = (f"the source engine refused it: {refusals[0]}" if refusals else
           "engine='tape' was asked for" if requested == "tape" else
           "it runs on the tape here")
    return TypeError(f"{_describe(t)} got {ns.library} arrays, but runs on the tape engine, "
                     f"which works on NumPy arrays only (srcgrad never converts arrays to NumPy "
                     f"silently), because {why}. Rewrite the function so that the source "
                     "engine accepts it, or pass NumPy arrays.")


class _Transformed:
    """A differentiated function: callable, with ``.fun``, ``.source`` and ``.engine``."""

    def __init__(self, fun: Callable[..., Any], argnums: Any, engine: str, has_aux: bool,
                 kind: str, holomorphic: bool = False) -> None:
        if not callable(fun):
            raise TypeError(f"srcgrad.{kind} expects a callable, got {type(fun).__name__}")
        _check_engine(engine)
        self.fun = fun
        self._argnums_given = argnums
        self.argnums, self._as_tuple = _normalize_argnums(fun, argnums)
        self.has_aux = has_aux
        self.holomorphic = holomorphic
        self._kind = kind
        self._requested = engine
        self._adapter: Callable[..., Any] | None = None
        # the gradient of a gradient runs forward-over-reverse: one tangent pass of the
        # inner gradient's generated code per input coordinate (grad(grad(f)) of a scalar
        # function of a scalar is one pass)
        self._nested = None
        self._compiled = None
        self._refusals: list = []        # why the source engine refused, for the tape's errors
        self._engine: str | None = None
        self._last_bound: tuple | None = None
        self._trees: dict = {}      # tree structure -> the transform of its leaves
        self._plans: dict = {}      # tree structure -> how its calls are spread
        functools.update_wrapper(self, fun, updated=())
        if isinstance(fun, _Transformed) or not (_in_class_body(fun) or _reads_trees(fun,
                                                                                  argnums)):
            self._prepare()
        # else: a method decorated in its class body (``self.w`` cannot be transformed
        # before there is a ``self``), or a function reading its arguments as containers
        # (``p["W"]``, ``p.w``: the structure is known when called): transformed when first
        # called with arrays (with trees, per structure: ``_tree_inner``)

    def _tree_inner(self, args: tuple) -> tuple[treeargs.Spread, _Transformed]:
        """This call's arguments spread into leaves, and the transform for their structure."""
        spread = treeargs.spread(self.fun, args, self.argnums, self._plans)
        inner = spread.plan.inner
        if inner is None:
            if len(self._trees) >= 64:
                self._trees.clear()
            inner = type(self)(spread.function, spread.argnums, self._requested, self.has_aux,
                               self._kind, self.holomorphic)
            self._trees[spread.key] = spread.plan.inner = inner
        return spread, inner

    def _prepare(self) -> None:
        fun, engine, kind = self.fun, self._requested, self._kind
        if isinstance(fun, _Transformed):
            if kind == "grad":
                self._nested = _compile_forward(fun, self.argnums, engine)
        else:
            try:
                self._compiled = _compile(fun, self.argnums, self.has_aux, engine, kind,
                                          self._refusals)
            except GeneratedCodeError as err:
                # fun calls a gradient: differentiate it forward-over-reverse (a pullback
                # of generated code the source engine does not write: the tape does)
                if kind == "grad":
                    self._nested = _compile_forward(fun, self.argnums, engine)
                elif engine == "source":
                    raise _nesting_error(
                        fun, f"srcgrad.{kind} of {_name(fun)}, which calls a gradient",
                        "The source engine does not write reverse mode over generated "
                        "gradient code (derivatives of a gradient run forward-over-reverse: "
                        "srcgrad.grad, jvp, hessian, hvp)") from err
                else:
                    _warn_fallback(fun, err, "")
        self._engine = "source" if self._compiled is not None or self._nested is not None \
            else "tape"

    def _ready(self) -> None:
        if self._engine is None:
            self._prepare()

    def _last_tree(self) -> _Transformed | None:
        """The transform for the last tree structure, when called with trees only."""
        if self._engine is None and self._trees:
            return next(reversed(self._trees.values()))
        return None

    @property
    def engine(self) -> str:
        """``"source"`` or ``"tape"``: the engine that runs this transform (for tree
        arguments, the one that ran the last structure)."""
        inner = self._last_tree()
        if inner is not None:
            return inner.engine
        self._ready()
        return self._engine

    @property
    def source(self) -> str:
        """The generated Python source (only for the source engine)."""
        inner = self._last_tree()
        if inner is not None:
            return inner.source
        self._ready()
        if self._nested is not None:
            return self._nested[0].source
        if self._compiled is None:
            raise AttributeError(
                f"{_name(self.fun)} runs on the tape engine, so there is no generated source"
            )
        return self._compiled.source

    def source_function(self) -> Callable[..., Any] | None:
        """A plain function, with source, returning what this transform returns.

        The source engine calls it where a function it transforms calls this
        gradient (``grad(lambda x: grad(f)(x) @ v)``); ``None`` when the gradient
        has no generated code to differentiate.
        """
        self._ready()
        if self._compiled is None or self.has_aux or self._kind != "grad":
            return None
        if self._adapter is None:
            self._adapter = _adapter_for(self)
        return self._adapter

    def _run(self, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
        """``(out, aux, grads or pullback)`` for one call."""
        if _check_inputs(self.fun, args, self.argnums):
            spread, inner = self._tree_inner(args)
            out, aux, rest = inner._run(spread.args, kwargs)
            if callable(rest):
                return out, aux, lambda ct: spread.gather(rest(ct))
            return out, aux, spread.gather(rest)
        self._ready()
        compiled = _in_namespace(self, self._compiled, args, kwargs)
        if compiled is not None and not _on_tape_now(self):
            value, rest = compiled.function(*args, **kwargs)
            if self.has_aux:
                outputs.check_aux_pair(_name(self.fun), value)
            out, aux = value if self.has_aux else (value, None)
            return out, aux, rest
        return _tape_vjp(self.fun, args, kwargs, self.argnums, self.has_aux, self._refusals)

    def _grads(self, args: tuple, kwargs: dict) -> tuple[Any, Any, tuple]:
        if _check_inputs(self.fun, args, self.argnums):
            spread, inner = self._tree_inner(args)
            out, aux, grads = inner._grads(spread.args, kwargs)
            return out, aux, spread.gather(grads)
        self._ready()
        if self._nested is not None and not _on_tape_now(self):
            _check_inputs(self.fun, args, self.argnums)
            ns = call_namespace(args, kwargs)
            compiled, select = self._nested
            compiled = _compiled_in(compiled, ns, self.fun)
            run = functools.partial(_call_with_keywords, compiled.function, kwargs)
            value, blocks = _forward_jacobian(run, args, self.argnums, select, ns)
            out = select.out(value)
            if self.has_aux:
                out, aux = out
                blocks = [b[0] for b in blocks]
            else:
                aux = None
            _check_scalar(self.fun, out, self.has_aux, self.holomorphic)
            return out, aux, [_tangent_like(b, args[j]) for b, j in zip(blocks, self.argnums,
                                                                        strict=True)]
        if self.holomorphic:
            _check_holomorphic_inputs("grad", self.fun, args, self.argnums)
        out, aux, rest = self._run(args, kwargs)
        _check_scalar(self.fun, out, self.has_aux, self.holomorphic)
        grads = rest(_ones_like_output(out)) if callable(rest) else rest
        return out, aux, grads

    def _shape(self, grads: tuple) -> Any:
        return tuple(grads) if self._as_tuple else grads[0]

    def __repr__(self) -> str:
        engine = f"{self._engine} engine" if self._engine else "transformed when first called"
        return f"<srcgrad.{self._kind} of {_name(self.fun)} ({engine})>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """``obj.loss`` for ``@grad`` on a method: ``grad(obj.loss)``.

        ``self`` is bound, a constant whose attributes are read when called, and
        ``argnums`` counts from the first argument after it (``Class.loss``, with
        no instance, is the transform of the plain function: argument 0 is ``self``).
        """
        if obj is None:
            return self
        last = self._last_bound
        if last is not None and last[0] is obj:
            return last[1]      # the same object again (``obj.loss(x)`` in a loop)
        bind = getattr(self.fun, "__get__", None)
        method = bind(obj, objtype) if bind is not None else functools.partial(self.fun, obj)
        made = type(self)(method, self._argnums_given, self._requested, self.has_aux,
                          self._kind, self.holomorphic)
        self._last_bound = (obj, made)      # (keeps the last object alive, as its transform)
        return made


def _reads_trees(fun: Any, argnums: Any) -> bool:
    """Does ``fun`` read a differentiated parameter as a container (``p["W"]``, ``p.w``)?"""
    return compiler.trees.reads_trees(fun, argnums)


def _in_class_body(fun: Any) -> bool:
    """Is ``fun`` a plain function defined in a class body (by its ``__qualname__``)?"""
    if not inspect.isfunction(fun):
        return False
    qualname = getattr(fun, "__qualname__", "") or ""
    owner = qualname.rpartition(".")[0]
    return bool(owner) and not owner.endswith("<locals>")


def _adapter_for(t: _Transformed) -> Callable[..., Any]:
    """``def <f>_grad_call(<f's parameters>): value, grads = <generated>(...); return ...``."""
    from .compiler.emit import compile_source

    generated = t._compiled.function
    namespace: dict[str, Any] = {"__builtins__": __builtins__, "generated": generated,
                                 "__name__": getattr(t.fun, "__module__", None) or "srcgrad"}
    params, call = [], []
    keyword_only = False
    for p in inspect.signature(generated).parameters.values():
        text = p.name
        if p.default is not p.empty:
            namespace["default_" + p.name] = p.default
            text += "=default_" + p.name
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            params.append("*")
            keyword_only = True
        params.append(text)
        call.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
    picked = "grads" if t._as_tuple else "grads[0]"
    result = f"value, {picked}" if isinstance(t, _ValueAndGrad) else picked
    fname = f"{generated.__name__}_call"
    source = (f"def {fname}({', '.join(params)}):\n"
              f"    value, grads = generated({', '.join(call)})\n"
              f"    return {result}\n")
    compile_source(source, f"<srcgrad call of {generated.__name__}>", namespace)
    return namespace[fname]


class _Grad(_Transformed):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        compiled = self._compiled
        if compiled is not None and not self.has_aux and not self.holomorphic \
                and not _TAPE_RUNS[0] and not _check_inputs(self.fun, args, self.argnums):
            # the common case, with as few Python calls as possible around the generated code
            for a in args:
                if type(a) not in _NUMPY_VALUES:
                    compiled = _in_namespace(self, compiled, args, kwargs)
                    break
            else:
                if kwargs:
                    compiled = _in_namespace(self, compiled, args, kwargs)
            out, grads = compiled.function(*args, **kwargs)
            _check_scalar(self.fun, out)
            return grads if self._as_tuple else grads[0]
        if not self.has_aux and not self.holomorphic and not _TAPE_RUNS[0] \
                and treeargs.has_tree(args, self.argnums):
            # tree arguments: the leaves' transform, through its own fast path above
            spread, inner = self._tree_inner(args)
            return self._shape(spread.gather(inner(*spread.args, **kwargs)))
        _, aux, grads = self._grads(args, kwargs)
        g = self._shape(grads)
        return (g, aux) if self.has_aux else g


from .namespaces import _NUMPY_VALUES  # noqa: E402  (the call path's cheap check)


def _ones_like_output(out: Any) -> Any:
    if type(out) in _FLOAT_SCALARS or type(out) is np.ndarray:
        return np.ones(np.shape(out))
    from .namespaces import namespace_of

    ns = namespace_of(out)
    return np.ones(np.shape(out)) if ns is None else ns.ones_like(out)


class _ValueAndGrad(_Transformed):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out, aux, grads = self._grads(args, kwargs)
        g = self._shape(grads)
        return ((out, aux), g) if self.has_aux else (out, g)


def grad(fun: Callable[..., Any] | None = None, argnums: int | tuple[int, ...] = 0, *,
         engine: str = "auto", has_aux: bool = False, holomorphic: bool = False) -> Any:
    """The gradient of scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    Works as ``grad(f)``, ``grad(f, argnums=(0, 1))`` and as a decorator
    (``@grad`` or ``@grad(argnums=1)``).  The result keeps ``.fun`` and, for
    the source engine, ``.source``.  Complex inputs follow JAX: for real ``f``,
    ``grad(f)(z) = df/dx - 1j * df/dy``; a complex ``f`` needs ``holomorphic=True``
    (complex inputs, then ``grad(f)(z) = f'(z)``).
    """
    if fun is None:
        return functools.partial(grad, argnums=argnums, engine=engine, has_aux=has_aux,
                                 holomorphic=holomorphic)
    return _Grad(fun, argnums, engine, has_aux, "grad", holomorphic)


def value_and_grad(fun: Callable[..., Any] | None = None, argnums: int | tuple[int, ...] = 0, *,
                   engine: str = "auto", has_aux: bool = False,
                   holomorphic: bool = False) -> Any:
    """Like :func:`grad`, returning ``(value, gradient)``."""
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums, engine=engine,
                                 has_aux=has_aux, holomorphic=holomorphic)
    return _ValueAndGrad(fun, argnums, engine, has_aux, "grad", holomorphic)


def vjp(fun: Callable[..., Any], *primals: Any, engine: str = "auto",
        has_aux: bool = False) -> tuple:
    """``(out, pullback)``: ``pullback(cotangent)`` returns one cotangent per primal.

    With ``has_aux=True``, returns ``(out, pullback, aux)`` as JAX does.
    """
    t = _Transformed(fun, tuple(range(len(primals))), engine, has_aux, "vjp")
    spread = None
    if _check_inputs(fun, primals, t.argnums):
        spread, t = t._tree_inner(primals)
        primals = spread.args
    out, aux, pullback = t._run(primals, {})
    if t.engine == "source" and not recording():
        pullback = _source_pullback(t, primals, pullback)
    if spread is not None:
        pullback = _gathered(pullback, spread)
    if outputs.is_tree(out) and not _flat_sequence(out):
        pullback = _tree_cotangent(pullback, out)
    return (out, pullback, aux) if has_aux else (out, pullback)


def _flat_sequence(out: Any) -> bool:
    """A tuple (namedtuples too: NumPy's ``EighResult``...) or list of non-containers, whose
    cotangent may be any tuple or list of its length, as before outputs were trees."""
    return isinstance(out, (tuple, list)) and not any(
        isinstance(o, (tuple, list, dict)) or outputs.is_tree(o) for o in out)


def _tree_cotangent(pullback: Callable[[Any], tuple], out: Any) -> Any:
    """A pullback taking a cotangent shaped like the pytree output (checked, as JAX does)."""
    def checked(cotangent: Any) -> tuple:
        if not tree.same_structure(cotangent, out):
            raise ValueError(f"the cotangent has structure {tree.structure(cotangent)}, but "
                             f"the output has structure {tree.structure(out)}")
        return pullback(cotangent)

    return checked


def _gathered(pullback: Callable[[Any], tuple], spread: treeargs.Spread) -> Any:
    """A pullback returning trees for the tree arguments."""
    return lambda cotangent: tuple(spread.gather(pullback(cotangent)))


def _source_pullback(t: _Transformed, primals: tuple, generated: Callable[..., Any]) -> Any:
    """The generated pullback, which the tape runs instead when the cotangent is a Tensor.

    A cotangent that requires grad comes from a function the tape differentiates (the
    derivative of a pullback with respect to its cotangent): the pullback must be
    recorded then, and generated code would return constants.
    """
    def pullback(cotangent: Any) -> tuple:
        if type(cotangent) in _PLAIN or not any_live(cotangent):
            return generated(cotangent)
        if t._requested == "source":
            raise _nesting_error(t.fun, f"the pullback of srcgrad.vjp({_name(t.fun)}) with "
                                 "engine='source', differentiated on the tape", "Its generated "
                                 "code would return constants, cutting the outer derivative")
        from .autograd.transforms import tape_vjp

        return tape_vjp(t.fun, primals, {}, t.argnums, t.has_aux)[2](cotangent)

    return pullback


_PLAIN = frozenset({float, np.ndarray, np.float64})


# ---------------------------------------------------------------------------
# Forward mode, Jacobians and second order.  The source engine emits tangent
# code (``jvp``); derivatives of a gradient run forward-over-reverse: the
# tangent code of the gradient's own generated code.  Full Jacobians take one
# tangent pass per input coordinate or one pullback per output coordinate.

def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


class _Selector:
    """How to read what ``fun`` returns out of the JVP of the code that runs for it.

    ``out(value)`` picks ``fun``'s value; ``tangent(t)`` its tangent, where the
    JVP was compiled to compute only item ``index`` of a tuple output's tangent.
    """

    def __init__(self, out: Callable[[Any], Any] = lambda r: r,
                 tangent: Callable[[Any], Any] = lambda t: t, index: int | None = None) -> None:
        self.out = out
        self.tangent = tangent
        self.index = index


def _generated(fun: Any) -> tuple[Any, _Selector]:
    """The function to transform for ``fun`` and how to read its result.

    A gradient from the source engine is differentiated through its generated
    code, which returns ``(value, grads)``; the selector picks what ``fun`` itself
    returns from that (and for ``grad`` only the gradients' tangents are computed).
    """
    if isinstance(fun, _Transformed):
        fun._ready()
    if isinstance(fun, _Transformed) and fun._compiled is not None and not fun.has_aux \
            and fun._kind == "grad":
        def pick(grads: Any) -> Any:
            return tuple(grads) if fun._as_tuple else grads[0]
        if isinstance(fun, _ValueAndGrad):
            both = (lambda r: (r[0], pick(r[1])))
            return fun._compiled.function, _Selector(both, both)
        return fun._compiled.function, _Selector(lambda r: pick(r[1]), pick, index=1)
    return fun, _Selector()


def _compile_forward(fun: Any, argnums: tuple[int, ...], engine: str) -> Any:
    """``(jvp function, select)`` from the source engine, or None when the tape must run."""
    if engine == "tape" or (isinstance(fun, _Transformed) and fun.engine == "tape"):
        return None
    target, select = _generated(fun)
    if target is fun and isinstance(fun, (_Transformed, _Derivative)):
        if isinstance(fun, _Derivative):
            what = f"a derivative of {_describe(fun)}"
        else:
            what = ("a derivative of a gradient with has_aux" if fun.has_aux else
                    "a derivative of a derivative of a derivative" if fun._nested is not None
                    else f"a derivative of {_describe(fun)}")
        return _refuse_nest(fun, what, engine)
    try:
        compiled = compiler.compile_jvp(target, argnums, select.index)
    except TransformError as err:
        if engine == "source":
            raise
        _warn_fallback(fun, err, "")
        return None
    return compiled, select


def _tape_instead(fun: Any, engine: str, kind: str, *values: Any) -> bool:
    """Whether a forward-mode transform with generated code runs on the tape for this call:
    nested in a function the tape differentiates, or given Tensors that require grad."""
    if not (_TAPE_RUNS[0] and recording()) and not any_live(values):
        return False
    if engine == "source":
        raise _nesting_error(
            fun, f"srcgrad.{kind}({_describe(fun)}) with engine='source' called inside a "
            "function that the tape differentiates", "Its generated code would return "
            "constants, cutting the outer derivative")
    return True


def _check_tangents(primals: tuple, tangents: tuple) -> None:
    if len(primals) != len(tangents):
        raise ValueError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                         f"{len(tangents)} tangents")
    for p, t in zip(primals, tangents, strict=True):
        if type(p) is np.ndarray and type(t) is np.ndarray and p.shape == t.shape:
            continue
        if np.shape(p) != np.shape(t):
            raise ValueError(f"a tangent has shape {np.shape(t)} but its primal has shape "
                             f"{np.shape(p)}")


def _tangent_like(t: Any, p: Any) -> Any:
    """A tangent in its primal's form: float for a Python float, the primal's float dtype
    (another library's arrays stay as they are: never converted to NumPy)."""
    if _is_tensor(t) or _is_tensor(p) or _foreign(t):
        return t
    if type(t) is np.ndarray and type(p) is np.ndarray and t.dtype == p.dtype:
        return t
    if isinstance(p, float):
        return float(t)
    if type(p) is complex:
        return complex(t)
    if isinstance(p, np.generic) and np.ndim(t) == 0:
        return p.dtype.type(t) if p.dtype.kind in "fc" else np.float64(t)
    if isinstance(p, (list, tuple)):
        return type(p)(_tangent_like(u, q) for u, q in zip(t, p, strict=True))
    dtype = _dtype_of(p)
    return np.asarray(t, dtype=dtype if dtype is not None and dtype.kind in "fc" else None)


def _forward_arguments(fun: Callable[..., Any], primals: Any, tangents: Any,
                       engine: str) -> tuple[tuple, tuple, tuple[int, ...]]:
    """Checked ``(primals, tangents, argnums)`` for a forward-mode transform."""
    _check_engine(engine)
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    _check_tangents(primals, tangents)
    argnums = tuple(range(len(primals)))
    _check_inputs(fun, primals, argnums)
    return primals, tangents, argnums


def _run_forward(forward: tuple, primals: tuple, tangents: tuple,
                 argnums: tuple[int, ...] | None = None, fun: Any = None) -> tuple[Any, Any]:
    """Call compiled tangent code: ``(value, tangent)`` as it returns them (its variant for
    the namespace of other libraries' arrays)."""
    picked = primals if argnums is None else tuple(primals[j] for j in argnums)
    tangents = tuple(_tangent_like(t, p) for t, p in zip(tangents, picked, strict=True))
    compiled = _compiled_in(forward[0], call_namespace(primals + tangents, {}), fun)
    return compiled.function(*tangents, *primals)


def _foreign(x: Any) -> bool:
    """Is ``x`` an array of another library than NumPy (not a number, not a Tensor)?"""
    return type(x) not in _NUMPY_VALUES and hasattr(x, "shape") and not _is_tensor(x) \
        and not isinstance(x, np.generic)


def _compiled_in(compiled: Any, ns: Any, fun: Any) -> Any:
    """``compiled``, or its variant for namespace ``ns`` (errors located in ``fun``'s code)."""
    if ns is None:
        return compiled
    from .compiler.variants import variant

    while isinstance(fun, (_Transformed, _Derivative)):
        fun = fun.fun
    return variant(compiled, ns, fun)


def _no_tape_for(fun: Any, engine: str, *values: Any) -> None:
    """Refuse to run the tape (NumPy only) on other libraries' arrays."""
    ns = call_namespace(values, {})
    if ns is not None:
        raise _numpy_only(fun, ns, engine)


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, *,
        engine: str = "auto") -> tuple:
    """``(fun(*primals), J @ tangents)``: a Jacobian-vector product (JAX's signature).

    The source engine emits forward-mode (tangent) code, ``jvp_source(fun)`` shows
    it; ``fun`` may itself be a gradient from :func:`grad` (forward-over-reverse).
    """
    spread = _spread_forward(fun, primals, tangents, engine)
    if spread is not None:
        spread, flat = spread
        return _jvp(spread.function, spread.args, flat, spread.argnums, engine)
    primals, tangents, argnums = _forward_arguments(fun, primals, tangents, engine)
    return _jvp(fun, primals, tangents, argnums, engine)


def _spread_forward(fun: Callable[..., Any], primals: Any, tangents: Any,
                    engine: str) -> tuple[treeargs.Spread, tuple] | None:
    """For tree primals: ``(spread, flat tangents)`` (tangents shaped like the primals)."""
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    argnums = tuple(range(len(primals)))
    if not treeargs.has_tree(primals, argnums):
        return None
    _check_engine(engine)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                         f"{len(tangents)} tangents")
    spread = treeargs.spread(fun, primals, argnums)
    flat = spread.scatter(tangents)
    picked = tuple(spread.args[j] for j in spread.argnums)
    _check_tangents(picked, flat)
    _check_inputs(fun, spread.args, spread.argnums)
    return spread, flat


def _jvp(fun: Callable[..., Any], primals: tuple, tangents: tuple, argnums: tuple[int, ...],
         engine: str) -> tuple:
    forward = _compile_forward(fun, argnums, engine)
    if forward is not None and not _tape_instead(fun, engine, "jvp", primals, tangents):
        out, tangent = _run_forward(forward, primals, tangents, argnums, fun)
        out = forward[1].out(out)
        outputs.check_array_output("jvp", _name(fun), out)
        tangent = forward[1].tangent(tangent)
        if outputs.is_tree(out):
            tangent = outputs.integer_tangents(out, tangent)
        return out, tangent
    _no_tape_for(fun, engine, primals, tangents)
    from .autograd import functional
    from .autograd.transforms import tape_functional

    return tape_functional(functional.jvp, fun, primals, argnums, tangents)


def jvp_source(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> str:
    """The tangent code the source engine emits for ``fun`` (``d<arg>`` parameters first)."""
    nums, _ = _normalize_argnums(fun, argnums)
    target, select = _generated(fun)
    return compiler.compile_jvp(target, nums, select.index).source


def _basis(x: Any, ns: Any = None) -> Any:
    """The unit tangents of ``x``, one per coordinate, in its form (``ns``: in the
    namespace of another library's arrays)."""
    if ns is not None:
        shape = tuple(np.shape(x))
        size = math.prod(shape)
        eye = ns.eye(size, dtype=x.dtype)
        for k in range(size):
            yield ns.reshape(eye[k, ...], shape)
        return
    size = int(np.size(x))
    for k in range(size):
        e = np.zeros(size, dtype=_inexact_dtype(x))
        e[k] = 1.0
        yield _tangent_like(e.reshape(np.shape(x)), x)


def _is_tensor(x: Any) -> bool:
    from .autograd.tensor import Tensor

    return isinstance(x, Tensor)


def _inexact_dtype(x: Any) -> Any:
    """``x``'s dtype if floating or complex (a complex input's basis is complex), else
    float64."""
    dtype = _dtype_of(x)
    return dtype if dtype is not None and dtype.kind in "fc" else np.float64


def _forward_jacobian(run: Callable[..., Any], args: tuple, argnums: tuple[int, ...],
                      select: _Selector, ns: Any = None) -> tuple[Any, list]:
    """``(value, [d out / d args[j] for j in argnums])``, one tangent pass per coordinate.

    ``run(*tangents, *args)`` is a compiled JVP returning ``value`` (``out`` is
    ``select.out(value)``); each block has shape ``out.shape + args[j].shape`` (a tuple
    of blocks for a tuple output); ``ns``: the namespace of other libraries' arrays.
    """
    if ns is None:
        zeros = [_tangent_like(np.zeros(np.shape(args[j]), _inexact_dtype(args[j])), args[j])
                 for j in argnums]
    else:
        zeros = [ns.zeros_like(args[j]) for j in argnums]
    value = out = None
    blocks = []
    for slot, j in enumerate(argnums):
        columns = []
        for e in _basis(args[j], ns):
            tangents = list(zeros)
            tangents[slot] = e
            value, tangent = run(*tangents, *args)
            out = select.out(value)
            columns.append(select.tangent(tangent))
        blocks.append(_stack_columns(columns, out, args[j], ns))
    return value, blocks


def _stack_columns(columns: list, out: Any, x: Any, ns: Any = None) -> Any:
    if outputs.is_tree(out):      # (a dict, a namedtuple, nested containers: leaf by leaf)
        leaves, treedef = tree.flatten(out)
        flat = [treedef.flatten_up_to(c) for c in columns]
        return tree.unflatten(treedef, [_stack_columns([c[i] for c in flat], o, x, ns)
                                        for i, o in enumerate(leaves)])
    if isinstance(out, (tuple, list)):
        return type(out)(_stack_columns([c[i] for c in columns], o, x, ns)
                         for i, o in enumerate(out))
    shape = tuple(np.shape(out)) + tuple(np.shape(x))
    if ns is not None:
        if not columns:
            return ns.zeros(shape, dtype=x.dtype)
        return ns.reshape(ns.stack(columns, axis=-1), shape)
    if not columns:
        return np.zeros(shape)
    # (Tensors stay Tensors: a tape computation may be differentiating this one)
    return np.stack([c if hasattr(c, "shape") else np.asarray(c) for c in columns],
                    axis=-1).reshape(shape)


def _reverse_jacobian(fun: Any, args: tuple, argnums: tuple[int, ...],
                      forward: Any = None, check: Any = None) -> list:
    """The blocks of :func:`_forward_jacobian`, one pullback per output coordinate.

    Given ``forward`` (``(compiled jvp, select)``), switches to forward mode when the
    output, once computed, has more coordinates than the inputs (or is a tuple, or
    complex). ``check(out)`` refuses outputs the caller does not take.
    """
    ns = call_namespace(args, {})
    compiled = _compiled_in(compiler.compile_vjp(fun, argnums), ns, fun)
    out, pullback = compiled.function(*args)
    outputs.check_array_output("jacobian", _name(fun), out)
    if check is not None:
        check(out)
    inputs = sum(math.prod(np.shape(args[j])) for j in argnums)
    container = isinstance(out, (tuple, list)) or outputs.is_tree(out)
    complex_out = not container and _is_complex(out)
    if forward is not None and (complex_out or container
                                or inputs < math.prod(np.shape(out))):
        jvp_fn, select = forward
        jvp_fn = _compiled_in(jvp_fn, ns, fun)
        return _forward_jacobian(jvp_fn.function, args, argnums, select, ns)[1]
    if outputs.is_tree(out) and ns is None:
        return _reverse_tree_jacobian(fun, out, pullback, args, argnums)
    return _pullback_rows(out, pullback, args, argnums, ns)


def _pullback_rows(out: Any, pullback: Callable[[Any], tuple], args: tuple,
                   argnums: tuple[int, ...], ns: Any = None) -> list:
    """The Jacobian blocks of ``out`` (one per argument in ``argnums``) from its pullback,
    called once per output coordinate (JAX's convention: a complex input's row is
    ``d/dx - 1j d/dy`` of that coordinate; a holomorphic function's, its derivative);
    ``ns``: the namespace of other libraries' arrays."""
    rows = [pullback(e) for e in _basis(out, ns)]
    blocks = []
    for slot, j in enumerate(argnums):
        shape = tuple(np.shape(out)) + tuple(np.shape(args[j]))
        if ns is not None:
            blocks.append(ns.reshape(ns.stack([r[slot] for r in rows]), shape) if rows
                          else ns.zeros(shape, dtype=args[j].dtype))
            continue
        if not rows:
            blocks.append(np.zeros(shape, _inexact_dtype(args[j])))
            continue
        # (Tensors stay Tensors: a tape computation may be differentiating this one)
        blocks.append(np.stack([r[slot] if hasattr(r[slot], "shape") else np.asarray(r[slot])
                                for r in rows]).reshape(shape))
    return blocks


def _is_complex(x: Any) -> bool:
    from .namespaces import float_kind

    return np.iscomplexobj(x) if not _foreign(x) else float_kind(x) == "c"


def _real_leaves(value: Any) -> bool:
    """Whether some leaf of ``value`` is real (holomorphic transforms refuse those)."""
    if isinstance(value, (tuple, list)):
        return any(_real_leaves(v) for v in value)
    dtype = _dtype_of(value)
    return dtype is not None and dtype.kind != "c"


def _reverse_tree_jacobian(fun: Any, out: Any, pullback: Any, args: tuple,
                           argnums: tuple[int, ...]) -> list:
    """:func:`_reverse_jacobian` for a pytree output: one pullback per coordinate of each
    leaf, the cotangent zero at every other leaf; blocks in the output's structure."""
    leaves, treedef = tree.flatten(out)
    if _any_complex(tuple(leaves)):     # (rows by pullbacks would lose imaginary parts)
        raise TypeError(f"srcgrad.jacobian of {_name(fun)}, which returns complex values "
                        "in a tree: use srcgrad.jacfwd or srcgrad.jvp")
    zeros = [np.zeros(np.shape(o), _inexact_dtype(o)) for o in leaves]
    per_leaf = []       # [output leaf][argument]
    for i, o in enumerate(leaves):
        rows = []
        for e in _basis(o):
            cotangent = list(zeros)
            cotangent[i] = e
            rows.append(pullback(tree.unflatten(treedef, cotangent)))
        per_leaf.append([np.stack([np.asarray(r[slot]) for r in rows]).reshape(
            np.shape(o) + np.shape(args[j])) if rows else np.zeros(np.shape(o) + np.shape(args[j]))
            for slot, j in enumerate(argnums)])
    return [tree.unflatten(treedef, [b[slot] for b in per_leaf])
            for slot in range(len(argnums))]


class _Derivative:
    """``jacobian(f)``, ``jacfwd``, ``jacrev``, ``hessian(f)``: a function of ``f``'s
    arguments, with ``.fun`` and ``.engine``."""

    def __init__(self, fun: Callable[..., Any], argnums: Any, engine: str, kind: str,
                 mode: str = "auto", holomorphic: bool = False) -> None:
        if not callable(fun):
            raise TypeError(f"srcgrad.{kind} expects a callable, got {type(fun).__name__}")
        _check_engine(engine)
        self.fun = fun
        self.argnums, self._as_tuple = _normalize_argnums(fun, argnums)
        self._kind = kind
        self.holomorphic = holomorphic
        # the name in messages: what the user called
        self._what = {"forward": "jacfwd", "reverse": "jacrev"}.get(mode, kind)
        # a derivative of a gradient runs forward-over-reverse, whatever the mode asked
        self._mode = "forward" if isinstance(fun, _Transformed) else mode
        self._requested = engine
        self._forward = None
        self._engine: str | None = None
        self._trees: dict = {}      # tree structure -> the derivative of its leaves
        self._plans: dict = {}      # tree structure -> how its calls are spread
        functools.update_wrapper(self, fun, updated=())
        if not _reads_trees(fun, self.argnums):
            self._setup()
        # else: transformed when first called with arrays (with trees: per structure)

    def _setup(self) -> None:
        fun, engine, kind = self.fun, self._requested, self._kind
        if kind == "hessian":
            # forward-over-reverse: the Jacobian of the gradient's generated code
            self._gradient = grad(fun, argnums=self.argnums if self._as_tuple
                                  else self.argnums[0], engine=engine,
                                  holomorphic=self.holomorphic)
            self._forward = _compile_forward(self._gradient, self.argnums, engine)
        elif self._mode != "reverse":
            self._forward = _compile_forward(fun, self.argnums, engine)
        self._engine = "source" if self._forward is not None or (
            self._mode == "reverse" and engine != "tape" and self._reverse_ok()) else "tape"

    @property
    def engine(self) -> str:
        """``"source"`` or ``"tape"`` (for tree arguments, the last structure's)."""
        if self._engine is None:
            if self._trees:
                return next(reversed(self._trees.values())).engine
            self._setup()
        return self._engine

    def _tree_call(self, args: tuple) -> Any:
        """The Jacobian or Hessian for tree arguments: trees of blocks, as JAX nests them."""
        spread = treeargs.spread(self.fun, args, self.argnums, self._plans)
        inner = spread.plan.inner
        if inner is None:
            if len(self._trees) >= 64:
                self._trees.clear()
            inner = _Derivative(spread.function, spread.argnums, self._requested, self._kind,
                                self._mode, self.holomorphic)
            self._trees[spread.key] = spread.plan.inner = inner
        result = inner(*spread.args)
        if self._kind == "hessian":
            n = len(spread.argnums)
            rows = [spread.gather(result[i]) for i in range(n)]
            per = [spread.gather([rows[i][b] for i in range(n)]) for b in range(len(rows[0]))]
            nested = tuple(tuple(per[b][a] for b in range(len(per))) for a in range(len(per)))
            return nested if self._as_tuple else nested[0][0]
        # [output leaf][leaf argument] -> [output leaf][argument tree], as JAX nests them
        return outputs.map_blocks(lambda b: _one_or_all(spread.gather(b), self._as_tuple),
                                  result)

    def source_function(self) -> None:
        """No generated code stands for a Jacobian or Hessian inside another transform."""
        return None

    def _reverse_ok(self) -> bool:
        try:
            compiler.compile_vjp(self.fun, self.argnums)
        except TransformError as err:
            if self._requested == "source":
                raise
            _warn_fallback(self.fun, err, "")
            return False
        return True

    @property
    def source(self) -> str:
        """The generated tangent code (forward mode, or the Hessian's forward-over-reverse)."""
        if self._forward is None:
            if self.engine == "source":
                return compiler.compile_vjp(self.fun, self.argnums).source
            raise AttributeError(f"{_name(self.fun)} runs on the tape engine, so there is no "
                                 "generated source")
        return self._forward[0].source

    def __call__(self, *args: Any) -> Any:
        if _check_inputs(self.fun, args, self.argnums):
            return self._tree_call(args)
        complex_in = self._check_complex_inputs(args)
        # a complex input's Jacobian (not holomorphic) has rows only: reverse mode
        rows_only = complex_in and not self.holomorphic
        if self.engine == "tape" or _tape_instead(self.fun, self._requested, self._kind, args) \
                or (rows_only and isinstance(self.fun, _Transformed) and self._tape_for(
                    "the Jacobian of a gradient with respect to complex inputs")):
            _no_tape_for(self, self._requested, args)
            return self._tape(args, complex_in)
        ns = call_namespace(args, {})
        if self._kind == "hessian":
            compiled, select = self._forward
            compiled = _compiled_in(compiled, ns, self.fun)
            value, blocks = _forward_jacobian(compiled.function, args, self.argnums, select, ns)
            _check_scalar(self.fun, value[0], holomorphic=self.holomorphic)
            if not self._as_tuple:
                return blocks[0]
            # rows: one per differentiated argument, as JAX nests them
            return tuple(tuple(blocks[j][i] for j in range(len(blocks)))
                         for i in range(len(self.argnums)))
        blocks = None
        if self._mode != "forward" and not isinstance(self.fun, _Transformed):
            forward = self._forward if self._mode == "auto" and not rows_only else None
            try:
                blocks = _reverse_jacobian(self.fun, args, self.argnums, forward,
                                           functools.partial(self._check_output, complex_in))
            except TransformError as err:
                if rows_only and self._requested != "source":
                    _warn_fallback(self.fun, err, "")
                    return self._tape(args, complex_in)
                if self._forward is None or self._mode == "reverse" or rows_only:
                    raise       # (auto: forward mode, e.g. over generated gradient code)
        if blocks is None:
            compiled, select = self._forward
            compiled = _compiled_in(compiled, ns, self.fun)
            value, blocks = _forward_jacobian(compiled.function, args, self.argnums, select, ns)
            outputs.check_array_output("jacobian", _name(self.fun), select.out(value))
            self._check_output(complex_in, select.out(value))
        return _by_output(blocks, self._as_tuple)

    def _tape_for(self, what: str) -> bool:
        """True (the tape runs ``what``), or the source engine's refusal when asked for."""
        if self._requested == "source":
            raise _nesting_error(self.fun, f"{_describe(self)}: {what}", "The source engine "
                                 "computes it by forward mode, which gives only d/dx")
        return True

    def _check_complex_inputs(self, args: tuple) -> bool:
        """JAX's rules for complex inputs; whether there is one.

        With ``holomorphic=True`` every differentiated input is complex. Otherwise a
        complex input has a Jacobian of rows ``d/dx - 1j d/dy`` (reverse mode, real
        outputs), which forward mode (jacfwd, and hessian, forward-over-reverse) refuses.
        """
        found = False
        for i in self.argnums:
            dtype = _dtype_of(args[i])
            if dtype is None:
                continue
            if self.holomorphic and dtype.kind != "c":
                raise TypeError(f"srcgrad.{self._what} with holomorphic=True requires complex "
                                f"inputs, but argument {i} of {_name(self.fun)} has dtype "
                                f"{dtype}")
            if dtype.kind == "c":
                found = True
                if not self.holomorphic and self._what in ("jacfwd", "hessian"):
                    raise TypeError(
                        f"srcgrad.{self._what} requires real inputs, but argument {i} of "
                        f"{_name(self.fun)} has dtype {dtype}. For a holomorphic function "
                        "pass holomorphic=True; otherwise use srcgrad.jacrev (real outputs) "
                        "or srcgrad.jvp directly")
        return found

    def _check_output(self, complex_in: bool, out: Any) -> None:
        """JAX's rules for outputs: complex with ``holomorphic=True``; real where the
        Jacobian is computed by rows (jacrev, and jacobian of complex inputs)."""
        if self.holomorphic:
            if _real_leaves(out):
                raise TypeError(f"srcgrad.{self._what} with holomorphic=True requires "
                                f"{_name(self.fun)} to return complex values")
        elif _any_complex(out) and (self._what == "jacrev" or complex_in):
            raise self._complex_output_error(complex_in)

    def _complex_output_error(self, complex_in: bool) -> TypeError:
        return TypeError(
            f"srcgrad.{self._what} requires {_name(self.fun)} to return real values"
            f"{' (its inputs are complex)' if complex_in else ''}, but it returns complex "
            "values. For a holomorphic function pass holomorphic=True; otherwise use "
            "srcgrad.vjp directly" + ("" if complex_in else " or srcgrad.jacfwd"))

    def _tape(self, args: tuple, complex_in: bool = False) -> Any:
        from .autograd import functional
        from .autograd.engine import ComplexSeedError
        from .autograd.transforms import tape_functional

        if self._kind == "hessian":
            if self.holomorphic:
                # forward-over-reverse: the tape's tangents of the holomorphic gradient
                gradient = grad(self.fun, argnums=self.argnums if self._as_tuple
                                else self.argnums[0], engine="tape", holomorphic=True)
                _, blocks = _forward_jacobian(_tape_tangents(gradient, self.argnums), args,
                                              self.argnums, _Selector())
                if not self._as_tuple:
                    return blocks[0]
                return tuple(tuple(blocks[j][i] for j in range(len(blocks)))
                             for i in range(len(self.argnums)))
            _check_scalar(self.fun, self.fun(*args))
            blocks = tape_functional(functional.hessian, self.fun, args, self.argnums)
            return blocks if self._as_tuple else blocks[0][0]
        if complex_in or self.holomorphic:
            return _by_output(self._tape_complex(args, complex_in), self._as_tuple)
        try:
            # nested as JAX does: the output's structure, [argument] at each of its leaves
            blocks = tape_functional(functional.jacobian, self.fun, args, self.argnums,
                                     check="jacobian")
        except ComplexSeedError:
            # a complex output of real inputs: its columns, by forward mode
            if self._what == "jacrev":
                raise self._complex_output_error(False) from None
            return _by_output(self._tape_complex(args, complex_in), self._as_tuple)
        return blocks if self._as_tuple else outputs.map_blocks(lambda b: b[0], blocks)

    def _tape_complex(self, args: tuple, complex_in: bool) -> list:
        """The Jacobian blocks on the tape where complex values are differentiated, by the
        transforms' own (JAX's) convention: rows from pullbacks, or columns from tangents."""
        if not complex_in or (self.holomorphic and self._mode == "forward"):
            value, blocks = _forward_jacobian(_tape_tangents(self.fun, self.argnums), args,
                                              self.argnums, _Selector())
            self._check_output(complex_in, value)
            return blocks
        out, _, pullback = _tape_vjp(self.fun, args, {}, self.argnums, False, [])
        outputs.check_array_output("jacobian", _name(self.fun), out)
        self._check_output(complex_in, out)
        return _pullback_rows(out, pullback, args, self.argnums)


def _tape_tangents(fun: Any, argnums: tuple[int, ...]) -> Callable[..., tuple]:
    """``run(*tangents, *args) -> (value, tangent)`` on the tape, as compiled JVPs are
    called (:func:`_forward_jacobian`)."""
    from .autograd import functional
    from .autograd.transforms import tape_functional

    def run(*values: Any) -> tuple:
        tangents, args = values[:len(argnums)], values[len(argnums):]
        return tape_functional(functional.jvp, fun, args, argnums, tangents)
    return run


def _one_or_all(values: list, as_tuple: bool) -> Any:
    return tuple(values) if as_tuple else values[0]


def _any_complex(result: Any) -> bool:
    if isinstance(result, (tuple, list)):
        return any(_any_complex(b) for b in result)
    return _dtype_of(result) is not None and _dtype_of(result).kind == "c"


def _by_output(blocks: list, as_tuple: bool) -> Any:
    """Jacobian blocks (one per argument) nested as JAX does: [output][argument]."""
    if not as_tuple:
        return blocks[0]
    if blocks and outputs.is_tree(blocks[0]):    # a tuple over the arguments at each leaf
        leaves, treedef = tree.flatten(blocks[0])
        flat = [leaves] + [treedef.flatten_up_to(b) for b in blocks[1:]]
        return tree.unflatten(treedef, [tuple(b[i] for b in flat) for i in range(len(leaves))])
    if blocks and isinstance(blocks[0], (tuple, list)):
        return type(blocks[0])(tuple(b[o] for b in blocks) for o in range(len(blocks[0])))
    return tuple(blocks)


def jacobian(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
             engine: str = "auto", holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun``: shaped ``out.shape + arg.shape`` (a tuple for tuple argnums).

    Reverse mode (one pullback per output coordinate, after one forward sweep)
    unless the output turns out to have more coordinates than the differentiated
    inputs, then forward mode (one tangent pass per input coordinate);
    :func:`jacfwd` and :func:`jacrev` choose explicitly. Complex values follow JAX:
    a complex input's row is ``d/dx - 1j d/dy`` of a real output (as :func:`jacrev`), a
    complex output of real inputs has complex columns (as :func:`jacfwd`), and with
    ``holomorphic=True`` (complex inputs and outputs) it is the complex derivative.
    """
    return _Derivative(fun, argnums, engine, "jacobian", holomorphic=holomorphic)


def jacfwd(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
           engine: str = "auto", holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by forward mode: one tangent pass per input coordinate.

    Real inputs only unless ``holomorphic=True`` (complex inputs and outputs), as in JAX.
    """
    return _Derivative(fun, argnums, engine, "jacobian", mode="forward",
                       holomorphic=holomorphic)


def jacrev(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
           engine: str = "auto", holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by reverse mode: one pullback per output coordinate.

    Real outputs only unless ``holomorphic=True`` (complex inputs and outputs), as in JAX;
    a complex input's row is ``d/dx - 1j d/dy`` of that output coordinate.
    """
    return _Derivative(fun, argnums, engine, "jacobian", mode="reverse",
                       holomorphic=holomorphic)


def hessian(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
            engine: str = "auto", holomorphic: bool = False) -> Callable[..., Any]:
    """The Hessian of scalar ``fun``: shaped ``arg.shape + arg.shape`` (nested tuples for
    tuple argnums, as in JAX), computed forward-over-reverse.

    Real inputs only unless ``holomorphic=True`` (complex inputs, a complex ``fun``: the
    matrix of second complex derivatives), as in JAX.
    """
    return _Derivative(fun, argnums, engine, "hessian", holomorphic=holomorphic)


# fun -> {(argnums, engine): (what the code depends on, tangent code)}: weak, so an entry
# goes with its function; kept while ``compiler.state(fun)`` stays the same
_HVP_CODE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hvp_code(fun: Callable[..., Any], argnums: tuple[int, ...], engine: str,
              holomorphic: bool = False) -> Any:
    """The tangent code of ``fun``'s gradient, kept per function while its state stays."""
    with compiler.cache.LOCK:       # (one thread at a time changes the weak dictionary)
        found = compiler.state(fun)
        token = (found.facts, found.idents)
        try:
            kept = _HVP_CODE.setdefault(fun, {})
        except TypeError:       # no weak reference to it: nothing kept
            kept = {}
        key = (argnums, engine, holomorphic)
        cached = kept.get(key)
        if cached is not None and cached[0] == token:
            return cached[1]
        gradient = grad(fun, argnums=argnums if len(argnums) > 1 else argnums[0],
                        engine=engine, holomorphic=holomorphic)
        forward = _compile_forward(gradient, argnums, engine) if gradient.engine == "source" \
            else None
        # (the pins keep what the token names by id alive, so that no id is reused)
        kept[key] = (token, forward, found.pins)
        return forward


def hvp(fun: Callable[..., Any], primals: Any, tangents: Any, *, engine: str = "auto",
        holomorphic: bool = False) -> Any:
    """The Hessian of scalar ``fun`` at ``primals`` times ``tangents``, shaped like the primals.

    Forward-over-reverse: one pass of the tangent code of ``fun``'s generated gradient,
    so ``hvp(f, z, v)`` is ``jvp(grad(f, holomorphic=holomorphic), (z,), (v,))[1]`` also
    for complex primals (JAX's convention).
    """
    spread = _spread_forward(fun, primals, tangents, engine)
    if spread is not None:
        spread, flat = spread
        products = _hvp(spread.function, spread.args, flat, spread.argnums, engine,
                        holomorphic)
        products = spread.gather(products if len(spread.argnums) > 1 else (products,))
        return tuple(products) if len(products) > 1 else products[0]
    primals, tangents, argnums = _forward_arguments(fun, primals, tangents, engine)
    return _hvp(fun, primals, tangents, argnums, engine, holomorphic)


def _hvp(fun: Callable[..., Any], primals: tuple, tangents: tuple, argnums: tuple[int, ...],
         engine: str, holomorphic: bool = False) -> Any:
    if holomorphic:
        _check_holomorphic_inputs("hvp", fun, primals, argnums)
    forward = _hvp_code(fun, argnums, engine, holomorphic)
    if forward is not None and not _tape_instead(fun, engine, "hvp", primals, tangents):
        value, tangent = _run_forward(forward, primals, tangents, argnums, fun)
        _check_scalar(fun, value[0], holomorphic=holomorphic)
        return forward[1].tangent(tangent)
    _no_tape_for(fun, engine, primals, tangents)
    from .autograd import functional
    from .autograd.transforms import tape_functional

    if holomorphic or any(_any_complex(p) for p in primals):
        # the definition, on the tape: the tangent of the gradient (JAX's convention)
        gradient = grad(fun, argnums=argnums if len(argnums) > 1 else argnums[0],
                        engine="tape", holomorphic=holomorphic)
        return tape_functional(functional.jvp, gradient, primals, argnums, tangents)[1]
    _check_scalar(fun, fun(*primals))
    _, products = tape_functional(functional.hvp, fun, primals, argnums, tangents)
    return products if len(argnums) > 1 else products[0]


# ``grad(f)(x)`` written inside a transformed function is made when it is transformed
for _transform in (grad, value_and_grad):
    _transform.made_at_transform_time = True


def source(fn: Any) -> str:
    """The generated source of a transformed function (``fn.source``)."""
    try:
        return fn.source
    except AttributeError as err:
        raise TypeError(f"{fn!r} has no generated source: {err}") from None


compiler.set_untransformable_call_handler(_tape_call)
