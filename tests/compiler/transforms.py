"""Helpers the compiler tests share: every mode's code for a case, and full tree dumps."""

from __future__ import annotations

from typing import Any

import gast

from srcgrad.compiler import compile_grad, compile_jvp, compile_vjp, transform
from srcgrad.errors import TransformError

ALL_MODES = (compile_grad, compile_vjp, compile_jvp)
REVERSE_MODES = (compile_grad, compile_vjp)


def transform_texts(case: Any, compilers: tuple = ALL_MODES) -> list[str]:
    """Each compiler's generated source for ``case`` (``"refused: ..."`` where it
    refuses), transformed afresh: the cache is cleared before and after."""
    transform.clear_cache()
    texts = []
    try:
        for compile_ in compilers:
            try:
                texts.append(compile_(case.fun, case.argnums).source)
            except TransformError as exc:
                texts.append(f"refused: {exc}")
    finally:
        transform.clear_cache()
    return texts


def dump_all(node: Any) -> Any:
    """Everything a node holds, attributes and node classes included."""
    if isinstance(node, list):
        return [dump_all(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    return type(node).__name__, [(k, dump_all(v)) for k, v in node.__dict__.items()]
