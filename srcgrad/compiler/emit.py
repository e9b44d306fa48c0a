"""Emit: print generated functions with astor, compile them under a unique file name."""

from __future__ import annotations

import ast
import re
from typing import Any

import astor
import gast

from ..identity import compile_kept
from .normalize import SIMPLE_STATEMENTS, nodes_of
from .printer import render

__all__ = ["to_source", "compile_module", "compile_source", "finish_statements"]

_COMMENT = re.compile(r"^(\s*)__comment__\((\d+)\)\s*$")


def finish_statements(stmts: list) -> list:
    """Turn IR conveniences into plain Python: ``if not x:`` and loop exits."""
    out = []
    for stmt in stmts:
        if stmt.__class__ in SIMPLE_STATEMENTS:        # (most statements: nothing to do)
            out.append(stmt)
            continue
        for attr in ("body", "orelse"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                setattr(stmt, attr, finish_statements(inner))
        if isinstance(stmt, gast.If) and not stmt.body:
            if not stmt.orelse:
                continue
            stmt.test = _negate(stmt.test)
            stmt.body, stmt.orelse = stmt.orelse, []
        if isinstance(stmt, (gast.For, gast.While)):
            flag = getattr(stmt, "break_flag", None)
            if flag is not None and not getattr(stmt, "break_added", False):
                stmt.body.append(gast.If(test=gast.Name(id=flag, ctx=gast.Load(),
                                                        annotation=None, type_comment=None),
                                         body=[gast.Break()], orelse=[]))
                stmt.break_added = True
            if not stmt.body:
                stmt.body = [gast.Pass()]
        if isinstance(stmt, gast.If) and not stmt.body:
            stmt.body = [gast.Pass()]
        out.append(stmt)
    return out


def _negate(test: Any) -> Any:
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        return test.operand
    return gast.UnaryOp(op=gast.Not(), operand=test)


def to_source(functions: list) -> str:
    """Python source for a list of gast FunctionDefs, with ``# comments`` restored."""
    text = render(functions)        # (prints comment statements as comments itself)
    return text if text is not None else astor_source(functions)


def astor_source(functions: list) -> str:
    """:func:`to_source`'s text, printed by astor (comments go through it as
    ``__comment__(<number>)`` calls, restored in its output)."""
    texts: list[str] = []
    for fn in functions:
        for node in nodes_of(fn, (gast.Expr,)):     # (comments are Expr statements)
            if getattr(node, "is_comment", False):
                call = node.value
                if isinstance(call.args[0].value, str):
                    texts.append(call.args[0].value)
                    call.args[0] = gast.Constant(value=len(texts) - 1, kind=None)
    tree = ast.Module(body=[to_ast(f) for f in functions], type_ignores=[])
    text = astor.to_source(tree, indent_with="    ")
    lines = []
    for line in text.splitlines():
        match = _COMMENT.match(line)
        if match:
            indent, index = match.groups()
            lines.append(f"{indent}# {texts[int(index)]}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def to_ast(node: Any) -> Any:
    """Convert the gast nodes generated code uses to standard ``ast`` nodes (for printing)."""
    if isinstance(node, list):
        return [to_ast(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    kind = type(node).__name__
    if kind == "arguments":
        return ast.arguments(
            posonlyargs=[_arg(a) for a in node.posonlyargs], args=[_arg(a) for a in node.args],
            vararg=_arg(node.vararg) if node.vararg else None,
            kwonlyargs=[_arg(a) for a in node.kwonlyargs],
            kw_defaults=[to_ast(d) for d in node.kw_defaults],
            kwarg=_arg(node.kwarg) if node.kwarg else None,
            defaults=[to_ast(d) for d in node.defaults])
    target = _AST_CLASSES.get(kind)
    if target is None:
        cls = getattr(ast, kind)
        names = tuple(f for f in cls._fields if not (kind == "FunctionDef" and f == "type_params"))
        target = _AST_CLASSES[kind] = (cls, names)
    cls, names = target
    return cls(**{f: to_ast(getattr(node, f, None)) for f in names})


# gast class name -> (the ast class, the fields to convert)
_AST_CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {}


def _arg(node: Any) -> Any:
    return ast.arg(arg=node.id, annotation=None)


def compile_module(source: str, label: str) -> Any:
    """``source`` compiled as a module under a file name of its own (its ``co_filename``).

    The name is ``label`` made unique (:func:`srcgrad.identity.compile_kept`):
    its lines show in tracebacks, and transforming the functions it defines
    reads this very text, kept with their code.
    """
    return compile_kept(source, label)


def compile_source(source: str, label: str, namespace: dict) -> str:
    """Compile and run ``source`` in ``namespace``; returns the file name it was given."""
    code = compile_module(source, label)
    exec(code, namespace)
    return code.co_filename
