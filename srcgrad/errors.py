"""srcgrad's exceptions and warnings."""

from __future__ import annotations

from typing import Any

__all__ = ["TransformError", "NestingError", "NoRuleError", "RuleExistsError",
           "FallbackWarning"]


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


class FallbackWarning(UserWarning):
    """``engine="auto"`` could not transform a function and used the tape instead."""
