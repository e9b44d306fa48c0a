"""The source engine: differentiate a Python function by transforming its source.

``compile_grad(f, argnums)`` reads ``f``'s source and emits a new Python
function computing ``f``'s value and gradient with plain NumPy; the pipeline
is parse -> normalize -> analyze -> reverse or forward -> optimize -> emit
(one module each; the two sweeps share :mod:`.sweep`).  Results are cached
on what the generated code depends on (:mod:`.cache`).
"""

from __future__ import annotations

from typing import Any

from . import trees
from .cache import state
from .transform import Compiled, clear_cache, compile_function, set_untransformable_call_handler

__all__ = ["trees", "Compiled", "compile_grad", "compile_vjp", "compile_jvp",
           "set_untransformable_call_handler", "state", "clear_cache"]


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


def compile_jvp(fun: Any, argnums: tuple[int, ...],
                tangent_index: int | None = None) -> Compiled:
    """``Compiled.function(*tangents, *args, **kwargs) -> (value, tangent)``.

    Forward mode: one tangent per entry of ``argnums``, passed before the
    arguments; the generated code names them ``d<arg>``.  With
    ``tangent_index``, ``fun`` returns a tuple and only the tangent of that
    item is computed (and returned).
    """
    return compile_function(fun, tuple(argnums), "jvp", tangent_index=tangent_index)
