"""The autograd API beyond backward() against real PyTorch (skipped without it).

Each scenario is a function of the library (``srcgrad`` or ``torch``) that
returns what a user would see: values (as NumPy arrays), reprs (``torch.`` read
as ``srcgrad.``), error and warning texts, the order hooks ran in.  Both
libraries must give the same record.
"""

from __future__ import annotations

import numpy as np
import pytest

from .parity import both as _both
from .parity import exp_function
from .parity import same as _same

real = pytest.importorskip("torch")


# -- autograd.grad stops at its inputs --------------------------------------------------------


def test_grad_at_a_non_leaf_leaves_the_graph_behind_it():
    def scenario(torch, log):
        x = torch.tensor([0.5, 2.0], requires_grad=True)
        x.register_hook(lambda g: log.append(("leaf hook", g)))
        y = x * x
        log.append(torch.autograd.grad(y.exp().sum(), y))
        y.sum().backward()
        log.append(x.grad)
        z = x * x
        z.exp().sum().backward(inputs=[z])
        log.append((z.grad, z.retains_grad, x.grad))

    _same(scenario)


def test_gradgradcheck_of_the_double_backward_tutorial_function():
    def scenario(torch, log):
        Exp = exp_function(torch)
        x = torch.tensor(1., requires_grad=True, dtype=torch.double).clone()
        log.append(torch.autograd.gradcheck(Exp.apply, x))
        log.append(torch.autograd.gradgradcheck(Exp.apply, x))

    _same(scenario)


# -- saved tensors ------------------------------------------------------------------------------


def test_saved_tensors_of_the_autograd_mechanics_notes():
    def scenario(torch, log):
        x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x.pow(2)
        log.append(x.equal(y.grad_fn._saved_self))
        log.append(x is y.grad_fn._saved_self)
        log.append(y.grad_fn._saved_exponent)
        y = x.exp()
        log.append(y.equal(y.grad_fn._saved_result))
        log.append(y is y.grad_fn._saved_result)
        log.append(y.grad_fn._saved_result.grad_fn is y.grad_fn)
        for node in (y.grad_fn, (x * x).grad_fn, x.sin().grad_fn, x.tanh().grad_fn):
            log.append(sorted(n for n in dir(node) if "saved" in n))
        y.sum().backward()
        log.append(y.grad_fn._saved_result)

    _same(scenario)


def test_saved_tensors_hooks_print_what_they_pack_and_unpack():
    def scenario(torch, log):
        def pack_hook(x):
            log.append(("Packing", x))
            return x

        def unpack_hook(x):
            log.append(("Unpacking", x))
            return x

        a = torch.ones(5, requires_grad=True)
        b = torch.ones(5, requires_grad=True) * 2
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            y = a * b
        y.sum().backward()
        log.append(a.grad)
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.pow(2)
        y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)
        y.sum().backward()
        log.append(x.grad)
        y = x.pow(2)
        y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)
        y.grad_fn._raw_saved_self.register_hooks(pack_hook, unpack_hook)

    _same(scenario)


def test_hooks_that_move_saved_values_out_and_back_keep_every_derivative():
    def scenario(torch, log):
        store = {}

        def pack(t):
            store[len(store)] = t.detach().numpy().copy()
            return len(store) - 1

        def unpack(key):
            return torch.tensor(store[key])

        x = torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64, requires_grad=True)
        w = torch.tensor([1.5, 0.4, -0.8], dtype=torch.float64, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = ((x * w).sin() * x.exp()).sum() + (x ** 3 / w).sum()
        gx, gw = torch.autograd.grad(y, (x, w), create_graph=True)
        log.append(torch.autograd.grad((gx * gw).sum(), (x, w)))
        log.append(len(store))

    mine, theirs = _both(scenario)
    np.testing.assert_allclose(np.array([m[2] for m in mine[0]]),
                               np.array([t[2] for t in theirs[0]]), rtol=1e-12)


def test_save_on_cpu_disable_and_allow_mutation():
    def scenario(torch, log):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x * x).sum()
        y.backward()
        log.append(x.grad)
        with torch.autograd.graph.disable_saved_tensors_hooks("no hooks in this library"):
            try:
                with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
            except RuntimeError as e:
                log.append(str(e))
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            try:
                with torch.autograd.graph.disable_saved_tensors_hooks("entered with hooks"):
                    pass
            except RuntimeError as e:
                log.append(str(e))
        with torch.autograd.graph.allow_mutation_on_saved_tensors():
            a = torch.ones(2, 3, requires_grad=True)
            b = a.clone()
            out = (b ** 2).sum()
            b.sin_()
            out.sum().backward()
            log.append((a.grad, b))
        with torch.autograd.graph.allow_mutation_on_saved_tensors():
            a = torch.ones(2, requires_grad=True)
            out = (a.clone() ** 2).sum()
        out.backward()

    _same(scenario)


def test_multi_grad_hook():
    def scenario(torch, log):
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0, 4.0], requires_grad=True)
        c = torch.tensor([5.0, 6.0], requires_grad=True)
        h = torch.autograd.graph.register_multi_grad_hook((a, b, c), lambda gs: log.append(gs))
        (a * b).sum().backward()
        (a * b * c).sum().backward()
        h.remove()
        (a * b).sum().backward()
        log.append("removed")
        deep = a.exp().exp()
        torch.autograd.graph.register_multi_grad_hook((deep, a), lambda g: log.append(g),
                                                      mode="any")
        (deep * b).sum().backward()
        torch.autograd.graph.register_multi_grad_hook((a,), print, mode="some")

    _same(scenario)


# -- modes -------------------------------------------------------------------------------------


def test_anomaly_mode_reports_nan_and_the_forward_call():
    def scenario(torch, log):
        log.append(torch.is_anomaly_enabled())
        with torch.autograd.detect_anomaly():
            log.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
            x = torch.tensor([0.0, 1.0], requires_grad=True)
            log.append(sorted(x.exp().grad_fn.metadata))
            try:
                (x / x).sum().backward()
            except RuntimeError as e:
                log.append(str(e))
        with torch.autograd.set_detect_anomaly(True, check_nan=False):
            log.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
            (x / x).sum().backward()
            log.append(np.isnan(x.grad.numpy()).tolist())
        log.append(torch.is_anomaly_enabled())

    mine, theirs = _both(scenario)
    # the warnings: the same first line, and the user's line in the forward traceback
    warned_mine, warned_theirs = mine.pop()[1], theirs.pop()[1]
    assert mine == theirs
    # (NumPy also warns about 0 / 0 in the forward pass; PyTorch does not)
    warned_mine = [w for w in warned_mine if not w.endswith("encountered in divide")]
    assert [w.splitlines()[0] for w in warned_mine] == [w.splitlines()[0] for w in warned_theirs]
    assert "(x / x).sum().backward()" in warned_mine[-1]


def test_inference_mode_and_only_inputs():
    def scenario(torch, log):
        x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
        with torch.inference_mode():
            y = x * 2
            log.append((y, y.requires_grad, torch.is_grad_enabled()))
        log.append(torch.is_grad_enabled())

        @torch.inference_mode()
        def f(t):
            return t * 2

        log.append(f(x).requires_grad)
        with torch.inference_mode(False):
            log.append((x * 2).requires_grad)
        log.append(torch.autograd.grad((x * x).sum(), x, only_inputs=True))
        log.append(torch.autograd.grad((x * x).sum(), x, only_inputs=False))

    _same(scenario)


def test_warnings_full_text():
    def scenario(torch, log):
        a = torch.tensor([1.0], requires_grad=True)
        log.append((a * 2).grad)
        (a * a).sum().backward(create_graph=True)
        log.append((a.grad.detach(), a.grad.requires_grad))

    _same(scenario)


# -- legacy spellings and Tensor methods --------------------------------------------------------


def test_legacy_constructors_and_variable():
    def scenario(torch, log):
        log.append(torch.Tensor(2, 3).shape)
        log.append(torch.Tensor([[0]]))
        log.append(torch.Tensor())
        log.append(torch.Tensor(np.array([1, 2])))
        log.append(torch.Tensor((2, 3)))
        log.append(torch.FloatTensor([1, 2]))
        log.append(torch.DoubleTensor([1, 2]))
        log.append(torch.LongTensor([1.5, 2]))
        log.append(torch.LongTensor(2).shape)
        log.append(torch.DoubleTensor(2, 2).dtype)
        log.append([isinstance(torch.tensor([1.0]), k) for k in
                    (torch.FloatTensor, torch.DoubleTensor, torch.LongTensor)])
        x = torch.tensor([1.0])
        v = torch.autograd.Variable(x, requires_grad=True)
        log.append((v, v is x, x.requires_grad, isinstance(x, torch.autograd.Variable)))
        v.add_(1) if False else None
        torch.autograd.variable(3.0, requires_grad=True)

    mine, theirs = _both(scenario)
    mine[0], theirs[0] = list(mine[0]), list(theirs[0])  # Size vs torch.Size
    assert str(mine[9]).replace("srcgrad", "torch") == str(theirs[9])
    mine[9] = theirs[9] = None
    assert mine == theirs


def test_tensor_methods():
    def scenario(torch, log):
        x = torch.tensor([[3.0, 1.0, 2.0], [0.5, 0.5, -1.0]], requires_grad=True)
        values, indices = x.sort()
        log.append((values, indices))
        log.append(torch.sort(x, dim=0, descending=True))
        log.append(x.sort(descending=True).values.grad_fn.name())
        (values * torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        log.append(x.grad)
        log.append(torch.ones(2, 3).transpose(dim0=0, dim1=1).shape)
        log.append((torch.tensor([1.0, 0.0]).all(), torch.tensor([[1.0, 2.0]]).all(dim=1),
                    torch.all(torch.tensor([1.0, 2.0])), x.all()))
        t = torch.zeros(5).index_add_(0, torch.tensor([0, 0, 2]), torch.tensor([1.0, 2.0, 3.0]),
                                      alpha=2)
        log.append(t)
        src = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        base = torch.zeros(4, 2, requires_grad=True)
        out = base.clone().index_add_(0, torch.tensor([1, 3, 1]), src)
        log.append(out.grad_fn.name())
        (out * torch.arange(8.0).reshape(4, 2)).sum().backward()
        log.append((src.grad, base.grad))
        log.append(torch.ones(3).multiply_(2))
        log.append(isinstance(x.data_ptr(), int))
        log.append(x.detach().data_ptr() == x.data_ptr())
        u = torch.zeros(1000).uniform_(-1, 1)
        log.append((bool((u >= -1).all()), bool((u < 1).all()), u.shape))
        x.uniform_()

    mine, theirs = _both(scenario)
    for log in (mine, theirs):
        log[5] = list(log[5])  # Size vs torch.Size
        log[13] = (log[13][0], log[13][1], list(log[13][2]))
    assert mine == theirs


def test_numpy_where_pytorch_allows_it():
    def scenario(torch, log):
        x = torch.tensor([3.0, 1.0], requires_grad=True)
        with torch.no_grad():
            log.append(x.numpy().tolist())
            log.append(np.asarray(x).tolist())

        class Twice(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return torch.from_numpy(a.numpy() * 2)

            @staticmethod
            def backward(ctx, g):
                return g * 2

        y = Twice.apply(x)
        log.append(y)
        y.sum().backward()
        log.append(x.grad)
        x.numpy()

    _same(scenario)


def test_values_of_max_with_dim_may_change_in_place_but_not_its_indices():
    def case(torch, log, op, which):
        x = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
        out = getattr(torch, op)(x, 1)
        values, indices = out
        if which == "values":
            values.mul_(2)
        else:
            indices.add_(0)
        values.sum().backward()
        log.append(x.grad)

    for op in ("max", "min", "sort"):
        for which in ("values", "indices"):
            _same(lambda torch, log, op=op, which=which: case(torch, log, op, which))

    def exp_output(torch, log):
        x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()

    _same(exp_output)


same = _same


def test_named_results_of_max_min_sort_and_their_nodes():
    def scenario(torch, log):
        x = torch.tensor([[3.0, 1.0, 2.0], [0.5, 2.5, -1.0]], requires_grad=True)
        log.append(repr(x.max(1)).replace("torch.", "srcgrad."))
        log.append(repr(torch.min(x, 0, keepdim=True)).replace("torch.", "srcgrad."))
        log.append(repr(x.sort(0, descending=True)).replace("torch.", "srcgrad."))
        log.append(repr(torch.sort(x, stable=True)).replace("torch.", "srcgrad."))
        log.append(type(x.max(1)).__name__)
        log.append(x.max(1).indices)
        v, i = x.sort(dim=1, stable=False)
        (v * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        log.append(x.grad)

    same(scenario)


def test_saved_python_numbers_are_wrapped_tensors_where_pytorch_wraps_them():
    def scenario(torch, log):
        x = torch.tensor([0.5, 1.0], requires_grad=True)
        log.append((x * 2).grad_fn._saved_other)
        log.append((x * 2.5).grad_fn._saved_other)
        log.append((x / 3).grad_fn._saved_other)
        log.append((x * True).grad_fn._saved_other)
        log.append(x.pow(2.5).grad_fn._saved_exponent)   # a Scalar argument: a number
        log.append((x * x).grad_fn._saved_other is x)

    same(scenario)
