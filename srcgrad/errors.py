"""srcgrad's exceptions and warnings."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def callable_name(fun: Any) -> str:
    """A short readable name: ``f``, ``Model.loss``, ``functools.partial(f)`` (never a
    repr carrying a partial's array arguments)."""
    if isinstance(fun, functools.partial):
        return f"functools.partial({callable_name(fun.func)})"
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    return name if isinstance(name, str) else f"a {type(fun).__name__} object"


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller point at the first
    frame outside srcgrad (its package and the code it generated): the user's line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE)
                                 or frame.f_code.co_filename.startswith("<srcgrad ")):
        frame, level = frame.f_back, level + 1
    return level

__all__ = ["TransformError", "NestingError", "NoRuleError", "NoSourceError", "RuleExistsError",
           "TapeNoRuleError", "MissingDerivativeError", "FallbackWarning", "callable_name",
           "user_stacklevel"]


class TransformError(Exception):
    """The source engine cannot transform a piece of code.

    Carries the user's ``filename``, ``lineno`` and ``col_offset``, the quoted
    ``line``, the ``construct`` that was refused and a ``hint`` saying what to
    do instead.
    """

    def __init__(
        self,
        construct: str,
        hint: str,
        filename: str = "<unknown>",
        lineno: int = 0,
        col_offset: int = 0,
        line: str = "",
    ) -> None:
        self.construct = construct
        self.hint = hint
        self.filename = filename
        self.lineno = lineno
        self.col_offset = col_offset
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.filename}:{self.lineno}:{self.col_offset + 1}"
        text = f"{where}: cannot differentiate {self.construct}"
        if self.line:
            text += f"\n    {self.line.strip()}\n    {' ' * self._caret_offset()}^"
        text += f"\n{self.hint}"
        return text

    def _caret_offset(self) -> int:
        stripped = len(self.line) - len(self.line.lstrip())
        return max(self.col_offset - stripped, 0)


class GeneratedCodeError(TransformError):
    """Reverse mode reached generated derivative code (a gradient of a gradient).

    The transforms answer by running the outer derivative in forward mode over
    the generated code instead (forward-over-reverse).
    """


class NestingError(TransformError, NotImplementedError):
    """The source engine does not compute this nest of transforms (``engine="tape"`` does).

    ``engine="auto"`` runs such a nest on the tape; ``engine="source"`` raises this.
    """


class NoRuleError(TransformError, TypeError):
    """A function srcgrad has no derivative rule for was called on an active value."""

    def __init__(self, fun: Any, filename: str = "<unknown>", lineno: int = 0,
                 col_offset: int = 0, line: str = "") -> None:
        from .rules.registry import primitive_name

        self.fun = fun
        name = primitive_name(fun)
        short = name.rsplit(".", 1)[-1]
        hint = (
            f"srcgrad has no derivative rule for {name}. Register one, e.g.\n"
            f"    import srcgrad\n"
            f"    srcgrad.defvjp({name}, lambda g, ans, x: g * <d{short}/dx>)\n"
            f"or declare it constant with srcgrad.nondifferentiable({name})."
        )
        super().__init__(f"a call to {name}", hint, filename, lineno, col_offset, line)

    def _message(self) -> str:
        if self.filename == "<unknown>":
            return f"cannot differentiate a call to {self.construct[10:]}\n{self.hint}"
        return super()._message()


class RuleExistsError(ValueError):
    """A registration would replace one of srcgrad's built-in rules without ``override=True``.

    Every later derivative through that primitive, in every engine, would use the new
    rule, so replacing a built-in one is an explicit act.
    """


class NoSourceError(TransformError):
    """The source engine has no proven source for a function (REPL, ``exec``,
    ``python -c``, a ``functools.partial``, a C function, a file changed after import).

    ``detail`` says which, ``remedy`` what gets generated code instead.
    """

    def __init__(self, name: str, detail: str, remedy: str, filename: str = "<unknown>",
                 lineno: int = 0) -> None:
        self.name, self.detail, self.remedy = name, detail, remedy
        super().__init__(f"{name}, {detail}" if detail.startswith("whose") else f"{name}: {detail}",
                         f'{remedy[0].upper()}{remedy[1:]} to get generated code, or use '
                         'engine="tape".', filename, lineno, 0, "")

    def _message(self) -> str:
        if self.filename.startswith("<"):       # <unknown>, <stdin>, <string>: no place
            return f"cannot differentiate {self.construct}\n{self.hint}"
        return super()._message()

    def fallback_message(self, what: str = "") -> str:
        """The FallbackWarning's text when ``engine="auto"`` runs the function on the tape
        (``what``: where, for a callee that runs there inside its caller's generated code)."""
        where = f" {what}" if what else ""
        return f"{self.construct}, so this runs on the tape{where}; {self.remedy} to get " \
               "generated code."


class TapeNoRuleError(TypeError):
    """The tape met a function without a derivative rule, called on a Tensor."""

    def __init__(self, message: str, fun: Any) -> None:
        super().__init__(message)
        self.fun = fun


class MissingDerivativeError(TypeError):
    """The tape met a value that needs a gradient at an argument its rule has no VJP for.

    Its derivative would otherwise be dropped (a silent zero); the message names the
    primitive and the argument and says how to register a rule or declare the
    argument non-differentiable.
    """


class FallbackWarning(UserWarning):
    """``engine="auto"`` could not transform a function and used the tape instead."""
