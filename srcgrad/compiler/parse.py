"""Parse: a Python function's source as a gast tree, with its names resolved.

The tree's line numbers are the user's file line numbers, so every error
the later passes raise points at the user's code.
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any

import gast

from ..errors import TransformError
from ..rules.source import matches_code

__all__ = ["ParsedFunction", "parse_function", "MISSING"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass
class ParsedFunction:
    """A user function's definition node plus what is needed to locate errors."""

    fun: Any
    node: gast.FunctionDef | gast.Lambda
    filename: str
    lines: list[str]           # the source lines of the definition, undented
    first_lineno: int          # line number of lines[0] in the user's file
    indent: int                # columns removed by dedenting
    closure: dict[str, Any] = field(default_factory=dict)
    # the names generated code calls builtins it introduces by (``len``, or ``len_1``
    # where the user's code binds ``len`` to something else): see ``Normalizer``
    builtin_names: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return getattr(self.fun, "__name__", "f")

    def resolve(self, name: str) -> Any:
        """The object a free name refers to, or ``MISSING``."""
        if name in self.closure:
            return self.closure[name]
        globs = getattr(self.fun, "__globals__", {})
        if name in globs:
            return globs[name]
        return getattr(builtins, name, MISSING)

    def locate(self, node: Any) -> tuple[str, int, int, str]:
        """``(filename, lineno, col_offset, line)`` of ``node`` in the user's file."""
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return self.filename, self.first_lineno, self.indent, self.line_at(self.first_lineno)
        col = getattr(node, "col_offset", 0) or 0
        return self.filename, lineno, col + self.indent, self.line_at(lineno)

    def line_at(self, lineno: int) -> str:
        index = lineno - self.first_lineno
        if 0 <= index < len(self.lines):
            return " " * self.indent + self.lines[index].rstrip("\n")
        return ""

    def source_line(self, node: Any) -> str:
        """The stripped text of the user line holding ``node`` (for comments)."""
        lineno = getattr(node, "lineno", None)
        return self.line_at(lineno).strip() if lineno else ""

    def error(self, node: Any, construct: str, hint: str = "") -> TransformError:
        if not hint:
            hint = ('Rewrite it with supported constructs, or differentiate this function '
                    'with engine="tape".')
        elif 'engine="tape"' not in hint:
            hint = hint.rstrip() + ' Or differentiate it with engine="tape".'
        filename, lineno, col, line = self.locate(node)
        return TransformError(construct, hint, filename, lineno, col, line)


def _closure_values(fun: Any) -> dict[str, Any]:
    code = getattr(fun, "__code__", None)
    cells = getattr(fun, "__closure__", None) or ()
    values: dict[str, Any] = {}
    if code is None:
        return values
    for name, cell in zip(code.co_freevars, cells, strict=False):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # an empty cell: a name bound later in the enclosing scope
            values[name] = MISSING
    return values


def _no_source(fun: Any, why: str) -> TransformError:
    code = getattr(fun, "__code__", None)
    filename = getattr(code, "co_filename", "<unknown>")
    lineno = getattr(code, "co_firstlineno", 0)
    name = getattr(fun, "__qualname__", repr(fun))
    return TransformError(
        f"{name}: its source code is not available ({why})",
        'The source engine reads a function\'s source: define it in a file, or use engine="tape".',
        filename, lineno, 0, "")


def parse_function(fun: Any) -> ParsedFunction:
    """Read, dedent and parse ``fun``'s source."""
    code = getattr(fun, "__code__", None)
    if code is None:
        raise _no_source(fun, "it is not a Python function")
    try:
        lines, first_lineno = inspect.getsourcelines(fun)
    except (OSError, TypeError) as exc:
        raise _no_source(fun, str(exc) or "defined interactively or with exec") from None
    filename = code.co_filename
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    first = next((ln for ln in lines if ln.strip()), "")
    first_dedented = next((ln for ln in dedented.splitlines(True) if ln.strip()), "")
    indent = len(first) - len(first_dedented)
    is_lambda = code.co_name == "<lambda>"
    try:
        tree = gast.parse(dedented)
    except SyntaxError:
        if not is_lambda:
            raise _no_source(fun, "its source could not be parsed") from None
        tree = None
    node = _find_definition(tree, fun, first_lineno, dedented) if tree is not None else None
    if node is None and is_lambda:
        node = _find_lambda(fun, dedented, first_lineno)
    if node is None:
        raise _no_source(fun, "its definition was not found in its source")
    parsed = ParsedFunction(fun, node, filename, dedented.splitlines(True), first_lineno, indent,
                            _closure_values(fun))
    _shift_lines(node, first_lineno - 1)
    return parsed


def _shift_lines(node: Any, offset: int) -> None:
    for sub in gast.walk(node):
        if hasattr(sub, "lineno") and sub.lineno is not None:
            sub.lineno += offset
        if hasattr(sub, "end_lineno") and getattr(sub, "end_lineno", None) is not None:
            sub.end_lineno += offset


def _find_definition(tree: Any, fun: Any, first_lineno: int, text: str) -> Any:
    name = fun.__code__.co_name
    for sub in gast.walk(tree):
        if isinstance(sub, (gast.FunctionDef, gast.AsyncFunctionDef)) and sub.name == name:
            return sub
    if name == "<lambda>":
        lambdas = [s for s in gast.walk(tree) if isinstance(s, gast.Lambda)]
        return _pick_lambda(lambdas, fun, text)
    return None


def _find_lambda(fun: Any, text: str, first_lineno: int) -> Any:
    # A lambda inside a larger statement: parse the longest parsable prefix
    # of its first line's tail.
    first_line = text.splitlines()[0] if text else ""
    start = first_line.find("lambda")
    while start >= 0:
        tail = text[start:]
        for end in range(len(tail), 0, -1):
            try:
                tree = gast.parse("(" + tail[:end] + ")")
            except SyntaxError:
                continue
            lambdas = [s for s in gast.walk(tree) if isinstance(s, gast.Lambda)]
            found = _pick_lambda(lambdas, fun, tail[:end])
            if found is not None:
                return found
            break
        start = first_line.find("lambda", start + 1)
    return None


def _pick_lambda(lambdas: list, fun: Any, text: str) -> Any:
    if len(lambdas) == 1:
        return lambdas[0]
    code = fun.__code__
    for lam in lambdas:
        if matches_code(lam, code):
            return lam
    return lambdas[0] if lambdas else None
