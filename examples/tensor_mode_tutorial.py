"""PyTorch's autograd tutorial, run on srcgrad's Tensor mode.

The only change from the PyTorch version is the import.

    python examples/tensor_mode_tutorial.py
"""

import srcgrad as torch
from srcgrad.autograd.function import Function

torch.manual_seed(0)

# Tensors that require grad record every operation done to them.
x = torch.rand(5, 5, requires_grad=True)
y = torch.rand(5, 5, requires_grad=True)
print("x =", x)

z = torch.sum(x + y)
print("z =", z)  # tensor(..., grad_fn=<SumBackward0>)

z.backward()
print("dz/dx =", x.grad)  # all ones

# A non-scalar result needs a gradient argument of its shape.
x = torch.rand(5, 5, requires_grad=True)
y = torch.rand(5, 5, requires_grad=True)
z = x**2 + y**3
z.backward(torch.ones_like(x))
print("d(sum z)/dx = 2x:", torch.allclose(x.grad, 2 * x.detach()))

with torch.no_grad():
    print("recorded under no_grad:", (x + y * 2).requires_grad)  # False

# The graph: grad_fn nodes, their next_functions, and AccumulateGrad leaves.
print("x.is_leaf =", x.is_leaf, " z.is_leaf =", z.is_leaf)
print("z.grad_fn =", z.grad_fn)
print("z.grad_fn.next_functions =", z.grad_fn.next_functions)
x_leaf = z.grad_fn.next_functions[0][0].next_functions[0][0]
print("type(x_leaf) =", type(x_leaf).__name__, "  x_leaf.variable is x:", x_leaf.variable is x)


# Extending autograd with a custom Function.
class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


a = torch.rand(3, 3, requires_grad=True)
b = MulConstant.apply(a, 5)
print("b =", b)  # grad_fn=<MulConstantBackward>
b.backward(torch.ones_like(a))
print("a.grad =", a.grad)  # all fives

# A picture of the graph (Graphviz DOT text; render it with `dot -Tpng`).
print(torch.autograd.graph_dot(z))
