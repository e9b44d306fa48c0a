"""A picture of the backward graph as Graphviz DOT text."""

from __future__ import annotations

from typing import Any

from .tensor import Tensor

__all__ = ["graph_dot"]


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(str(d) for d in t.shape) + ")"


def graph_dot(*tensors: Tensor, name: str = "grad_fn") -> str:
    """Graphviz DOT of the ``grad_fn`` graph behind ``tensors``.

    Nodes are the backward functions (by their PyTorch names); leaves show the
    shape of the tensor their ``AccumulateGrad`` feeds.  Render with
    ``dot -Tpng`` or any Graphviz viewer.
    """
    lines = [f"digraph {name} {{", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}
    order: list[Any] = []

    def ident(node: Any) -> str:
        key = id(node)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            order.append(node)
        return ids[key]

    edges = []
    for i, t in enumerate(tensors):
        out = f"out{i}"
        lines.append(f'  {out} [label="output {_shape(t)}", style=filled, fillcolor="#b3d9ff"];')
        if t.grad_fn is not None:
            edges.append((ident(t.grad_fn), out))
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for nxt, _ in node.next_functions:
            if nxt is not None:
                edges.append((ident(nxt), ident(node)))
                stack.append(nxt)
    for node in order:
        variable = getattr(node, "variable", None)
        if variable is not None:
            label = f"AccumulateGrad\\n{_shape(variable)}"
            lines.append(f'  {ids[id(node)]} [label="{label}", style=filled, fillcolor="#c8f7c5"];')
        else:
            lines.append(f'  {ids[id(node)]} [label="{type(node).__name__}"];')
    for a, b in edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"
