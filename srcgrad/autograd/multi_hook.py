"""``register_multi_grad_hook``: one hook for the gradients of several tensors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import graph

__all__ = ["register_multi_grad_hook"]


class _Handles:
    """The handle ``register_multi_grad_hook`` returns: ``remove()`` removes every hook."""

    def __init__(self, handles: list) -> None:
        self._handles = handles

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    def __enter__(self) -> _Handles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Sequence[Any], fn: Callable[..., Any], *,
                             mode: str = "all") -> _Handles:
    """Call ``fn`` once per backward pass for the gradients of ``tensors``.

    ``mode="all"``: ``fn(grads)`` after the gradients of all the tensors the pass
    reaches are computed, ``None`` for those it does not reach.  ``mode="any"``:
    ``fn(grad)`` with the first gradient computed.  As in PyTorch.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    count = len(tensors)
    state: dict = {"pass": None, "grads": [None] * count, "seen": 0, "expected": 0}

    def start(current: Any) -> None:
        state.update({"pass": current, "grads": [None] * count, "seen": 0})
        if mode == "all" and current is not None:
            state["expected"] = sum(
                1 for t in tensors if t._rg and current.will_run(_node_of(t)))

    def make_hook(i: int) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            current = graph._PASS.current
            if state["pass"] is not current or current is None:
                start(current)
            state["seen"] += 1
            if mode == "any":
                if state["seen"] == 1:
                    fn(grad)
                return
            state["grads"][i] = grad
            if state["seen"] >= state["expected"]:
                fn(list(state["grads"]))

        return hook

    return _Handles([t.register_hook(make_hook(i)) for i, t in enumerate(tensors) if t._rg])


def _node_of(t: Any) -> Any:
    return t._fn if t._fn is not None else t._accumulator()
