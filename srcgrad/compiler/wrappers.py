"""Wrappers the source engine looks through, because their code provably forwards.

A decorated function (``@functools.wraps``) runs the wrapper's code, not the
function in ``__wrapped__``: differentiating ``__wrapped__`` instead is right only
when the wrapper calls it with exactly its own arguments and returns its result
unchanged.  :func:`unwrapped` proves that from the wrapper's proven source
(``def w(*args, **kwargs): return f(*args, **kwargs)``, optionally through one
name, with ``f`` the closure cell holding ``w.__wrapped__``), or looks through a
``staticmethod``; anything else (a cache, a wrapper that logs, scales or checks)
is left for the engine to transform or refuse.  An object whose class defines
``__call__`` in Python is differentiated as that method bound to the object (the
method ``obj(x)`` runs: looked up on the class, as Python looks up special methods).
"""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any

from .. import identity

__all__ = ["unwrapped"]


def unwrapped(fun: Any) -> Any:
    """The function whose derivative is ``fun``'s, looking through proven forwarders."""
    seen = 0
    while seen < 100:
        seen += 1
        if isinstance(fun, staticmethod):
            fun = fun.__func__
            continue
        method = _call_method(fun)
        if method is not None:
            return method
        target = _forwarded(fun)
        if target is None:
            return fun
        fun = target
    return fun


def _call_method(fun: Any) -> Any:
    """``type(fun).__call__`` bound to ``fun`` when it is a plain Python function."""
    if isinstance(fun, (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
                        type)) or hasattr(fun, "__code__"):
        return None
    method = inspect.getattr_static(type(fun), "__call__", None)
    if not isinstance(method, types.FunctionType):
        return None
    return types.MethodType(method, fun)


def _forwarded(fun: Any) -> Any:
    """``fun.__wrapped__`` when ``fun``'s code is a pure forwarder to it, else ``None``."""
    target = getattr(fun, "__wrapped__", None)
    code = getattr(fun, "__code__", None)
    if target is None or code is None or not callable(target) \
            or getattr(fun, "__self__", None) is not None:
        return None
    try:
        found = identity.definition(code, getattr(fun, "__qualname__", None),
                                    getattr(fun, "__globals__", None))
    except identity.Unproven:
        return None
    node = found.node
    if not isinstance(node, ast.FunctionDef):
        return None
    callee = _forwarding_call(node)
    if callee is None or callee not in code.co_freevars:
        return None
    cell = fun.__closure__[code.co_freevars.index(callee)]
    try:
        held = cell.cell_contents
    except ValueError:
        return None
    return target if held is target else None


def _forwarding_call(node: ast.FunctionDef) -> str | None:
    """The name ``f`` when ``node`` is ``def w(*a, **k): [doc] [r = ]f(*a, **k); return r``."""
    args = node.args
    if args.posonlyargs or args.args or args.kwonlyargs or args.vararg is None \
            or args.kwarg is None or args.defaults or args.kw_defaults:
        return None
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) == 1 and isinstance(body[0], ast.Return):
        call = body[0].value
    elif len(body) == 2 and isinstance(body[0], ast.Assign) and isinstance(body[1], ast.Return) \
            and len(body[0].targets) == 1 and isinstance(body[0].targets[0], ast.Name) \
            and isinstance(body[1].value, ast.Name) \
            and body[1].value.id == body[0].targets[0].id:
        call = body[0].value
    else:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and len(call.args) == 1 and isinstance(call.args[0], ast.Starred)
            and isinstance(call.args[0].value, ast.Name)
            and call.args[0].value.id == args.vararg.arg
            and len(call.keywords) == 1 and call.keywords[0].arg is None
            and isinstance(call.keywords[0].value, ast.Name)
            and call.keywords[0].value.id == args.kwarg.arg):
        return None
    names = {args.vararg.arg, args.kwarg.arg}
    if call.func.id in names:
        return None
    return call.func.id
