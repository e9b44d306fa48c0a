"""Grad mode: whether operations on Tensors are recorded.  Per thread."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    enabled = True
    # True while the tape runs a user's NumPy function (engine="tape"): Tensor
    # methods then keep NumPy's meanings where they differ from PyTorch's, and
    # conversions to Python numbers that would lose a gradient are refused.
    numpy_code = False
    inference = False


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when new operations on Tensors are recorded for backward."""
    return _state.enabled


def _set(mode: bool) -> None:
    _state.enabled = bool(mode)


def _run_in_mode(fn: F, mode: bool) -> F:
    """``fn`` wrapped to run with grad mode ``mode`` (the decorator form of the switches)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        prev = _state.enabled
        _set(mode)
        try:
            return fn(*args, **kwargs)
        finally:
            _set(prev)

    return wrapper  # type: ignore[return-value]


class _GradModeContext:
    """Base of the grad-mode switches: a context manager and a decorator."""

    _mode: bool

    def __new__(cls, *args: Any) -> Any:
        # ``@no_grad`` without parentheses decorates directly.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return object.__new__(cls)(args[0])
        return object.__new__(cls)

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _set(self._mode)

    def __exit__(self, *exc: object) -> None:
        _set(self._prev)

    def __call__(self, fn: F) -> F:
        return _run_in_mode(fn, self._mode)


class no_grad(_GradModeContext):
    """Context manager and decorator that disables recording."""

    _mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that enables recording (inside ``no_grad``)."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode: as a plain call, a context manager or a decorator.

    ``set_grad_enabled(False)`` takes effect immediately, as in PyTorch; used
    in a ``with`` statement the previous mode is restored on exit.
    """

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _state.enabled
        _set(mode)

    def __enter__(self) -> None:
        # The mode was already set by __init__; remember what to restore.
        pass

    def __exit__(self, *exc: object) -> None:
        _set(self._prev)

    def __call__(self, fn: F) -> F:
        _set(self._prev)  # used as a decorator: don't leave the mode changed
        return _run_in_mode(fn, self._mode)


class inference_mode:  # noqa: N801 - PyTorch's name
    """``no_grad`` for inference (context manager and decorator, with or without
    parentheses); ``inference_mode(False)`` changes nothing.

    Unlike PyTorch, tensors made inside are ordinary tensors that do not require grad:
    srcgrad has no "inference tensors", so using them later in a recorded
    computation is allowed.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):  # ``@inference_mode``, no parentheses
            self = object.__new__(cls)
            self.__init__(True)
            return self(mode)
        return object.__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self._mode = bool(mode) if isinstance(mode, bool) else True

    def __enter__(self) -> None:
        self._prev = (_state.enabled, _state.inference)
        if self._mode:
            _state.enabled, _state.inference = False, True

    def __exit__(self, *exc: object) -> None:
        _state.enabled, _state.inference = self._prev

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode``."""
    return _state.inference
