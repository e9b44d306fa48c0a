"""Anomaly detection (``detect_anomaly``, ``set_detect_anomaly``), as in PyTorch.

While it is on, every new node remembers the forward call that created it
(``grad_fn.metadata["traceback_"]``); an error in a node's backward is preceded
by a warning showing that call, and with ``check_nan`` a node returning NaN
gradients raises.  It is global, not per thread, as in PyTorch.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

F = TypeVar("F", bound=Callable[..., Any])

ENABLED_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and "
                   "should only be enabled for debugging.")


class _State:
    enabled = False
    check_nan = True


STATE = _State()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return STATE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks gradients for NaN."""
    return STATE.check_nan


def _set(enabled: bool, check_nan: bool) -> None:
    STATE.enabled = bool(enabled)
    STATE.check_nan = bool(check_nan)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager and decorator turning anomaly detection on (with a warning)."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._prev = (STATE.enabled, STATE.check_nan)
        warnings.warn(ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self._prev = (STATE.enabled, STATE.check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)

    def __call__(self, fn: F) -> F:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off now; as a context manager, restore on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (STATE.enabled, STATE.check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(*self._prev)


def forward_traceback() -> list[str]:
    """The user's stack at a node's creation (srcgrad's own frames left out)."""
    frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith(_PACKAGE)]
    return traceback.format_list(frames)


def run_checked(node: Any, run: Callable[[], tuple]) -> tuple:
    """``run()`` (the node's backward) with anomaly mode's reporting around it."""
    try:
        grads = run()
        if STATE.check_nan and grads is not None:
            _check_nan(node, grads)
    except Exception:
        stack = (node._metadata or {}).get("traceback_")
        if stack is not None:
            warnings.warn(f"Error detected in {type(node).__name__}. Traceback of forward call "
                          "that caused the error:\n" + "".join(stack), UserWarning,
                          stacklevel=2)
        raise
    return grads


def _check_nan(node: Any, grads: tuple) -> None:
    for i, g in enumerate(grads):
        a = getattr(g, "_a", g)
        if a is not None and np.asarray(a).dtype.kind in "fc" and np.isnan(a).any():
            raise RuntimeError(
                f"Function '{type(node).__name__}' returned nan values in its {i}th output."
            )
