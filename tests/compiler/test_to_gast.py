"""The parser's ast -> gast conversion builds exactly the tree gast's own conversion does."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import gast
import pytest

from srcgrad.compiler.parse import to_gast

ROOT = Path(__file__).resolve().parents[2]

# every kind of statement and expression, and the special cases of gast's conversion:
# parameters (Names in a Param context), named except handlers, definitions
SYNTAX = '''
import os as o, sys
from . import x as y
@dec(1)
def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "r":
    """doc"""
    global g
    x = y = a[1:2, ..., None] + b ** -c @ d
    x += 1; x: int = 2; del x
    async def h(): await z; [i async for i in w]
    for i, (j, k) in enumerate(zip(a, b)):
        if i and not j or k: continue
        elif i < j <= k != 3: break
        else: pass
    else: pass
    while x: x -= 1
    try:
        raise ValueError("e") from None
    except (TypeError, ValueError) as error:
        print(f"{error!r:>{width}} {a}")
    except Exception:
        pass
    else: pass
    finally: pass
    with open(p) as fh, lock: pass
    match a:
        case [1, *rest] | {"k": _, **other} if rest: pass
        case Point(x=0, y=yy) as pt: pass
        case None | True | -1.5j | "s" | b"b": pass
    lam = lambda u, *v, w=1, **z: (u, v, w, z)
    comp = [i for i in a if i], {i: j for i, j in b}, {i for i in a}, (i for i in a)
    s = {1, 2}; t = (1,); n = a if b else c; m = (q := 5); a.b.c = {**kw}
    assert a, "msg"
    yield a; yield from b
    return f(*a, **kw)
class C(B, metaclass=M):
    z: int
    def m(self): return super().m()
'''

SYNTAX_312 = '''
type Alias[T] = list[T]
def g[T: int, *Ts, **P](x: T) -> T: return x
class K[T]: pass
'''


def _same(a, b, seen: set) -> None:
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y, seen)
        return
    if isinstance(a, ast.AST):
        assert type(a) is type(b)
        assert id(b) not in seen        # every node new
        seen.add(id(b))
        assert list(vars(a)) == list(vars(b))     # same fields and locations, same order
        for key, value in vars(a).items():
            _same(value, vars(b)[key], seen)
        return
    assert type(a) is type(b) and a == b


def _sources() -> list[tuple[str, str]]:
    sources = [("syntax", SYNTAX)]
    if sys.version_info >= (3, 12):
        sources.append(("syntax 3.12", SYNTAX_312))
    for path in sorted((ROOT / "srcgrad").rglob("*.py"))[:40]:
        sources.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return sources


@pytest.mark.parametrize(("label", "source"), _sources(), ids=[s[0] for s in _sources()])
def test_same_tree_as_gast(label: str, source: str) -> None:
    tree = ast.parse(source)
    expected = gast.ast_to_gast(tree)
    converted = to_gast(tree)
    _same(expected, converted, set())
    assert gast.dump(converted) == gast.dump(expected)


def test_a_node_set_up_by_hand() -> None:
    """Nodes not as the parser makes them (fields missing, locations first, None lines)."""
    name = ast.Name(lineno=None, col_offset=None, id="x", ctx=ast.Load())
    call = ast.Call(func=name, args=[ast.Constant(value=1)])
    call.lineno = 3
    arg = ast.arg(arg="a", annotation=None, lineno=None, col_offset=4, end_lineno=None)
    for node in (name, call, arg, ast.Load(), ast.Tuple(elts=[name, call]), [name], None):
        _same(gast.ast_to_gast(node), to_gast(node), set())
