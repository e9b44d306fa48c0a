"""Parse: a Python function's source as a gast tree, with its names resolved.

The source is the one :mod:`srcgrad.identity` proves the running code was
compiled from; the tree's line and column numbers are the user's file's, so
every error the later passes raise points at the user's code.
"""

from __future__ import annotations

import builtins
import functools
import re
import tokenize
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from .. import identity
from ..errors import NoSourceError, TransformError, callable_name

__all__ = ["ParsedFunction", "parse_function", "bind_receiver", "MISSING"]


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
    lines: list[str]           # the source lines of the definition, as in the file
    first_lineno: int          # line number of lines[0] in the user's file
    closure: dict[str, Any] = field(default_factory=dict)
    # the names generated code calls builtins it introduces by (``len``, or ``len_1``
    # where the user's code binds ``len`` to something else): see ``Normalizer``
    builtin_names: dict[str, str] = field(default_factory=dict)
    receiver: str | None = None   # a bound method's first parameter, bound to ``__self__``
    _source_lines: dict[int, str] = field(default_factory=dict, repr=False, compare=False)
    # a tree argument's leaf parameters (``p_W``) -> how the user's code reads them (``p["W"]``)
    leaf_paths: dict[str, str] = field(default_factory=dict)

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
            return self.filename, self.first_lineno, 0, self.line_at(self.first_lineno)
        col = getattr(node, "col_offset", 0) or 0
        return self.filename, lineno, col, self.line_at(lineno)

    def line_at(self, lineno: int) -> str:
        index = lineno - self.first_lineno
        if 0 <= index < len(self.lines):
            return self.lines[index].rstrip("\n")
        return ""

    def source_line(self, node: Any) -> str:
        """The user's statement holding ``node``, for comments: its whole logical line
        (a statement spanning lines joined into one, a compound statement's header),
        without comments."""
        lineno = getattr(node, "lineno", None)
        if not lineno:
            return ""
        known = self._source_lines.get(lineno)
        if known is None:
            start = lineno - self.first_lineno
            if not 0 <= start < len(self.lines):
                return ""
            known = _simple_line(self.lines[start]) or _logical_line(self.lines[start:]) \
                or self.line_at(lineno).strip()
            self._source_lines[lineno] = known      # (every adjoint of a line asks again)
        return known

    def error(self, node: Any, construct: str, hint: str = "") -> TransformError:
        if not hint:
            hint = ('Rewrite it with supported constructs, or differentiate this function '
                    'with engine="tape".')
        elif 'engine="tape"' not in hint:
            hint = hint.rstrip() + ' Or differentiate it with engine="tape".'
        filename, lineno, col, line = self.locate(node)
        if self.leaf_paths:     # in the user's terms: p["W"], not the leaf's parameter p_W
            construct = _LEAF_NAMES.sub(lambda m: self.leaf_paths.get(m.group(0), m.group(0)),
                                        construct)
        return TransformError(construct, hint, filename, lineno, col, line)


def _simple_line(line: str) -> str | None:
    """A line that is a whole logical line by itself, as tokenizing it would give it, or
    ``None``: no comment, string, tab or continuation, brackets closed on the line (then
    the tokens are the stripped line's, and the gaps between them its own)."""
    text = line.strip()
    if not text or any(c in text for c in "#'\"\\\t\f"):
        return None
    depth = 0
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return None
    return text if depth == 0 else None


_LEAF_NAMES = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _logical_line(lines: list[str]) -> str:
    """The first logical line of ``lines`` as one line of text, comments left out."""
    source = iter(line if line.endswith("\n") else line + "\n" for line in lines)
    text, prev = "", None
    try:
        for tok in tokenize.generate_tokens(lambda: next(source, "")):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                break
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                continue
            if prev is not None:
                if tok.start[0] == prev.end[0]:
                    text += " " * (tok.start[1] - prev.end[1])
                elif prev.string not in "([{" and tok.string not in ")]},":
                    text += " "
            text += tok.string
            prev = tok
    except (tokenize.TokenError, SyntaxError):
        return ""
    return text


def bind_receiver(parsed: ParsedFunction) -> None:
    """A bound method (or classmethod): its first parameter is the object it is bound to.

    The parameter leaves the signature, so argument positions count from the
    first explicit argument (as ``inspect.signature`` does, and JAX), and its
    name resolves to ``__self__``, a constant: ``self.w`` is read when called.
    """
    node = parsed.node
    args = node.args
    first = args.posonlyargs or args.args
    if not first:
        raise parsed.error(node, "a bound method without a first (self) parameter",
                           "Give the method a self (or cls) parameter.")
    receiver = first.pop(0).id
    for sub in gast.walk(node):
        if isinstance(sub, gast.Name) and sub.id == receiver and \
                isinstance(sub.ctx, (gast.Store, gast.Del)):
            raise parsed.error(sub, f"an assignment to {receiver}, the object the method is "
                               "bound to", f"Use another name instead of rebinding {receiver}.")
    parsed.closure[receiver] = parsed.fun.__self__
    parsed.receiver = receiver


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


def _no_source(fun: Any, why: str) -> NoSourceError:
    code = getattr(fun, "__code__", None)
    filename = getattr(code, "co_filename", "<unknown>")
    lineno = getattr(code, "co_firstlineno", 0)
    name = callable_name(fun)
    if "does not match" in why:
        detail, remedy = f"whose source {why}", "re-import the module after editing it"
    elif not why.startswith("is not available"):
        detail, remedy = f"whose source {why}", "define it in a file, on lines of its own,"
    elif isinstance(fun, functools.partial):
        detail = "no source available (a functools.partial object)"
        remedy = (f"differentiate {callable_name(fun.func)} itself (argnums picks the "
                  "arguments), or a function defined in a file that calls it,")
    elif code is None and callable(getattr(fun, "__wrapped__", None)):
        inner = callable_name(fun.__wrapped__)
        detail = f"no source available ({_kind(fun)}, wrapping {inner})"
        remedy = f"differentiate {inner} itself"
    else:
        detail = "no source available" + {
            "<stdin>": " (defined at the interactive prompt)",
            "<string>": " (defined by exec or python -c)",
            "<unknown>": f" ({_kind(fun)})"}.get(filename, "")
        remedy = "define it in a file" if code is not None else \
            f"differentiate a function defined in a file that calls {name}"
    return NoSourceError(name, detail, remedy, filename, lineno)


def _kind(fun: Any) -> str:
    """What a callable without Python code is, for messages."""
    if isinstance(fun, (types.BuiltinFunctionType, np.ufunc)):
        return "a function written in C"
    kind = type(fun)
    return f"a {kind.__module__}.{kind.__qualname__} object, not a Python function"


def parse_function(fun: Any, copy: bool = True) -> ParsedFunction:
    """Parse the definition ``fun`` is proven to run (:func:`srcgrad.identity.definition`).

    ``copy=False``: the tree is shared with later parses, for callers that only read it.
    """
    code = getattr(fun, "__code__", None)
    if code is None:
        raise _no_source(fun, "is not available (it is not a Python function)")
    try:
        found = identity.definition(code, getattr(fun, "__qualname__", None),
                                    getattr(fun, "__globals__", None))
    except identity.Unproven as why:
        raise _no_source(fun, str(why)) from None
    return ParsedFunction(fun, _gast_tree(found, copy), found.filename, list(found.lines),
                          found.first_lineno, _closure_values(fun))


# id(definition) -> (a weak reference to it, its gast tree): the passes change the
# tree they are given, so each parse gets a copy, cheaper than converting again
_TREES: dict[int, tuple[weakref.ref, Any]] = {}


def _gast_tree(found: identity.Definition, copy: bool) -> Any:
    from .normalize import clone  # (normalize imports this module)

    key = id(found)
    entry = _TREES.get(key)
    if entry is None or entry[0]() is not found:
        ref = weakref.ref(found, lambda r, key=key: _TREES.pop(key, None)
                          if _TREES.get(key, (None,))[0] is r else None)
        entry = _TREES[key] = (ref, gast.ast_to_gast(found.node))
    return clone(entry[1]) if copy else entry[1]
