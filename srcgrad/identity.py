"""Which source a running function was compiled from, proven.

A function's text is found through its file name and first line (linecache),
which can be stale (the file was edited after import), planted, or ambiguous
(two lambdas on one line).  :func:`definition` therefore compiles each
candidate ``def``/``lambda`` again, in a scope that reproduces the original's
(future flags; enclosing functions that provide its free variables; the class
that mangles its private names and provides ``__class__``), and accepts it
only if the result equals the running code object field by field,
recursively (:func:`same_code`).  Code that srcgrad compiled itself
(:func:`compile_kept`) is read from the text kept with it, never found again
through a file name.
"""

from __future__ import annotations
import __future__

import ast
import copy
import inspect
import itertools
import linecache
import symtable
import sys
import threading
import tokenize
import types
import weakref
from dataclasses import dataclass
from typing import Any

from . import collector

__all__ = ["Definition", "Unproven", "definition", "compile_kept", "same_code"]


class Unproven(Exception):
    """No source text provably compiles to the code object.

    The message completes "<function>, whose source ...".
    """


@dataclass(frozen=True)
class Definition:
    """The proven definition of a code object, in its file's coordinates."""

    node: Any                  # ast.FunctionDef, ast.AsyncFunctionDef or ast.Lambda
    filename: str
    lines: tuple[str, ...]     # the file's lines from first_lineno to the node's last line
    first_lineno: int          # the code's first line (its first decorator's, for a def)


# -- code srcgrad compiles: unique file names, text kept with the code ---------------

_KEPT: dict[int, tuple[weakref.ref, tuple[str, ...]]] = {}
_SERIAL = itertools.count(1)
_LOCK = threading.RLock()    # re-entered when a collection runs a callback below


def compile_kept(source: str, label: str) -> types.CodeType:
    """Compile ``source`` under a file name of its own; its text stays with its code.

    The name is ``label`` with a serial number (``<srcgrad grad of f at m.py:3 #7>``):
    two compilations never share one, so no transform can read another's text.
    The text is put into linecache under that name for tracebacks, and dropped
    from there and from this registry when the last function compiled from it dies.
    """
    filename = f"{label[:-1]} #{next(_SERIAL)}>" if label.endswith(">") \
        else f"{label} #{next(_SERIAL)}"
    module = compile(source, filename, "exec", dont_inherit=True)
    lines = tuple(source.splitlines(True))
    codes = nested_codes(module)
    linecache.cache[filename] = (len(source), None, list(lines), filename)
    alive = [len(codes)]

    def forget(ref: weakref.ref, key: int) -> None:
        with _LOCK:
            if _KEPT.get(key, (None,))[0] is ref:
                del _KEPT[key]
            alive[0] -= 1
            if alive[0] == 0:
                linecache.cache.pop(filename, None)

    with _LOCK:
        for code in codes:
            key = id(code)
            _KEPT[key] = (weakref.ref(code, lambda ref, key=key: forget(ref, key)), lines)
    return module


def nested_codes(code: types.CodeType) -> list[types.CodeType]:
    """The code objects compiled inside ``code`` (functions, lambdas, comprehensions)."""
    found = []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.append(const)
            found.extend(nested_codes(const))
    return found


def _kept_lines(code: types.CodeType) -> tuple[str, ...] | None:
    entry = _KEPT.get(id(code))
    if entry is None or entry[0]() is not code:
        return None
    return entry[1]


# -- the proof ------------------------------------------------------------------------

_PROVEN: dict[int, tuple[weakref.ref, Definition | str]] = {}
_GENERATED_PREFIX = "<srcgrad "


def definition(code: types.CodeType, qualname: str | None = None,
               module_globals: dict | None = None) -> Definition:
    """The definition ``code`` was compiled from, proven by compiling it again.

    ``qualname`` (the function's ``__qualname__``) names the enclosing classes;
    Python 3.11+ reads it from the code itself.  ``module_globals`` lets
    linecache ask a module's loader for a source that is not a plain file.
    Results, refusals included, are cached per code object: a proof about an
    immutable code object and the text it was checked against stays true.
    """
    key = id(code)
    entry = _PROVEN.get(key)
    if entry is not None and entry[0]() is code:
        result = entry[1]
    else:
        try:
            result = _prove(code, getattr(code, "co_qualname", None) or qualname
                            or code.co_name, module_globals)
        except Unproven as why:
            result = str(why)
        ref = weakref.ref(code, lambda r, key=key: _PROVEN.pop(key, None)
                          if _PROVEN.get(key, (None,))[0] is r else None)
        _PROVEN[key] = (ref, result)
    if isinstance(result, str):
        raise Unproven(result)
    return result


def _prove(code: types.CodeType, qualname: str, module_globals: dict | None) -> Definition:
    filename = code.co_filename
    kept = _kept_lines(code)
    if kept is not None:
        texts: Any = [list(kept)]
    elif filename.startswith(_GENERATED_PREFIX):
        raise Unproven("is not available (generated code whose text is no longer kept)")
    else:
        texts = _file_texts(filename, module_globals)
    first = code.co_firstlineno
    found = False
    for lines in texts:
        found = True
        if first > len(lines):
            continue
        node = _match(lines, code, qualname, module_globals, kept is not None)
        if node is not None:
            last = getattr(node, "end_lineno", None) or first
            return Definition(node, filename, tuple(lines[first - 1:last]), first)
    if not found:
        raise Unproven("is not available (no file or linecache entry holds it)")
    raise Unproven("does not match its running code (was the file changed after import?)")


def _file_texts(filename: str, module_globals: dict | None) -> Any:
    """The texts a file name may hold: linecache's (or the module loader's), then the
    file's own when it differs (a stale or planted linecache entry)."""
    cached = linecache.getlines(filename, module_globals)
    if cached:
        yield cached
    try:
        with tokenize.open(filename) as file:
            fresh = file.readlines()
    except (OSError, SyntaxError, ValueError):
        return
    if fresh and fresh != cached:
        yield fresh


def _match(lines: list[str], code: types.CodeType, qualname: str,
           module_globals: dict | None, generated: bool) -> Any:
    """The one candidate in ``lines`` that compiles to ``code``, or ``None``."""
    first = code.co_firstlineno
    is_lambda = code.co_name == "<lambda>"
    imports = _ImportGuesses(code, lines, module_globals, generated)
    matches = []
    for tree in _regions(lines, first, is_lambda):
        for node in _candidates(tree, code, first, is_lambda):
            if any(_compiles_to(node, code, qualname, names) for names in imports):
                matches.append(node)
        if matches:
            break
    if len(matches) > 1 and len({ast.dump(m) for m in matches}) > 1:
        # equal code from different text: without column tables (Python 3.10) the
        # positions that would tell them apart are not compared
        raise Unproven("is ambiguous (several definitions on its line compile to its code)")
    return matches[0] if matches else None


class _ImportGuesses:
    """Sets of module-level names to compile a candidate with as imported.

    From Python 3.11 on, ``name.attr(...)`` compiles differently when the
    module binds ``name`` by an import, so the original module's imports must
    be reproduced.  The first guess takes the global names bound to modules;
    the second, the imports of the file's text.  Any guess is safe: a wrong one
    only fails to reproduce the code; and whether a call loads a method or an
    attribute does not change what it computes.
    """

    def __init__(self, code: types.CodeType, lines: list[str], module_globals: dict | None,
                 generated: bool) -> None:
        self.code, self.lines, self.globals, self.generated = code, lines, module_globals, \
            generated
        self.tried: list[frozenset] = []
        # (the functions, not bound methods: no cycle keeps the guesses alive)
        self.untried = [_ImportGuesses.modules, _ImportGuesses.file_imports] \
            if sys.version_info >= (3, 11) else [lambda _self: frozenset()]

    def __iter__(self) -> Any:
        yield from list(self.tried)
        while self.untried:
            names = self.untried.pop(0)(self)
            if names not in self.tried:
                self.tried.append(names)
                yield names

    def modules(self) -> frozenset:
        if self.generated or not self.globals:
            return frozenset()
        names = {n for c in [self.code, *nested_codes(self.code)] for n in c.co_names}
        return frozenset(n for n in names if isinstance(self.globals.get(n), types.ModuleType))

    def file_imports(self) -> frozenset:
        try:
            table = symtable.symtable("".join(self.lines), "<module>", "exec")
        except (SyntaxError, ValueError):
            return frozenset()
        return frozenset(s.get_name() for s in table.get_symbols() if s.is_imported())


def _regions(lines: list[str], first: int, is_lambda: bool) -> Any:
    """Parsed pieces of the file holding line ``first``, cheapest first, in file positions."""
    if is_lambda:
        # the line's first lambda cut out (one inside a call's argument list spanning
        # lines); then the lambda's own line(s) growing, then the whole file
        piece = _lambda_piece(lines, first) if sys.version_info >= (3, 11) else None
        tree = _parse(piece, first, len(piece)) if piece is not None else None
        if tree is not None:     # (3.10: no column tables tell lambdas on a line apart)
            yield tree
        ends = range(first, min(len(lines), first + 50) + 1)
    else:
        ends = [_block_end(lines, first)]
    for end in ends:
        tree = _parse(lines, first, end)
        if tree is not None:
            yield tree
            break
    whole = _parse(lines, 1, len(lines))
    if whole is not None:
        yield whole


def _lambda_piece(lines: list[str], first: int) -> list[str] | None:
    """The file's lines with the first lambda of line ``first`` cut out and bracketed,
    at its own positions (``lambda ...`` inside a call's argument list spanning
    lines parses on its own); ``None`` when no such piece can be cut.

    Only the positions are kept from the file: the candidate parsed from the piece
    must still compile to the running code.
    """
    tail = iter(["(" + lines[first - 1], *lines[first:]])
    depth, level, colon, start = 0, None, False, None
    try:
        for tok in tokenize.generate_tokens(lambda: next(tail, "")):
            kind, text = tok.type, tok.string
            if level is None:
                if tok.start[0] > 1:
                    return None
                if kind == tokenize.NAME and text == "lambda":
                    level, start = depth, tok.start[1] - 1
                elif kind == tokenize.OP and text in "([{":
                    depth += 1
                elif kind == tokenize.OP and text in ")]}":
                    depth -= 1
                continue
            if kind == tokenize.OP and text in "([{":
                depth += 1
            elif kind == tokenize.OP and text in ")]}":
                depth -= 1
                if depth < level:
                    break
            elif depth == level and kind == tokenize.OP and text == ":" and not colon:
                colon = True
            elif depth == level and colon and (text == "," or kind in (
                    tokenize.NEWLINE, tokenize.ENDMARKER)):
                break
        else:
            return None
    except (tokenize.TokenError, SyntaxError):
        return None
    if start is None or start < 1 or not colon:
        return None
    row, col = tok.start
    piece = list(lines[:first - 1 + row])
    piece[first - 1] = " " * (start - 1) + "(" + piece[first - 1][start:]
    if row == 1:
        col -= 1
    piece[-1] = piece[-1][:col] + ")\n"
    return piece


def _block_end(lines: list[str], first: int) -> int:
    """The last line of the ``def`` starting at ``first``, judged by indentation.

    A wrong guess (a string literal or a bracket below the indentation) only
    fails to parse, and the whole file is parsed instead.
    """
    indent = _indentation(lines[first - 1])
    seen_def = False
    last = first
    for number in range(first, len(lines) + 1):
        text = lines[number - 1]
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if number > first and _indentation(text) <= indent and seen_def \
                and not stripped.startswith((")", "]", "}")):
            break
        seen_def = seen_def or stripped.startswith(("def ", "async "))
        last = number
    return last


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _parse(lines: list[str], start: int, end: int) -> ast.Module | None:
    """``lines[start-1:end]`` parsed, with the file's line and column numbers."""
    chunk = "".join(lines[start - 1:end])
    offset = start - 1
    if chunk[:1] in (" ", "\t"):
        # an indented block keeps its columns under a dummy `if`
        chunk = "if 1:\n" + chunk
        offset -= 1
    if 0 < offset <= _PADDING_PER_LINE * (end - start + 1):
        # blank lines in front give the nodes the file's line numbers: cheaper than
        # renumbering every node, unless the piece is short and far down the file
        chunk = "\n" * offset + chunk
        offset = 0
    try:
        tree = collector.parse(chunk)
    except (SyntaxError, ValueError):
        return None
    return ast.increment_lineno(tree, offset) if offset else tree


# a blank line costs the parser about 1/400 of what renumbering a line's nodes costs
_PADDING_PER_LINE = 400


def _candidates(tree: ast.Module, code: types.CodeType, first: int, is_lambda: bool) -> list:
    if is_lambda:
        return [n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == first]
    found = []
    for node in _definitions(tree.body):
        if node.name == code.co_name \
                and min([node.lineno] + [d.lineno for d in node.decorator_list]) == first:
            found.append(node)
    return found


def _definitions(body: list) -> Any:
    """Every ``def`` in ``body``, not looking into expressions (no ``def`` is there)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                yield from _definitions(inner)


# -- compiling a candidate as the original was compiled ---------------------------------

_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_FUTURE_FLAGS &= ~__future__.barry_as_FLUFL.compiler_flag   # a parser flag, not code
_SCOPE = "__srcgrad_scope__"


def _compiles_to(node: Any, code: types.CodeType, qualname: str, imported: frozenset) -> bool:
    module, depth = _enclosed(node, code, qualname, imported)
    try:
        compiled = compile(module, code.co_filename, "exec",
                           flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return False
    for _ in range(depth + 1):
        inner = [c for c in compiled.co_consts if isinstance(c, types.CodeType)]
        if len(inner) != 1:
            return False
        compiled = inner[0]
    return same_code(compiled, code)


def _enclosed(node: Any, code: types.CodeType, qualname: str,
              imported: frozenset) -> tuple[ast.Module, int]:
    """A module compiling ``node`` in scopes like the original's; and their depth.

    ``node`` comes from the parser, every node located; the nodes around it are
    located at line 1, column 0, as ``ast.fix_missing_locations`` would put them,
    each before its body is put in (not walking ``node`` again).
    """
    target = _detached(node)
    body: list = [target if not isinstance(node, ast.Lambda) else
                  ast.copy_location(ast.Expr(value=target), node)]
    scopes = _scopes(qualname)
    free = [v for v in code.co_freevars if v != "__class__"]
    if "__class__" in code.co_freevars and not any(kind == "class" for kind, _ in scopes):
        scopes.append(("class", "_"))
    if (free or code.co_flags & inspect.CO_NESTED) and not any(
            kind == "function" for kind, _ in scopes):
        scopes.insert(0, ("function", _SCOPE))
    innermost_function = max((i for i, (kind, _) in enumerate(scopes) if kind == "function"),
                             default=None)
    for i in reversed(range(len(scopes))):
        kind, name = scopes[i]
        if kind == "class":
            scope: Any = ast.ClassDef(name=name, bases=[], keywords=[], body=[],
                                      decorator_list=[], **_TYPE_PARAMS)
        else:
            if i == innermost_function and free:
                # the free variables are bound here, so the body reads them as cells
                body = [_located(ast.Assign(targets=[ast.Name(id=v, ctx=ast.Store())
                                                     for v in free],
                                            value=ast.Constant(value=None)))] + body
            scope = ast.FunctionDef(name=name, args=_no_arguments(), body=[],
                                    decorator_list=[], returns=None, **_TYPE_PARAMS)
        _located(scope).body = body
        body = [scope]
    if imported:
        body.insert(0, _located(ast.Import(names=[ast.alias(name="_", asname=n)
                                                  for n in sorted(imported)])))
    return ast.Module(body=body, type_ignores=[]), len(scopes)


def _located(node: Any) -> Any:
    """``node`` (holding no parsed node) located at line 1, column 0."""
    return ast.fix_missing_locations(node)


_TYPE_PARAMS: dict = {"type_params": []} if sys.version_info >= (3, 12) else {}


def _scopes(qualname: str) -> list[tuple[str, str]]:
    """``[(kind, name)]`` of the scopes around a definition, outermost first.

    The names are the real ones: a class's mangles private names, and before
    Python 3.11 a function's qualified name is a constant of the code that
    creates it, so the enclosing functions' names are part of the code too.
    """
    parts = qualname.split(".")[:-1]
    scopes = []
    for i, part in enumerate(parts):
        if part == "<locals>":
            continue
        is_function = part.startswith("<") or (i + 1 < len(parts) and parts[i + 1] == "<locals>")
        scopes.append(("function" if is_function else "class", part))
    return scopes


def _no_arguments() -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                         kwarg=None, defaults=[])


def _detached(node: Any) -> Any:
    """``node`` without what its enclosing scope evaluates (decorators, defaults,
    annotations), each replaced at the same position: the code is unchanged."""
    out = copy.copy(node)
    args = copy.copy(node.args)
    args.defaults = [_placeholder(d) for d in args.defaults]
    args.kw_defaults = [None if d is None else _placeholder(d) for d in args.kw_defaults]
    for field in ("posonlyargs", "args", "kwonlyargs"):
        setattr(args, field, [_bare(a) for a in getattr(args, field)])
    args.vararg = _bare(args.vararg) if args.vararg else None
    args.kwarg = _bare(args.kwarg) if args.kwarg else None
    out.args = args
    if not isinstance(node, ast.Lambda):
        out.decorator_list = [ast.copy_location(ast.Name(id="_", ctx=ast.Load()), d)
                              for d in node.decorator_list]
        out.returns = None
    return out


def _placeholder(node: Any) -> ast.Constant:
    return ast.copy_location(ast.Constant(value=None), node)


def _bare(arg: ast.arg) -> ast.arg:
    out = copy.copy(arg)
    out.annotation = None
    return out


# -- comparing code objects -------------------------------------------------------------

_FIELDS = ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals",
           "co_stacksize", "co_flags", "co_name", "co_firstlineno", "co_code", "co_names",
           "co_varnames", "co_freevars", "co_cellvars", "co_linetable", "co_exceptiontable")


def same_code(a: types.CodeType, b: types.CodeType) -> bool:
    """Do ``a`` and ``b`` run the same instructions on the same constants and names,
    with the same line and column tables (nested code objects compared the same way)?"""
    if any(getattr(a, f, None) != getattr(b, f, None) for f in _FIELDS):
        return False
    return len(a.co_consts) == len(b.co_consts) and all(
        _same_constant(x, y) for x, y in zip(a.co_consts, b.co_consts, strict=True))


def _same_constant(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False          # 1, 1.0 and True are equal, but not the same constant
    if isinstance(a, types.CodeType):
        return same_code(a, b)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same_constant(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, frozenset):
        return {_constant_key(x) for x in a} == {_constant_key(x) for x in b}
    if isinstance(a, (float, complex)):
        return repr(a) == repr(b)   # tells -0.0 from 0.0, and nan from nan
    try:
        return bool(a == b)
    except Exception:
        return False


def _constant_key(value: Any) -> Any:
    if isinstance(value, (float, complex)):
        return type(value), repr(value)
    return type(value), value
