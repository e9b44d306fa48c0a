"""``srcgrad show TARGET``: print the code srcgrad generates for a function.

TARGET is ``path/to/file.py:function`` or ``package.module:function`` (``Class.method``
after the colon works too).  The module is imported under its own name, never as
``__main__``, so code under ``if __name__ == "__main__":`` does not run; other
top-level code does (imports define the function), and a note on stderr says so.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import os
import sys
import types
from typing import Any

from . import collector

__all__ = ["main"]

DESCRIPTION = (
    "Print the code srcgrad generates for a function. TARGET is path/to/file.py:function "
    "or package.module:function. The module is imported under its own name, so code under "
    "'if __name__ == \"__main__\":' does not run; other top-level code does, and a note on "
    "stderr says so.")


class _Refused(Exception):
    """A one-line error for the user."""


def _split(target: str) -> tuple[str, str]:
    where, colon, attr = target.rpartition(":")
    if not colon or not where or not attr:
        raise _Refused(f"expected path/to/file.py:function or package.module:function, "
                       f"got {target!r}")
    return where, attr


def _is_path(where: str) -> bool:
    return where.endswith(".py") or os.sep in where or "/" in where or os.path.isfile(where)


def _script_statement(path: str) -> ast.stmt | None:
    """The first top-level statement of ``path`` that is script code, not a definition."""
    try:
        with open(path, encoding="utf-8") as file:
            tree = collector.parse(file.read())
    except (OSError, SyntaxError, ValueError):
        return None
    quiet = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
             ast.Assign, ast.AnnAssign, ast.Pass)
    for i, node in enumerate(tree.body):
        if isinstance(node, quiet) or (i == 0 and isinstance(node, ast.Expr)
                                       and isinstance(node.value, ast.Constant)):
            continue
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            continue
        return node
    return None


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and {ast.dump(test.left), ast.dump(test.comparators[0])}
            == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))})


def _note_script(path: str | None, shown: str) -> None:
    node = _script_statement(path) if path else None
    if node is not None:
        print(f"srcgrad: note: importing {shown} runs its top-level code (line {node.lineno}: "
              f"{ast.unparse(node).splitlines()[0][:60]}); put script code under "
              "'if __name__ == \"__main__\":' to keep it from running", file=sys.stderr)


def _import_file(path: str) -> types.ModuleType:
    if not os.path.isfile(path):
        raise _Refused(f"no such file: {path}")
    full = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(full))[0]
    if not name.isidentifier() or name in sys.modules:
        name = f"_srcgrad_show_{abs(hash(full))}"
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise _Refused(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, os.path.dirname(full))     # its sibling modules, as `python file.py`
    _note_script(full, path)
    try:
        with contextlib.redirect_stdout(sys.stderr):   # what it prints is not generated code
            spec.loader.exec_module(module)
    except Exception as exc:
        raise _Refused(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    return module


def _import_module(name: str) -> types.ModuleType:
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if name not in sys.modules:
        _note_script(getattr(spec, "origin", None), name)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.import_module(name)
    except ImportError as exc:
        raise _Refused(f"cannot import {name!r}: {exc}") from None


def _load(target: str) -> Any:
    where, attr = _split(target)
    obj: Any = _import_file(where) if _is_path(where) else _import_module(where)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise _Refused(f"{where} has no attribute {attr!r}") from None
    obj = getattr(obj, "fun", obj)      # a srcgrad transform: the function it differentiates
    if not callable(obj) or isinstance(obj, type):
        noun = type(obj).__name__
        kind = "a class" if isinstance(obj, type) else (
            f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}")
        raise _Refused(f"{target} is {kind}, not a function")
    return obj


def _argnums(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        message = f"argnums must be integers like 0,1 (got {text!r})"
        raise argparse.ArgumentTypeError(message) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="srcgrad", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the code srcgrad generates for a function",
                          description=DESCRIPTION)
    show.add_argument("target", metavar="TARGET",
                      help="path/to/file.py:function or package.module:function")
    show.add_argument("--argnums", type=_argnums, default=(0,),
                      help="comma-separated positions of the differentiated arguments")
    show.add_argument("--mode", choices=("grad", "vjp", "jvp", "hvp"), default="grad",
                      help="the whole gradient (grad), the split forward/pullback (vjp), the "
                           "tangent code (jvp) or the tangent code of the gradient (hvp)")
    args = parser.parse_args(argv)
    if args.command == "show":
        from .api import grad, jvp_source
        from .compiler import compile_grad, compile_vjp
        from .errors import TransformError

        try:
            fun = _load(args.target)
        except _Refused as refused:
            print(f"srcgrad: {refused}", file=sys.stderr)
            return 2
        try:
            if args.mode == "jvp":
                source = jvp_source(fun, args.argnums)
            elif args.mode == "hvp":
                source = jvp_source(grad(fun, args.argnums, engine="source"), args.argnums)
            else:
                compiler = compile_grad if args.mode == "grad" else compile_vjp
                source = compiler(fun, args.argnums).source
        except TransformError as exc:
            print(f"srcgrad: {exc}", file=sys.stderr)
            return 1
        sys.stdout.write(source)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
