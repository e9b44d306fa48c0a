"""The source engine: differentiate a Python function by transforming its source.

``compile_grad(f, argnums)`` reads ``f``'s source and emits a new Python
function computing ``f``'s value and gradient with plain NumPy; the pipeline
is parse -> normalize -> analyze -> reverse -> optimize -> emit (one module
each).  Results are cached on the function's code, the differentiated
arguments and the global values it reads.
"""

from __future__ import annotations

from typing import Any

from .transform import Compiled, compile_function, set_untransformable_call_handler

__all__ = ["Compiled", "compile_grad", "compile_vjp", "set_untransformable_call_handler"]


def compile_grad(fun: Any, argnums: tuple[int, ...], *, has_aux: bool = False) -> Compiled:
    """``Compiled.function(*args, **kwargs) -> (value, grads)`` for the given argnums.

    ``value`` is ``fun``'s return value (``(out, aux)`` when ``has_aux``) and
    ``grads`` holds one gradient per entry of ``argnums``.
    """
    return compile_function(fun, tuple(argnums), "grad", has_aux=has_aux)


def compile_vjp(fun: Any, argnums: tuple[int, ...], *, has_aux: bool = False) -> Compiled:
    """``Compiled.function(*args, **kwargs) -> (value, pullback)``.

    ``pullback(cotangent)`` returns one cotangent per entry of ``argnums`` and
    can be called any number of times.
    """
    return compile_function(fun, tuple(argnums), "vjp", has_aux=has_aux)
