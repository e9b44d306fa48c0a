"""Print generated gast functions as Python source, exactly as astor prints them, faster.

Generated code used to be converted to ``ast`` nodes and printed with astor;
for a 50-line function that was a fifth of the transform time.  This printer
reads the gast nodes directly and writes the same text: astor's precedence
table (parentheses only where astor puts them), its numbers, its blank lines.
What it does not model it hands to astor, one statement at a time: a line
astor would wrap (longer than 79 characters), a string that astor may print
in triple quotes, a node kind not listed here.  A compound statement it cannot
print makes :func:`render` return ``None`` (then astor prints everything).
``tests/compiler/test_printer.py`` compares the two printers.
"""

from __future__ import annotations

import math
from typing import Any

import gast
from astor.code_gen import SourceGenerator
from astor.op_util import op_data
from astor.source_repr import pretty_source
from astor.string_repr import pretty_string

__all__ = ["render"]

# astor's precedences and operator symbols, by class name
_PREC = {row[0]: row[2] for row in op_data}
_SYMBOL = {row[0]: row[1] for row in op_data}
_HIGHEST = max(_PREC.values()) + 2
_COMMA = _PREC["Comma"]
_ONE_ARG = _PREC["call_one_arg"]
_TUPLE = _PREC["Tuple"]
_POW_LEFT = _PREC["Pow"] + 1
_POW_RIGHT = _PREC["PowRHS"]
_CONSTANT = _PREC["Constant"]
_SUBSCRIPT = _PREC["Subscript"]
_SLICE = _PREC["Slice"]
_ASSIGN = _PREC["Assign"]
_MAX_LINE = 79          # astor wraps longer lines
_INDENT = "    "


class _Unsupported(Exception):
    """Something this printer leaves to astor."""


def render(functions: list) -> str | None:
    """The source astor prints for ``functions`` (gast FunctionDefs), or ``None``."""
    printer = _Printer()
    try:
        for fn in functions:
            printer.stmt(fn, 0)
    except _Unsupported:
        return None
    return "\n".join(printer.lines) + "\n"


def _astor_lines(stmt: Any, depth: int) -> list[str]:
    """astor's lines for one simple statement at indentation ``depth``."""
    from .emit import to_ast

    generator = SourceGenerator(_INDENT, False, pretty_string)
    generator.indentation = depth
    generator.visit(to_ast(stmt))
    generator.result.append("\n")
    return pretty_source(generator.result).strip("\n").split("\n")


def _number(value: Any) -> str:
    """astor's text for a number (infinities as ``1e1000``, NaN as ``(1e1000-1e1000)``)."""
    if isinstance(value, complex):
        real = _part(value.real, False)
        imag = _part(value.imag, True)
        if value.real == 0:
            return imag
        if value.imag == 0:
            return f"({real}+0j)"
        sign = "" if imag.startswith("-") else "+"
        return f"({real}{sign}{imag})"
    return _part(value, False)


def _part(p: Any, imaginary: bool) -> str:
    """A real number (or an imaginary part) as astor prints it."""
    s = "j" if imaginary else ""
    try:
        if math.isinf(p):
            return ("-1e1000" if p < 0 else "1e1000") + s
        if math.isnan(p):
            return f"(1e1000{s}-1e1000{s})"
    except OverflowError:
        pass
    return repr(p) + s


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pending = 0            # astor's new_lines: line breaks owed before the next line
        self.in_expr_statement = False

    # -- lines --------------------------------------------------------------------------
    def newline(self, extra: int = 0) -> None:
        self.pending = max(self.pending, 1 + extra)

    def line(self, depth: int, text: str) -> None:
        if self.lines:
            self.lines.extend([""] * (self.pending - 1))
        self.pending = 0
        self.lines.append(_INDENT * depth + text)

    def header(self, depth: int, text: str) -> None:
        """A compound statement's first line: too long for this printer, astor prints all."""
        if len(text) + 4 * depth > _MAX_LINE:
            raise _Unsupported
        self.newline()
        self.line(depth, text)

    # -- statements ---------------------------------------------------------------------
    def body(self, stmts: list, depth: int) -> None:
        for stmt in stmts:
            self.stmt(stmt, depth)

    def stmt(self, node: Any, depth: int) -> None:
        kind = node.__class__
        simple = _SIMPLE.get(kind)
        if simple is None:
            compound = _COMPOUND.get(kind)
            if compound is None:
                raise _Unsupported
            compound(self, node, depth)
            return
        if kind is _EXPR_STATEMENT and getattr(node, "is_comment", False) \
                and isinstance(node.value.args[0].value, str):
            # a ``# grad of: ...`` comment, a statement of the IR (``__comment__(text)``)
            text = "# " + node.value.args[0].value
        else:
            try:
                text = simple(self, node)
            except _Unsupported:
                text = None
            if text is None or len(text) + 4 * depth > _MAX_LINE:
                lines = _astor_lines(node, depth)
                self.newline()
                self.line(0, lines[0])
                self.lines.extend(lines[1:])
                return
        # (``newline`` and ``line`` in one: the common case, a line of its own)
        if self.pending > 1 and self.lines:
            self.lines.extend([""] * (self.pending - 1))
        self.pending = 0
        self.lines.append(_INDENT * depth + text)

    def s_Assign(self, node: Any) -> str:
        targets = node.targets
        if len(targets) == 1:
            target = targets[0]
            # (a name's text inline, here and in calls and operators: most nodes are names)
            target = target.id if target.__class__ is _NAME else self.expr(target, _ASSIGN)
            return f"{target} = {self.expr(node.value, _ASSIGN)}"
        text = "".join(self.expr(t, _ASSIGN) + " = " for t in targets)
        return text + self.expr(node.value, _ASSIGN)

    def s_AugAssign(self, node: Any) -> str:
        p = _PREC["AugAssign"]
        symbol = _SYMBOL[node.op.__class__.__name__]
        return f"{self.expr(node.target, p)} {symbol}= {self.expr(node.value, p)}"

    def s_Expr(self, node: Any) -> str:
        self.in_expr_statement = True       # a string first on a line: astor's own choice
        try:
            return self.expr(node.value, _PREC["Expr"])
        finally:
            self.in_expr_statement = False

    def s_Return(self, node: Any) -> str:
        if node.value is None:
            return "return"
        return "return " + self.expr(node.value, _PREC["Return"])

    def s_Pass(self, node: Any) -> str:
        return "pass"

    def s_Break(self, node: Any) -> str:
        return "break"

    def s_Continue(self, node: Any) -> str:
        return "continue"

    def s_Delete(self, node: Any) -> str:
        return "del " + ", ".join(self.expr(t, _COMMA) for t in node.targets)

    def s_Assert(self, node: Any) -> str:
        p = _PREC["Assert"]
        text = "assert " + self.expr(node.test, p)
        if node.msg is not None:
            text += ", " + self.expr(node.msg, p)
        return text

    def s_Raise(self, node: Any) -> str:
        if node.exc is None:
            return "raise"
        text = "raise " + self.expr(node.exc, _HIGHEST)
        if node.cause is not None:
            text += " from " + self.expr(node.cause, _HIGHEST)
        return text

    def s_Global(self, node: Any) -> str:
        return "global " + ", ".join(node.names)

    def s_Nonlocal(self, node: Any) -> str:
        return "nonlocal " + ", ".join(node.names)

    def c_FunctionDef(self, node: Any, depth: int) -> None:
        if node.decorator_list or node.returns is not None:
            raise _Unsupported
        self.newline(1 if depth else 2)
        self.header(depth, f"def {node.name}({self.arguments(node.args)}):")
        self.body(node.body, depth + 1)
        if not depth:
            self.newline(2)

    def c_If(self, node: Any, depth: int) -> None:
        p = _PREC["If"]
        self.header(depth, f"if {self.expr(node.test, p)}:")
        self.body(node.body, depth + 1)
        while True:
            orelse = node.orelse
            if len(orelse) == 1 and isinstance(orelse[0], gast.If):
                node = orelse[0]
                self.header(depth, f"elif {self.expr(node.test, p)}:")
                self.body(node.body, depth + 1)
            else:
                self.orelse(orelse, depth)
                break

    def c_For(self, node: Any, depth: int) -> None:
        if getattr(node, "type_comment", None):
            raise _Unsupported
        target = self.expr(node.target, _PREC["For"])
        self.header(depth, f"for {target} in {self.expr(node.iter, _HIGHEST)}:")
        self.body(node.body, depth + 1)
        self.orelse(node.orelse, depth)

    def c_While(self, node: Any, depth: int) -> None:
        self.header(depth, f"while {self.expr(node.test, _PREC['While'])}:")
        self.body(node.body, depth + 1)
        self.orelse(node.orelse, depth)

    def orelse(self, stmts: list, depth: int) -> None:
        if stmts:
            self.header(depth, "else:")
            self.body(stmts, depth + 1)

    def arguments(self, node: Any) -> str:
        parts: list[str] = []

        def loop(args: list, defaults: list) -> None:
            padding = [None] * (len(args) - len(defaults))
            for arg, default in zip(args, padding + list(defaults), strict=False):
                text = self.arg(arg)
                if default is not None:
                    text += "=" + self.expr(default, _COMMA)
                parts.append(text)

        offset = 0
        if node.posonlyargs:
            offset += len(node.defaults) - len(node.args)
            loop(node.posonlyargs, node.defaults[:offset])
            parts.append("/")
        loop(node.args, node.defaults[offset:])
        if node.vararg is not None:
            parts.append("*" + self.arg(node.vararg))
        if node.kwonlyargs:
            if node.vararg is None:
                parts.append("*")
            loop(node.kwonlyargs, node.kw_defaults)
        if node.kwarg is not None:
            parts.append("**" + self.arg(node.kwarg))
        return ", ".join(parts)

    @staticmethod
    def arg(node: Any) -> str:
        if not isinstance(node, gast.Name):
            raise _Unsupported
        return node.id

    # -- expressions --------------------------------------------------------------------
    def expr(self, node: Any, pp: int) -> str:
        """``node``'s text where its parent set precedence ``pp`` (astor's ``_pp``)."""
        kind = node.__class__
        if kind is _NAME:           # (most nodes)
            return node.id
        method = _EXPR.get(kind)
        if method is None:
            raise _Unsupported
        return method(self, node, pp)

    def e_Name(self, node: Any, pp: int) -> str:
        return node.id

    def e_Constant(self, node: Any, pp: int) -> str:
        value = node.value
        if isinstance(value, (int, float, complex)):
            text = _number(value)
            return text if _CONSTANT >= pp else f"({text})"
        if isinstance(value, str):
            # astor keeps repr() for a one-line string that is not first on its line
            if getattr(node, "kind", None) or "\n" in value or self.in_expr_statement:
                raise _Unsupported
            return repr(value)
        if value is Ellipsis:
            return "..."
        return repr(value)

    def e_Attribute(self, node: Any, pp: int) -> str:
        return f"{self.expr(node.value, _HIGHEST)}.{node.attr}"

    def e_Call(self, node: Any, pp: int) -> str:
        args, keywords = node.args, node.keywords
        p = _COMMA if len(args) + len(keywords) > 1 else _ONE_ARG
        parts = [a.id if a.__class__ is _NAME else self.expr(a, p) for a in args]
        for keyword in keywords:
            value = self.expr(keyword.value, _COMMA)
            parts.append(f"{keyword.arg}={value}" if keyword.arg else "**" + value)
        func = node.func
        func = func.id if func.__class__ is _NAME else self.expr(func, _HIGHEST)
        return f"{func}({', '.join(parts)})"

    def e_Starred(self, node: Any, pp: int) -> str:
        return "*" + self.expr(node.value, _HIGHEST)

    def e_BinOp(self, node: Any, pp: int) -> str:
        p, symbol, left_p, right_p = _BINARY[node.op.__class__]
        left, right = node.left, node.right
        left = left.id if left.__class__ is _NAME else self.expr(left, left_p)
        right = right.id if right.__class__ is _NAME else self.expr(right, right_p)
        text = f"{left} {symbol} {right}"
        return text if p >= pp else f"({text})"

    def e_BoolOp(self, node: Any, pp: int) -> str:
        op = node.op.__class__.__name__
        p = _PREC[op]
        text = f" {_SYMBOL[op]} ".join(self.expr(v, p + 1) for v in node.values)
        return text if p >= pp else f"({text})"

    def e_Compare(self, node: Any, pp: int) -> str:
        p = _COMPARISON[node.ops[0].__class__][0]
        parts = [self.expr(node.left, p + 1)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(f" {_COMPARISON[op.__class__][1]} {self.expr(right, p + 1)}")
        text = "".join(parts)
        return text if p >= pp else f"({text})"

    def e_UnaryOp(self, node: Any, pp: int) -> str:
        op = node.op.__class__.__name__
        p = _PREC[op]
        symbol = _SYMBOL[op]
        text = symbol + (" " if symbol.isalpha() else "") + self.expr(node.operand, p)
        return text if p >= pp else f"({text})"

    def e_IfExp(self, node: Any, pp: int) -> str:
        p = _PREC["IfExp"]
        text = (f"{self.expr(node.body, p + 1)} if {self.expr(node.test, p + 1)} "
                f"else {self.expr(node.orelse, p)}")
        return text if p >= pp else f"({text})"

    def e_Lambda(self, node: Any, pp: int) -> str:
        p = _PREC["Lambda"]
        text = f"lambda {self.arguments(node.args)}: {self.expr(node.body, p)}"
        return text if p >= pp else f"({text})"

    def e_Subscript(self, node: Any, pp: int) -> str:
        return f"{self.expr(node.value, _HIGHEST)}[{self.expr(node.slice, _SUBSCRIPT)}]"

    def e_Slice(self, node: Any, pp: int) -> str:
        lower = "" if node.lower is None else self.expr(node.lower, _SLICE)
        upper = "" if node.upper is None else self.expr(node.upper, _SLICE)
        text = f"{lower}:{upper}"
        if node.step is not None:
            text += ":" + self.expr(node.step, _SLICE)
        return text

    def e_Tuple(self, node: Any, pp: int) -> str:
        elts = node.elts
        text = ", ".join(self.expr(e, _COMMA) for e in elts)
        if len(elts) == 1:
            text += ","
        return text if _TUPLE >= pp and elts else f"({text})"

    def e_List(self, node: Any, pp: int) -> str:
        return "[" + ", ".join(self.expr(e, _COMMA) for e in node.elts) + "]"

    def e_Set(self, node: Any, pp: int) -> str:
        if not node.elts:
            return "{1}.__class__()"
        return "{" + ", ".join(self.expr(e, _COMMA) for e in node.elts) + "}"

    def e_Dict(self, node: Any, pp: int) -> str:
        parts = []
        for key, value in zip(node.keys, node.values, strict=True):
            text = self.expr(value, _COMMA)
            parts.append(f"{self.expr(key, _HIGHEST)}: {text}" if key else "**" + text)
        return "{" + ", ".join(parts) + "}"


def _table(prefix: str) -> dict:
    """gast class -> the method printing it (``s_Assign`` prints ``gast.Assign``...)."""
    return {getattr(gast, name[len(prefix):]): getattr(_Printer, name) for name in dir(_Printer)
            if name.startswith(prefix)}


_NAME = gast.Name
# gast operator class -> (its precedence, its symbol, the precedences its operands get)
_BINARY = {getattr(gast, op): (_PREC[op], _SYMBOL[op], *((_POW_LEFT, _POW_RIGHT) if op == "Pow"
                                                        else (_PREC[op], _PREC[op] + 1)))
           for op in ("Add", "Sub", "Mult", "MatMult", "Div", "Mod", "Pow", "LShift",
                      "RShift", "BitOr", "BitXor", "BitAnd", "FloorDiv")}
# gast comparison class -> (its precedence, its symbol)
_COMPARISON = {getattr(gast, op): (_PREC[op], _SYMBOL[op])
               for op in ("Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn")}
_EXPR_STATEMENT = gast.Expr


_SIMPLE = _table("s_")
_COMPOUND = _table("c_")
_EXPR = _table("e_")
