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
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import compiler
from .errors import FallbackWarning, TransformError

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source"]

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
    return getattr(fun, "__qualname__", None) or getattr(fun, "__name__", repr(fun))


_FLOAT_KINDS = frozenset("fc")


def _check_inputs(fun: Callable[..., Any], args: tuple, argnums: tuple[int, ...]) -> None:
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


def _dtype_of(x: Any) -> np.dtype | None:
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, (int, float, complex, np.ndarray, np.generic)):
        return np.asarray(x).dtype
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        try:
            return np.dtype(dtype)
        except TypeError:
            return None
    if isinstance(x, (list, tuple)):
        try:
            return np.asarray(x).dtype
        except (ValueError, TypeError):
            return None
    return None


def _check_scalar(fun: Callable[..., Any], out: Any) -> None:
    shape = np.shape(out)
    if int(np.prod(shape)) != 1:
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


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


# ---------------------------------------------------------------------------
# Engine choice.

_warned: set[Any] = set()


def _warn_fallback(fun: Callable[..., Any], err: TransformError, what: str) -> None:
    key = (getattr(fun, "__code__", fun), what)
    if key in _warned:
        return
    _warned.add(key)
    where = f"{_name(fun)} runs on the tape engine" + (f" {what}" if what else "")
    warnings.warn(
        f"srcgrad could not transform {_name(fun)} ({err.construct} at "
        f"{err.filename}:{err.lineno}); {where} instead. Pass engine='tape' to choose the "
        "tape explicitly, or rewrite the construct.",
        FallbackWarning,
        stacklevel=5,
    )


def _tape_call(fun: Callable[..., Any], argnums: tuple[int, ...],
               error: TransformError) -> Callable[..., Any]:
    """Mixed mode: generated code calls a function it could not transform on the tape."""
    from .autograd.transforms import tape_vjp

    _warn_fallback(fun, error, "inside the generated gradient of its caller")

    def vjp(*args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
        out, _, pullback = tape_vjp(fun, args, kwargs, argnums, False)
        return out, pullback

    return vjp


def _compile(fun: Callable[..., Any], argnums: tuple[int, ...], has_aux: bool,
             engine: str, kind: str) -> Any:
    """The compiled transform, or None when the tape must be used."""
    if engine == "tape":
        return None
    make = compiler.compile_grad if kind == "grad" else compiler.compile_vjp
    try:
        return make(fun, argnums, has_aux=has_aux)
    except TransformError as err:
        if engine == "source":
            raise
        _warn_fallback(fun, err, "")
        return None


class _Transformed:
    """A differentiated function: callable, with ``.fun``, ``.source`` and ``.engine``."""

    def __init__(self, fun: Callable[..., Any], argnums: Any, engine: str, has_aux: bool,
                 kind: str) -> None:
        if not callable(fun):
            raise TypeError(f"srcgrad.{kind} expects a callable, got {type(fun).__name__}")
        _check_engine(engine)
        self.fun = fun
        self.argnums, self._as_tuple = _normalize_argnums(fun, argnums)
        self.has_aux = has_aux
        self._kind = kind
        self._requested = engine
        self._compiled = _compile(fun, self.argnums, has_aux, engine, kind)
        self.engine = "source" if self._compiled is not None else "tape"
        functools.update_wrapper(self, fun)

    @property
    def source(self) -> str:
        """The generated Python source (only for the source engine)."""
        if self._compiled is None:
            raise AttributeError(
                f"{_name(self.fun)} runs on the tape engine, so there is no generated source"
            )
        return self._compiled.source

    def _run(self, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
        """``(out, aux, grads or pullback)`` for one call."""
        _check_inputs(self.fun, args, self.argnums)
        if self._compiled is not None:
            value, rest = self._compiled.function(*args, **kwargs)
            out, aux = value if self.has_aux else (value, None)
            return out, aux, rest
        from .autograd.transforms import tape_vjp

        out, aux, pullback = tape_vjp(self.fun, args, kwargs, self.argnums, self.has_aux)
        return out, aux, pullback

    def _grads(self, args: tuple, kwargs: dict) -> tuple[Any, Any, tuple]:
        out, aux, rest = self._run(args, kwargs)
        _check_scalar(self.fun, out)
        if self._compiled is not None:
            grads = rest
        else:
            grads = rest(np.ones_like(np.asarray(out)))
        return out, aux, grads

    def _shape(self, grads: tuple) -> Any:
        return tuple(grads) if self._as_tuple else grads[0]

    def __repr__(self) -> str:
        return f"<srcgrad.{self._kind} of {_name(self.fun)} ({self.engine} engine)>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)


class _Grad(_Transformed):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _, aux, grads = self._grads(args, kwargs)
        g = self._shape(grads)
        return (g, aux) if self.has_aux else g


class _ValueAndGrad(_Transformed):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out, aux, grads = self._grads(args, kwargs)
        g = self._shape(grads)
        return ((out, aux), g) if self.has_aux else (out, g)


def grad(fun: Callable[..., Any] | None = None, argnums: int | tuple[int, ...] = 0, *,
         engine: str = "auto", has_aux: bool = False) -> Any:
    """The gradient of scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    Works as ``grad(f)``, ``grad(f, argnums=(0, 1))`` and as a decorator
    (``@grad`` or ``@grad(argnums=1)``).  The result keeps ``.fun`` and, for
    the source engine, ``.source``.
    """
    if fun is None:
        return functools.partial(grad, argnums=argnums, engine=engine, has_aux=has_aux)
    return _Grad(fun, argnums, engine, has_aux, "grad")


def value_and_grad(fun: Callable[..., Any] | None = None, argnums: int | tuple[int, ...] = 0, *,
                   engine: str = "auto", has_aux: bool = False) -> Any:
    """Like :func:`grad`, returning ``(value, gradient)``."""
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums, engine=engine,
                                 has_aux=has_aux)
    return _ValueAndGrad(fun, argnums, engine, has_aux, "grad")


def vjp(fun: Callable[..., Any], *primals: Any, engine: str = "auto",
        has_aux: bool = False) -> tuple:
    """``(out, pullback)``: ``pullback(cotangent)`` returns one cotangent per primal.

    With ``has_aux=True``, returns ``(out, pullback, aux)`` as JAX does.
    """
    t = _Transformed(fun, tuple(range(len(primals))), engine, has_aux, "vjp")
    out, aux, pullback = t._run(primals, {})
    return (out, pullback, aux) if has_aux else (out, pullback)


# ---------------------------------------------------------------------------
# Forward mode and second order.  These run on the tape for now (forward-mode
# products by the double-backward identity); the source engine emits only
# reverse-mode code so far.

def _tape_only(engine: str, what: str) -> None:
    _check_engine(engine)
    if engine == "source":
        raise NotImplementedError(
            f"srcgrad.{what} with engine='source' is not available yet: the source engine "
            "emits reverse-mode code only. Use engine='auto' or engine='tape'."
        )


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, *,
        engine: str = "auto") -> tuple:
    """``(fun(*primals), J @ tangents)``: a Jacobian-vector product (JAX's signature)."""
    from .autograd import functional
    from .autograd.transforms import tape_functional

    _tape_only(engine, "jvp")
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                         f"{len(tangents)} tangents")
    argnums = tuple(range(len(primals)))
    _check_inputs(fun, primals, argnums)
    for p, t in zip(primals, tangents, strict=True):
        if np.shape(p) != np.shape(t):
            raise ValueError(f"a tangent has shape {np.shape(t)} but its primal has shape "
                             f"{np.shape(p)}")
    return tape_functional(functional.jvp, fun, primals, argnums, tangents)


class _Derivative:
    """``jacobian(f)`` / ``hessian(f)``: a function of ``f``'s arguments, with ``.fun``."""

    def __init__(self, fun: Callable[..., Any], argnums: Any, engine: str, kind: str) -> None:
        if not callable(fun):
            raise TypeError(f"srcgrad.{kind} expects a callable, got {type(fun).__name__}")
        _tape_only(engine, kind)
        self.fun = fun
        self.argnums, self._as_tuple = _normalize_argnums(fun, argnums)
        self._kind = kind
        self.engine = "tape"
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any) -> Any:
        from .autograd import functional
        from .autograd.transforms import tape_functional

        _check_inputs(self.fun, args, self.argnums)
        if self._kind == "jacobian":
            blocks = tape_functional(functional.jacobian, self.fun, args, self.argnums)
            return blocks if self._as_tuple else blocks[0]
        fun = self.fun
        out = fun(*args)
        _check_scalar(fun, out)
        blocks = tape_functional(functional.hessian, self.fun, args, self.argnums)
        return blocks if self._as_tuple else blocks[0][0]


def jacobian(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
             engine: str = "auto") -> Callable[..., Any]:
    """The Jacobian of ``fun``: shaped ``out.shape + arg.shape`` (a tuple for tuple argnums)."""
    return _Derivative(fun, argnums, engine, "jacobian")


def hessian(fun: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *,
            engine: str = "auto") -> Callable[..., Any]:
    """The Hessian of scalar ``fun``: shaped ``arg.shape + arg.shape`` (nested tuples for
    tuple argnums, as in JAX)."""
    return _Derivative(fun, argnums, engine, "hessian")


def hvp(fun: Callable[..., Any], primals: Any, tangents: Any, *, engine: str = "auto") -> Any:
    """The Hessian of scalar ``fun`` at ``primals`` times ``tangents``, shaped like the primals."""
    from .autograd import functional
    from .autograd.transforms import tape_functional

    _tape_only(engine, "hvp")
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    argnums = tuple(range(len(primals)))
    _check_inputs(fun, primals, argnums)
    _check_scalar(fun, fun(*primals))
    _, products = tape_functional(functional.hvp, fun, primals, argnums, tangents)
    return products if len(primals) > 1 else products[0]


def source(fn: Any) -> str:
    """The generated source of a transformed function (``fn.source``)."""
    try:
        return fn.source
    except AttributeError as err:
        raise TypeError(f"{fn!r} has no generated source: {err}") from None


compiler.set_untransformable_call_handler(_tape_call)
