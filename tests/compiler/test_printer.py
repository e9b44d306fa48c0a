"""The fast printer of generated code writes exactly the text astor writes."""

from __future__ import annotations

import ast
import random

import astor
import gast

from srcgrad.compiler.emit import to_ast
from srcgrad.compiler.normalize import clone
from srcgrad.compiler.printer import render


def _astor(functions: list) -> str:
    tree = ast.Module(body=[to_ast(clone(f)) for f in functions], type_ignores=[])
    return astor.to_source(tree, indent_with="    ")


def _name(ident: str) -> gast.Name:
    return gast.Name(id=ident, ctx=gast.Load(), annotation=None, type_comment=None)


def _const(value):
    return gast.Constant(value=value, kind=None)


_BINOPS = [gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod, gast.Pow,
           gast.MatMult, gast.BitOr, gast.BitAnd, gast.BitXor, gast.LShift, gast.RShift]
_UNARY = [gast.USub, gast.UAdd, gast.Not, gast.Invert]
_COMPARE = [gast.Lt, gast.Eq, gast.Is, gast.IsNot, gast.In, gast.NotIn, gast.GtE]
_CONSTANTS = [0, 1, -1, 2.5, -0.5, 1e-300, -0.0, float("inf"), float("-inf"), float("nan"),
              1j, 2 - 3j, -1.5j, True, False, None, 10 ** 400, "ij,jk->ik", "",
              "a string long enough for triple quotes", "two\nlines", b"raw", Ellipsis]


class _Random:
    """Random gast trees over every node kind generated code uses, and some it does not."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def expr(self, depth: int) -> object:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            if rng.random() < 0.5:
                return _name(rng.choice(["x", "y", "np", "bsum_1", "a_long_name_" * 3]))
            return _const(rng.choice(_CONSTANTS))
        kind = rng.randrange(14)
        sub = lambda: self.expr(depth - 1)  # noqa: E731
        if kind == 0:
            return gast.BinOp(left=sub(), op=rng.choice(_BINOPS)(), right=sub())
        if kind == 1:
            return gast.UnaryOp(op=rng.choice(_UNARY)(), operand=sub())
        if kind == 2:
            ops = [rng.choice(_COMPARE)() for _ in range(rng.randint(1, 2))]
            return gast.Compare(left=sub(), ops=ops, comparators=[sub() for _ in ops])
        if kind == 3:
            op = rng.choice([gast.And, gast.Or])()
            return gast.BoolOp(op=op, values=[sub() for _ in range(rng.randint(2, 3))])
        if kind == 4:
            return gast.IfExp(test=sub(), body=sub(), orelse=sub())
        if kind == 5:
            args = [sub() for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.2:
                args.append(gast.Starred(value=sub(), ctx=gast.Load()))
            keywords = [gast.keyword(arg=rng.choice(["axis", "out", None]), value=sub())
                        for _ in range(rng.randint(0, 2))]
            return gast.Call(func=sub() if rng.random() < 0.3 else _name("f"), args=args,
                             keywords=keywords)
        if kind == 6:
            return gast.Attribute(value=sub(), attr="T", ctx=gast.Load())
        if kind == 7:
            index = rng.choice([
                sub(), gast.Slice(lower=sub(), upper=None, step=None),
                gast.Slice(lower=None, upper=sub(), step=sub()),
                gast.Tuple(elts=[sub(), gast.Slice(lower=None, upper=None, step=None)],
                           ctx=gast.Load())])
            return gast.Subscript(value=sub(), slice=index, ctx=gast.Load())
        if kind == 8:
            return gast.Tuple(elts=[sub() for _ in range(rng.randint(0, 3))], ctx=gast.Load())
        if kind == 9:
            return gast.List(elts=[sub() for _ in range(rng.randint(0, 3))], ctx=gast.Load())
        if kind == 10:
            keys = [sub() if rng.random() < 0.8 else None for _ in range(rng.randint(0, 2))]
            return gast.Dict(keys=keys, values=[sub() for _ in keys])
        if kind == 11:
            return gast.Lambda(args=self.arguments(), body=sub())
        if kind == 12:
            return gast.Set(elts=[sub() for _ in range(rng.randint(0, 2))])
        return gast.Call(func=_name("__comment__"), args=[_const(rng.randrange(20))],
                         keywords=[])

    def arguments(self) -> object:
        rng = self.rng

        def param(ident: str) -> gast.Name:
            return gast.Name(id=ident, ctx=gast.Param(), annotation=None, type_comment=None)

        args = [param(f"p{k}") for k in range(rng.randint(0, 3))]
        posonly = [param(f"q{k}") for k in range(rng.randint(0, 1))]
        defaults = [self.expr(0) for _ in range(rng.randint(0, len(args)))]
        kwonly = [param(f"k{k}") for k in range(rng.randint(0, 2))]
        kw_defaults = [self.expr(0) if rng.random() < 0.5 else None for _ in kwonly]
        return gast.arguments(
            args=args, posonlyargs=posonly, kwonlyargs=kwonly, kw_defaults=kw_defaults,
            defaults=defaults, vararg=param("rest") if rng.random() < 0.3 else None,
            kwarg=param("options") if rng.random() < 0.3 else None)

    def target(self) -> object:
        rng = self.rng
        if rng.random() < 0.7:
            return gast.Name(id="t", ctx=gast.Store(), annotation=None, type_comment=None)
        if rng.random() < 0.5:
            return gast.Subscript(value=_name("xs"), slice=self.expr(1), ctx=gast.Store())
        return gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Store(), annotation=None,
                                          type_comment=None) for n in ("a", "b")],
                          ctx=gast.Store())

    def stmts(self, depth: int, count: int) -> list:
        return [self.stmt(depth) for _ in range(count)]

    def stmt(self, depth: int) -> object:
        rng = self.rng
        kind = rng.randrange(16 if depth > 0 else 9)
        e = lambda: self.expr(3)  # noqa: E731
        short = lambda: self.expr(rng.randint(0, 2))  # noqa: E731  (a header fits a line)
        if kind == 0:
            targets = [self.target() for _ in range(rng.randint(1, 2))]
            return gast.Assign(targets=targets, value=e(), type_comment=None)
        if kind == 1:
            return gast.AugAssign(target=self.target(), op=rng.choice(_BINOPS)(), value=e())
        if kind == 2:
            return gast.Expr(value=e())
        if kind == 3:
            return gast.Return(value=e() if rng.random() < 0.8 else None)
        if kind == 4:
            return rng.choice([gast.Pass, gast.Break, gast.Continue])()
        if kind == 5:
            return gast.Delete(targets=[gast.Name(id="t", ctx=gast.Del(), annotation=None,
                                                  type_comment=None)])
        if kind == 6:
            return gast.Assert(test=e(), msg=e() if rng.random() < 0.5 else None)
        if kind == 7:
            return gast.Raise(exc=e() if rng.random() < 0.8 else None,
                              cause=e() if rng.random() < 0.3 else None)
        if kind == 8:
            return gast.Global(names=["g", "h"][:rng.randint(1, 2)])
        if kind in (9, 10):
            orelse = []
            if rng.random() < 0.3:
                orelse = [self.stmt(depth - 1)]
                if isinstance(orelse[0], gast.If) is False and rng.random() < 0.5:
                    orelse = [gast.If(test=short(), body=self.stmts(depth - 1, 1), orelse=[])]
            elif rng.random() < 0.3:
                orelse = self.stmts(depth - 1, 2)
            return gast.If(test=short(), body=self.stmts(depth - 1, rng.randint(1, 3)),
                           orelse=orelse)
        if kind == 11:
            return gast.For(target=self.target(), iter=short(),
                            body=self.stmts(depth - 1, rng.randint(1, 3)),
                            orelse=self.stmts(depth - 1, rng.randint(0, 1)), type_comment=None)
        if kind == 12:
            return gast.While(test=short(), body=self.stmts(depth - 1, rng.randint(1, 2)),
                              orelse=[])
        if kind == 13:
            return self.function(depth - 1, "inner")
        if kind == 14:
            return gast.Expr(value=_const(rng.choice(["text", "a long docstring-like text"])))
        return gast.Assign(targets=[self.target()], value=gast.Call(
            func=_name("a_function_with_a_long_name"),
            args=[self.expr(2) for _ in range(6)], keywords=[]), type_comment=None)

    def function(self, depth: int, name: str) -> object:
        return gast.FunctionDef(name=name, args=self.arguments(),
                                body=self.stmts(depth, self.rng.randint(1, 4)),
                                decorator_list=[], returns=None, type_comment=None,
                                type_params=[])


_EXPRESSIONS = [
    "x ** -y", "-x ** y", "(-x) ** y", "x ** y ** z", "(x ** y) ** z", "-(-x)", "+~x",
    "not not x", "a - (b - c)", "a - b - c", "(a + b) * c", "a * (b * c)", "a / (b * c)",
    "a // b % c", "a @ b.T", "(a + b).T", "(a | b) & c ^ d << e >> f", "x[1:2, ::3]",
    "x[(1, 2)]", "x[()]", "x[a:b]", "x[:, None]", "x[...]", "f(*a, **k)", "f(a)(b)",
    "(a + b)(c)", "f(a, k=b if c else d)", "f(lambda: 0)", "lambda x, *a, k=1, **kw: x",
    "lambda x, /, y=2: (x, y)", "a if b else c if d else e", "(a if b else c) if d else e",
    "a < b < c", "(a < b) < c", "not a == b", "(not a) == b", "a is not None",
    "a not in b", "a and (b or c)", "a or b and c", "(a, b)[0]", "[a, *b]", "{1, 2}",
    "{**a, 'k': (1, 2)}", "{}", "(a,)", "()", "f((a, b))", "f('ij,jk->ik', a, b)",
    "np.einsum('i,i->', a, b)", "x.sum(axis=(0, 1), keepdims=True)", "-1.5e-300 * x",
    "1j * (2 - 3j)", "(lambda g: g * 2)(x)", "[x for x in y]",
]
_STATEMENTS = [
    "a, b = b, a", "x[a, b] = c = 1", "x += y ** 2", "del a, b", "assert a, 'msg'",
    "raise E from e", "raise", "global a, b", "f(x)", "'a string statement'",
    "'join'.join(x)", "for a, b in (c, d):\n    pass\nelse:\n    continue",
    "while not x:\n    break", "if a:\n    pass\nelif b:\n    x = 1\nelse:\n    if c:\n"
    "        pass\n    y = 2", "def g(a, b=1, *, c, d=2):\n    def h():\n        return\n"
    "    return h", "t = a_function_with_a_long_name(first_argument, second_argument, "
    "third_argument, fourth)",
    "t = 'a string long enough for triple quotes' + 'and one more that is long too'",
]


def _numbers() -> list:
    """Constants the parser never makes (negative, infinite, NaN, complex) in every place."""
    out = []
    for value in (-1, -2.5, float("inf"), float("-inf"), float("nan"), -1j, 2 - 3j, True,
                  None, 10 ** 400, -0.0):
        c = _const(value)
        out += [gast.BinOp(left=c, op=gast.Pow(), right=_name("x")),
                gast.BinOp(left=_name("x"), op=gast.Pow(), right=clone(c)),
                gast.BinOp(left=_name("x"), op=gast.Sub(), right=clone(c)),
                gast.UnaryOp(op=gast.USub(), operand=clone(c)),
                gast.Attribute(value=clone(c), attr="real", ctx=gast.Load()),
                gast.Subscript(value=_name("x"), slice=clone(c), ctx=gast.Load()),
                gast.Call(func=_name("f"), args=[clone(c)], keywords=[])]
    return out


def test_each_precedence_case_prints_as_astor_prints_it():
    body = [gast.parse(f"r = {e}").body[0] for e in _EXPRESSIONS]
    body += [gast.Return(value=e) for e in _numbers()]
    for text in _STATEMENTS:
        body += gast.parse(text).body
    functions = [gast.FunctionDef(name="f", args=gast.parse("def f(x, *a, k=1.5): pass")
                                  .body[0].args, body=body, decorator_list=[], returns=None,
                                  type_comment=None, type_params=[])]
    got = render(functions)
    assert got is not None
    assert got == _astor(functions)


def test_random_code_prints_as_astor_prints_it():
    printed = 0
    for seed in range(150):
        make = _Random(seed)
        functions = [make.function(3, f"f{k}") for k in range(1 + seed % 2)]
        expected = _astor(functions)
        got = render(functions)
        if got is not None:        # None: astor prints it (a long compound statement header)
            assert got == expected, seed
            printed += 1
    assert printed >= 75          # most programs are the printer's own


def test_generated_code_prints_as_astor_prints_it(monkeypatch):
    """Generated code (comments, loops, branches, slices, powers, the scalar variant)
    is printed by the printer itself, not left to astor, and as astor prints it."""
    import numpy as np

    from srcgrad.compiler import emit, transform

    printed = []

    def to_source(functions):
        printed.append(clone(functions))
        return emit.to_source(functions)

    monkeypatch.setattr(transform, "to_source", to_source)

    def loss(x, w):
        total = 0.0
        for k in range(3):
            if k > 0:
                h = np.tanh(x[k, :2] @ w ** -1)
            else:
                h = -x[0, 0:2]
            total = total + np.sum(h * x[k, 1:]) / (1.0 + k)
        while total > 10.0:
            total = total / 2
        return total

    transform.compile_function(loss, (0, 1), "grad")
    transform.compile_function(loss, (0, 1), "jvp")
    assert printed
    texts = []
    for functions in printed:
        assert render(clone(functions)) is not None
        texts.append(emit.to_source(clone(functions)))      # comments printed by the printer
        assert texts[-1] == emit.astor_source(clone(functions))
    assert any("    # grad of: " in text for text in texts)
