"""Draw the backward graph of a small computation with Graphviz.

Writes ``graph.dot`` and, when Graphviz's ``dot`` is installed, ``graph.png``.

    python examples/graph_picture.py
"""

import shutil
import subprocess

import srcgrad as torch

w = torch.randn(3, 2, requires_grad=True)
b = torch.zeros(2, requires_grad=True)
x = torch.randn(4, 3)
loss = (x @ w + b).tanh().pow(2).mean()

dot = torch.autograd.graph_dot(loss)
with open("graph.dot", "w") as f:
    f.write(dot)
print(dot)
if shutil.which("dot"):
    subprocess.run(["dot", "-Tpng", "graph.dot", "-o", "graph.png"], check=True)
    print("wrote graph.png")
else:
    print("wrote graph.dot (install Graphviz to render it: dot -Tpng graph.dot -o graph.png)")
