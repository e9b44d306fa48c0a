"""Parse: a Python function's source as a gast tree, with its names resolved.

The source is the one :mod:`srcgrad.identity` proves the running code was
compiled from; the tree's line and column numbers are the user's file's, so
every error the later passes raise points at the user's code.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
import sys
import tokenize
import types
from dataclasses import dataclass, field
from typing import Any

import gast
import numpy as np

from .. import identity
from ..errors import NoSourceError, TransformError, callable_name

__all__ = ["ParsedFunction", "parse_function", "proven_definition", "resolve_free",
           "bind_receiver", "to_gast", "MISSING"]


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
        return _resolve(self.fun, self.closure, name)

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


def resolve_free(fun: Any, name: str) -> Any:
    """The object the free name ``name`` of ``fun`` refers to, or ``MISSING``."""
    return _resolve(fun, _closure_values(fun), name)


def _resolve(fun: Any, closure: dict[str, Any], name: str) -> Any:
    if name in closure:
        return closure[name]
    globs = getattr(fun, "__globals__", {})
    if name in globs:
        return globs[name]
    return getattr(builtins, name, MISSING)


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


def parse_function(fun: Any) -> ParsedFunction:
    """Parse the definition ``fun`` is proven to run (:func:`srcgrad.identity.definition`).

    Each parse is a new gast tree (the passes change the tree they are given),
    converted from the proven ``ast`` tree, which nothing changes.
    """
    found = proven_definition(fun)
    return ParsedFunction(fun, to_gast(found.node), found.filename, list(found.lines),
                          found.first_lineno, _closure_values(fun))


def proven_definition(fun: Any) -> identity.Definition:
    """The definition ``fun`` is proven to run, as parsed (an ``ast`` tree: read it only),
    or a :class:`NoSourceError` saying why there is none."""
    code = getattr(fun, "__code__", None)
    if code is None:
        raise _no_source(fun, "is not available (it is not a Python function)")
    try:
        return identity.definition(code, getattr(fun, "__qualname__", None),
                                   getattr(fun, "__globals__", None))
    except identity.Unproven as why:
        raise _no_source(fun, str(why)) from None


# -- ast -> gast --------------------------------------------------------------------

def to_gast(node: Any) -> Any:
    """``gast.ast_to_gast(node)``, node for node (the same classes, fields, locations
    and ``__dict__`` order), several times faster.

    gast converts through a generic visitor that builds each node from keyword
    arguments; here each class's conversion is made once, and fills a new node's
    ``__dict__`` directly.  It follows gast 0.7's conversion (the only version
    where it is used: see ``_FAST``); ``tests/compiler/test_to_gast.py``
    compares the two on whole files.
    """
    if not _FAST:
        return gast.ast_to_gast(node)
    if not isinstance(node, ast.AST):
        return None         # (as gast does)
    return _to_gast(node)


def _to_gast(node: Any) -> Any:
    if isinstance(node, ast.AST):
        return (_CONVERTERS.get(node.__class__) or _converter(node.__class__))(node)
    if isinstance(node, list):
        return [_to_gast(n) for n in node]
    return node


def _gast_version() -> str:
    try:
        from importlib.metadata import version

        return version("gast")
    except Exception:   # (not installed as a distribution: unknown)
        return ""


_FAST = _gast_version() == "0.7.0" and (3, 10) <= sys.version_info[:2] <= (3, 13)
_new = gast.AST.__new__
_ABSENT = object()
# ast class -> the function converting its nodes
_CONVERTERS: dict[type, Any] = {}


def _converter(cls: type) -> Any:
    convert = _SPECIAL.get(cls.__name__) or _generic(cls)
    _CONVERTERS[cls] = convert
    return convert


def _generic(cls: type) -> Any:
    """gast's generic conversion: the gast class of the same name, built from the
    fields the node has (as keywords, so in the ast class's field order), then its
    location attributes; ``None`` for a class gast does not know."""
    target = getattr(gast, cls.__name__, None)
    fields, attributes = cls._fields, cls._attributes
    if target is None:
        return lambda node: None
    if not fields and not attributes:       # contexts and operators
        return lambda node: _new(target)
    layout = fields + attributes
    ast_class, converters = ast.AST, _CONVERTERS

    def convert(node: Any) -> Any:
        new = _new(target)
        values = new.__dict__
        old = node.__dict__
        if tuple(old) == layout:
            # as the parser makes nodes: every field, then every location attribute,
            # in that order; the values are taken over, the fields' converted
            values.update(old)
            for field_name in fields:
                value = old[field_name]
                if isinstance(value, ast_class):
                    values[field_name] = (converters.get(value.__class__)
                                          or _converter(value.__class__))(value)
                elif isinstance(value, list):
                    values[field_name] = [_to_gast(item) for item in value]
            return new
        for field_name in fields:
            value = getattr(node, field_name, _ABSENT)
            if value is not _ABSENT:
                values[field_name] = _to_gast(value)
        for attribute in attributes:
            value = getattr(node, attribute, _ABSENT)
            if value is not _ABSENT:
                values[attribute] = value
        return new
    return convert


def _located(new: Any, node: Any, keep_none: bool) -> Any:
    """``node``'s location copied onto ``new``, as ``ast.copy_location`` does
    (``keep_none=False``: a line or column of ``None`` is left out) or as
    ``gast.copy_location`` does (``keep_none=True``).  (Every class converted
    through here has the four location attributes, in ast and in gast.)"""
    values = new.__dict__
    for attribute in _LOCATION:
        value = getattr(node, attribute, _ABSENT)
        if value is not _ABSENT and (value is not None or keep_none
                                     or attribute in _END_LOCATION):
            values[attribute] = value
    return new


_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_END_LOCATION = ("end_lineno", "end_col_offset")


def _name(ident: Any, ctx: Any, annotation: Any, type_comment: Any) -> Any:
    new = _new(gast.Name)
    values = new.__dict__
    values["id"] = ident
    values["ctx"] = ctx
    values["annotation"] = annotation
    values["type_comment"] = type_comment
    return new


def _convert_name(node: Any) -> Any:
    ctx = node.ctx
    ctx = (_CONVERTERS.get(ctx.__class__) or _converter(ctx.__class__))(ctx)
    return _located(_name(node.id, ctx, None, None), node, False)


def _convert_arg(node: Any) -> Any:
    # a parameter is a Name in a Param context
    return _located(_name(node.arg, _new(gast.Param), _to_gast(node.annotation),
                          _to_gast(node.type_comment)), node, False)


def _convert_handler(node: Any) -> Any:
    if not node.name:
        return _generic(node.__class__)(node)
    new = _new(gast.ExceptHandler)
    values = new.__dict__
    values["type"] = _to_gast(node.type)
    values["name"] = _name(node.name, _new(gast.Store), None, None)
    values["body"] = _to_gast(node.body)
    return _located(new, node, False)


def _with_type_params(fields: tuple[str, ...]) -> Any:
    """Before Python 3.12: a definition gets gast's empty ``type_params``."""
    def convert(node: Any) -> Any:
        new = _new(getattr(gast, node.__class__.__name__))
        values = new.__dict__
        for field_name in fields:
            values[field_name] = _to_gast(getattr(node, field_name))
        values["type_params"] = []
        return _located(new, node, True)
    return convert


_SPECIAL: dict[str, Any] = {"Name": _convert_name, "arg": _convert_arg,
                            "ExceptHandler": _convert_handler}
if sys.version_info < (3, 12):
    _FUNCTION_FIELDS = ("name", "args", "body", "decorator_list", "returns", "type_comment")
    _SPECIAL["FunctionDef"] = _SPECIAL["AsyncFunctionDef"] = _with_type_params(
        _FUNCTION_FIELDS)
    _SPECIAL["ClassDef"] = _with_type_params(
        ("name", "bases", "keywords", "body", "decorator_list"))
if sys.version_info[:2] == (3, 12):
    def _type_parameter(fields: tuple[str, ...]) -> Any:
        """Python 3.12: a type parameter gets gast's ``default_value`` of ``None``."""
        def convert(node: Any) -> Any:
            new = _new(getattr(gast, node.__class__.__name__))
            values = new.__dict__
            for field_name in fields:
                values[field_name] = _to_gast(getattr(node, field_name))
            values["default_value"] = None
            return _located(new, node, True)
        return convert

    _SPECIAL["TypeVar"] = _type_parameter(("name", "bound"))
    _SPECIAL["TypeVarTuple"] = _SPECIAL["ParamSpec"] = _type_parameter(("name",))
