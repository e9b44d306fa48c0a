"""The PyTorch autograd tutorial notebook, run on srcgrad with only the import changed.

``data/autograd-tutorial.ipynb`` is the seed notebook.  Each test below
replays one or more of its code cells with ``import srcgrad as torch`` and
asserts what the cell showed.  Values are random, so reprs are checked for
their structure with regular expressions and, where the notebook printed
numbers, by rebuilding a tensor from those numbers and comparing the repr
with the printed text.  ``test_notebook_runs_literally`` finally executes
every code cell as written (imports rewritten) in one namespace.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re

import numpy as np
import pytest

import srcgrad as torch
from srcgrad.autograd.function import Function

NOTEBOOK = pathlib.Path(__file__).parent / "data" / "autograd-tutorial.ipynb"

# fixed notation, or scientific when the values span more than three decades (as in PyTorch)
NUM = r"\d\.\d{4}(?:e[-+]\d\d)?"
ROW5 = rf"\[{NUM}(?:, {NUM}){{4}}\]"
ROW3 = rf"\[{NUM}(?:, {NUM}){{2}}\]"
INDENT = "\n        "  # PyTorch aligns rows under the first one, after "tensor(["


def _cells() -> list[dict]:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _output_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        elif "data" in out:
            parts.append("".join(out["data"].get("text/plain", "")))
    return "".join(parts)


def _cell(fragment: str) -> dict:
    matches = [c for c in _cells() if fragment in "".join(c["source"])]
    assert len(matches) == 1, fragment
    return matches[0]


def _norm(text: str) -> str:
    """Collapse whitespace: the stored notebook outputs lost PyTorch's row indentation."""
    return re.sub(r"\s+", " ", text).strip()


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", text)]


def _matrix_regex(row: str, rows: int, suffix: str) -> str:
    body = r"tensor\(\[" + row + (r"," + INDENT + row) * (rows - 1) + r"\]"
    # a suffix that does not fit on the last line wraps, aligned under "tensor("
    return "^" + body + (r",(?: |\n       )" + suffix if suffix else "") + r"\)$"


def _printed_tensor(cell_fragment: str) -> np.ndarray:
    """The numbers of the first tensor a cell printed, as a float32 array of its shape."""
    text = _output_text(_cell(cell_fragment))
    first = text.split(") tensor(")[0]
    rows = re.findall(r"\[([^\[\]]+)\]", first)
    return np.array([_numbers(r) for r in rows], dtype=np.float32)


# -- cell by cell --------------------------------------------------------------------------


def test_version_cell():
    assert "torch.__version__" in "".join(_cell("torch.__version__")["source"])
    assert isinstance(torch.__version__, str)
    assert re.match(r"^\d+\.\d+", torch.__version__)


def test_rand_requires_grad_repr():
    x = torch.rand(5, 5, requires_grad=True)
    text = repr(x)
    assert re.match(_matrix_regex(ROW5, 5, "requires_grad=True"), text), text
    # the printed numbers are the tensor's values rounded to 4 decimals
    shown = np.array(_numbers(text[: text.rindex("]")]))
    np.testing.assert_allclose(shown, x.detach().numpy().ravel(), atol=5.1e-5)
    assert x.shape == (5, 5) and x.dtype == torch.float32
    values = x.detach().numpy()
    assert ((values >= 0) & (values < 1)).all()


@pytest.mark.parametrize("fragment", ["x = torch.rand(5, 5, requires_grad=True)\nx",
                                      "y = torch.rand(5, 5, requires_grad=True)\ny"])
def test_printed_leaf_reprs_match_notebook_text(fragment):
    data = _printed_tensor(fragment)
    t = torch.tensor(data, requires_grad=True)
    assert _norm(repr(t)) == _norm(_output_text(_cell(fragment)))


def test_sum_of_sum_repr_and_value():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = torch.sum(x + y)
    text = repr(z)
    assert re.match(r"^tensor\(\d+\.\d{4}, grad_fn=<SumBackward0>\)$", text), text
    expected = float(np.sum(x.detach().numpy() + y.detach().numpy()))
    assert z.item() == pytest.approx(expected, rel=1e-6)
    assert text == f"tensor({z.item():.4f}, grad_fn=<SumBackward0>)"
    assert z.shape == () and z.dim() == 0
    # the notebook's own value, rebuilt
    printed = _output_text(_cell("z=torch.sum(x+y)"))
    rebuilt = torch.tensor(_numbers(printed)[0], requires_grad=True).sum()
    assert repr(rebuilt) == printed.strip()


def test_backward_of_sum_prints_ones():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = torch.sum(x + y)
    z.backward()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print(x.grad, y.grad)
    ones = "tensor([" + ",\n        ".join(["[1., 1., 1., 1., 1.]"] * 5) + "])"
    assert out.getvalue() == ones + " " + ones + "\n"
    assert _norm(out.getvalue()) == _norm(_output_text(_cell("print(x.grad,y.grad)")))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((5, 5), np.float32))
    assert x.grad.dtype == torch.float32 and not x.grad.requires_grad


def test_power_expression_repr():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    assert z.grad_fn.name() == "AddBackward0"
    text = repr(z)
    assert text.startswith("tensor([[") and text.endswith("grad_fn=<AddBackward0>)")
    assert text.count("\n") in (4, 5)  # 5 rows; the suffix may wrap to its own line
    np.testing.assert_allclose(
        z.detach().numpy(), x.detach().numpy() ** 2 + y.detach().numpy() ** 3, rtol=1e-6
    )


def test_power_expression_printed_repr_matches_notebook_text():
    fragment = "z= x**2+y**3"
    data = _printed_tensor(fragment)
    z = torch.tensor(data, requires_grad=True) + 0
    expected = _output_text(_cell(fragment))
    assert _norm(repr(z)) == _norm(expected)
    # scientific notation, suffix wrapped on its own line as PyTorch does
    assert repr(z).endswith("4.2239e-04]],\n       grad_fn=<AddBackward0>)")


def test_backward_with_ones_like_gradient():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    z.backward(torch.ones_like(x))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), 3 * y.detach().numpy() ** 2, rtol=1e-6)
    assert re.match(_matrix_regex(ROW5, 5, ""), repr(x.grad)), repr(x.grad)
    printed = _printed_tensor("z.backward(torch.ones_like(x))")
    assert _norm(repr(torch.tensor(printed))) == _norm(
        _output_text(_cell("z.backward(torch.ones_like(x))")))


def test_no_grad_cell():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        with torch.no_grad():
            print((x + y * 2).requires_grad)
    assert out.getvalue() == _output_text(_cell("with torch.no_grad():"))
    assert out.getvalue() == "False\n"
    assert (x + y * 2).requires_grad


# Methods the notebook's ``dir(z)`` lists that Tensor mode implements.
TENSOR_METHODS = """
__abs__ __add__ __and__ __array__ __array_priority__ __bool__ __deepcopy__ __eq__ __float__
__floordiv__ __format__ __ge__ __getitem__ __gt__ __iadd__ __imul__ __index__ __int__
__invert__ __ipow__ __isub__ __iter__ __itruediv__ __le__ __len__ __lt__ __matmul__ __mod__
__mul__ __ne__ __neg__ __or__ __pow__ __radd__ __reduce_ex__ __repr__ __rfloordiv__ __rmul__
__rpow__ __rsub__ __rtruediv__ __setitem__ __sub__ __truediv__ __xor__
abs abs_ acos add add_ all allclose any argmax argmin asin atan backward ceil chunk clamp
clamp_ clamp_max clamp_min clone contiguous copy_ cos cosh cpu cumprod cumsum data detach
detach_ device diag dim div div_ dot double dtype element_size eq equal exp exp_ expand
expand_as expm1 fill_ flatten flip float floor gather ge grad grad_fn gt half index_select
int is_cuda is_floating_point is_leaf item le log log10 log1p log2 log_ log_softmax logsumexp
long lt masked_fill matmul max mean min mm mul mul_ mv ndimension ne neg neg_ nelement
new_empty new_full new_ones new_tensor new_zeros norm numel numpy output_nr permute pow pow_
prod reciprocal register_hook relu relu_ repeat requires_grad requires_grad_ reshape
reshape_as retain_grad roll round rsqrt shape sigmoid sigmoid_ sign sin sin_ sinh size
softmax split sqrt sqrt_ squeeze std sub sub_ sum t tan tanh tanh_ to tolist trace transpose
tril triu type_as unbind unsqueeze var view view_as where zero_
""".split()


def test_dir_of_tensor_lists_the_notebook_methods():
    listed = set(re.findall(r"'(\w+)'", _cells_by_source("dir(z)")))
    assert len(listed) > 300
    missing_from_notebook = [m for m in TENSOR_METHODS if m not in listed]
    assert not missing_from_notebook, missing_from_notebook
    z = torch.rand(2, 2, requires_grad=True) * 2
    names = set(dir(z))
    assert [m for m in TENSOR_METHODS if m not in names] == []


def test_is_leaf_cell():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print("x.is_leaf=" + str(x.is_leaf))
        print("z.is_leaf=" + str(z.is_leaf))
    assert out.getvalue() == _output_text(_cell('print("x.is_leaf="'))


def test_grad_fn_repr_and_dir():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    assert re.match(r"^<AddBackward0 (object )?at 0x[0-9a-f]+>$", repr(z.grad_fn))
    assert re.match(r"^<AddBackward0 at 0x[0-9a-f]+>$", _cells_by_source("z.grad_fn"))
    assert type(z.grad_fn).__name__ == "AddBackward0"
    assert z.grad_fn.name() == "AddBackward0"
    wanted = {"metadata", "name", "next_functions", "register_hook", "requires_grad", "__call__",
              "_register_hook_dict"}
    assert wanted <= set(dir(z.grad_fn))
    shown = set(re.findall(r"'(\w+)'", _output_text(_cell("dir(z.grad_fn)"))))
    assert wanted <= shown
    assert z.grad_fn.requires_grad is True
    assert z.grad_fn.metadata == {}


def _cells_by_source(source: str) -> str:
    matches = [c for c in _cells() if "".join(c["source"]).strip() == source]
    assert len(matches) == 1
    return _output_text(matches[0])


def test_next_functions_cell():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    nf = z.grad_fn.next_functions
    assert isinstance(nf, tuple) and len(nf) == 2
    (a, i), (b, j) = nf
    assert (i, j) == (0, 0)
    assert type(a).__name__ == type(b).__name__ == "PowBackward0"
    assert a is not b
    shown = _cells_by_source("z.grad_fn.next_functions")
    assert re.match(r"^\(\(<PowBackward0 at 0x[0-9a-f]+>, 0\), \(<PowBackward0 at 0x[0-9a-f]+>, "
                    r"0\)\)$", shown)
    assert re.match(r"^\(\(<PowBackward0 (object )?at 0x[0-9a-f]+>, 0\), "
                    r"\(<PowBackward0 (object )?at 0x[0-9a-f]+>, 0\)\)$", repr(nf))


def test_accumulate_grad_variable_is_the_leaf():
    x = torch.rand(5, 5, requires_grad=True)
    y = torch.rand(5, 5, requires_grad=True)
    z = x**2 + y**3
    xg = z.grad_fn.next_functions[0][0]
    assert {"metadata", "name", "next_functions", "register_hook", "requires_grad"} <= set(dir(xg))
    assert len(xg.next_functions) == 1  # x ** 2: the exponent is not listed
    x_leaf = xg.next_functions[0][0]
    assert type(x_leaf).__name__ == "AccumulateGrad"
    assert _cells_by_source("x_leaf=xg.next_functions[0][0]\ntype(x_leaf)") == "AccumulateGrad"
    assert x_leaf.variable is x
    assert id(x_leaf.variable) == id(x)
    assert x_leaf.next_functions == ()
    assert re.match(_matrix_regex(ROW5, 5, "requires_grad=True"), repr(x_leaf.variable))
    y_leaf = z.grad_fn.next_functions[1][0].next_functions[0][0]
    assert y_leaf.variable is y
    # the same leaf used twice goes through one AccumulateGrad
    w = x * x
    assert w.grad_fn.next_functions[0][0] is w.grad_fn.next_functions[1][0]


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def test_mul_constant_function():
    a = torch.rand(3, 3, requires_grad=True)
    b = MulConstant.apply(a, 5)
    assert re.match(_matrix_regex(ROW3, 3, "requires_grad=True"), repr(a)), repr(a)
    assert re.match(_matrix_regex(ROW3, 3, "grad_fn=<MulConstantBackward>"), repr(b)), repr(b)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy() * 5, rtol=1e-6)
    assert type(b.grad_fn).__name__ == "MulConstantBackward"
    assert b.grad_fn.constant == 5
    b.backward(torch.ones_like(a))
    assert repr(a.grad) == "tensor([[1., 1., 1.],\n        [1., 1., 1.],\n        [1., 1., 1.]])"
    assert _norm(repr(a.grad)) == _norm(_cells_by_source("a.grad"))


def test_mul_constant_printed_reprs_match_notebook_text():
    fragment = "b=MulConstant.apply(a,5)"
    text = _output_text(_cell(fragment))
    a_part, b_part = text.split("b:")
    a = torch.tensor(_printed_rows(a_part), requires_grad=True)
    b = MulConstant.apply(torch.tensor(_printed_rows(b_part), requires_grad=True), 1)
    assert _norm("a:" + repr(a) + " b:" + repr(b)) == _norm(text)


def _printed_rows(text: str) -> np.ndarray:
    rows = re.findall(r"\[([^\[\]]+)\]", text)
    return np.array([_numbers(r) for r in rows], dtype=np.float32)


# -- the whole notebook, as written -----------------------------------------------------------


def _translated_source(cell: dict) -> str:
    src = "".join(cell["source"])
    src = src.replace("from torch.autograd.function import Function",
                      "from srcgrad.autograd.function import Function")
    src = re.sub(r"^import torch$", "import srcgrad as torch", src, flags=re.M)
    return src


def test_notebook_runs_literally():
    torch.manual_seed(0)
    namespace: dict = {}
    shown: list[tuple[str, str]] = []
    for cell in _cells():
        source = _translated_source(cell)
        assert not re.search(r"^\s*(import torch\b|from torch\b)", source, flags=re.M), source
        out = io.StringIO()
        lines = source.rstrip().split("\n")
        *body, last = lines
        code_body = "\n".join(body)
        with contextlib.redirect_stdout(out):
            # a cell's last line is shown when it is an expression, as Jupyter does
            try:
                compile(last, "<cell>", "eval")
                is_expr = not last.startswith((" ", "\t")) and not last.startswith("#")
            except SyntaxError:
                is_expr = False
            if is_expr:
                exec(compile(code_body, "<cell>", "exec"), namespace)
                value = eval(compile(last, "<cell>", "eval"), namespace)
                if value is not None:  # Jupyter shows nothing for None
                    out.write(repr(value) if not isinstance(value, type) else value.__name__)
            else:
                exec(compile(source, "<cell>", "exec"), namespace)
        shown.append((source, out.getvalue()))
    # every printed line of the notebook that is not random or an address came out the same
    for (source, got), cell in zip(shown, _cells(), strict=True):
        expected = _output_text(cell)
        if not expected:
            continue
        if "id(" in source or "__version__" in source:
            continue
        exp_norm = _norm(expected)
        got_norm = _norm(got)
        # random numbers (fixed or scientific notation) and addresses are replaced
        exp_shape = re.sub(r"0x[0-9a-f]+", "ADDR", re.sub(r"\d+\.\d{4}(e[-+]\d\d)?", "N", exp_norm))
        got_shape = re.sub(r"0x[0-9a-f]+", "ADDR", re.sub(r"\d+\.\d{4}(e[-+]\d\d)?", "N", got_norm))
        got_shape = got_shape.replace(" object at ", " at ")
        if source.strip().split("\n")[-1].startswith("dir("):
            exp_names = set(re.findall(r"'(\w+)'", expected))
            got_names = set(re.findall(r"'(\w+)'", got))
            if "grad_fn" in source or "xg" in source:
                wanted = {"metadata", "name", "next_functions", "register_hook", "requires_grad"}
            else:
                wanted = set(TENSOR_METHODS)
            assert wanted <= got_names & exp_names
            continue
        if "z= x**2+y**3" in source:
            # random values: fixed or scientific notation depending on their spread
            assert got_norm.startswith("tensor([[") and got_norm.endswith("grad_fn=<AddBackward0>)")
            continue
        assert got_shape == exp_shape, (source, got, expected)
    assert namespace["x_leaf"].variable is namespace["x"]
    a = namespace["a"]
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((3, 3), np.float32))
    assert type(namespace["b"].grad_fn).__name__ == "MulConstantBackward"
