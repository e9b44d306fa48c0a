"""Forward-mode AD (``autograd.forward_ad``) against real PyTorch (skipped without it).

Each scenario runs on both libraries and logs what a user sees: reprs (with their
``tangent=`` suffix), primal and tangent values, errors and warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from .parity import same, seen

real = pytest.importorskip("torch")

# PyTorch loads its forward-AD decompositions on first use, warning about torch.jit:
# done once here, so that no scenario sees those warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with real.autograd.forward_ad.dual_level():
        real.autograd.forward_ad.make_dual(real.ones(1), real.ones(1)).sin()


def _dual(torch, values, tangent, dtype=None):
    dtype = dtype or torch.float64
    return torch.autograd.forward_ad.make_dual(torch.tensor(values, dtype=dtype),
                                              torch.tensor(tangent, dtype=dtype))


def _unpacked(torch, y):
    p, t = torch.autograd.forward_ad.unpack_dual(y)
    return (p, t)


def _values(v):
    """Values only (reprs of float64 results print alike, but a last digit may differ)."""
    if isinstance(v, (list, tuple)):
        return [_values(e) for e in v]
    if hasattr(v, "detach"):
        return np.round(v.detach().numpy().astype(np.float64), 9).tolist()
    return v


X = [[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]]
DX = [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]]
W = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.7]]
DW = [[1.0, 0.5], [-0.5, 0.25], [0.2, -0.1]]

OPS = {
    "elementwise": lambda torch, x, w: x.sin() * x.exp() + x.tanh() / (1 + x * x)
    - x.abs() ** 1.5,
    "matmul": lambda torch, x, w: x @ w,
    "mm_transpose": lambda torch, x, w: (w.t() @ x.t()).t(),
    "sum_dim": lambda torch, x, w: x.sum(1),
    "mean_keepdim": lambda torch, x, w: x.mean(0, keepdim=True),
    "prod": lambda torch, x, w: x.prod(),
    "max_dim": lambda torch, x, w: x.max(1)[0],
    "logsumexp": lambda torch, x, w: x.logsumexp(1),
    "softmax": lambda torch, x, w: x.softmax(1),
    "norm": lambda torch, x, w: x.norm(),
    "index": lambda torch, x, w: x[1, [0, 2, 0]],
    "slice": lambda torch, x, w: x[:, 1:],
    "mask": lambda torch, x, w: x[x > 0],
    "view_reshape": lambda torch, x, w: x.reshape(3, 2).view(6),
    "permute_expand": lambda torch, x, w: x.unsqueeze(0).expand(2, 2, 3).permute(2, 0, 1),
    "broadcast": lambda torch, x, w: x * torch.tensor([[2.0], [-1.0]], dtype=x.dtype) + x[0],
    "cat_stack": lambda torch, x, w: torch.cat([x, x * 2], 1) + torch.stack([x, x], 0).sum(0)
    .repeat(1, 2),
    "where_clamp": lambda torch, x, w: torch.where(x > 0, x.clamp(0.3, 1.7), x ** 2),
    "sort": lambda torch, x, w: x.sort(1)[0],
    "gather": lambda torch, x, w: x.gather(1, torch.tensor([[2, 0], [1, 1]])),
    "cumsum": lambda torch, x, w: x.cumsum(1),
    "pow_both": lambda torch, x, w: (x.abs() + 1) ** (w.t() * 0.5),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_tangents_of_operations(name):
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        with fwAD.dual_level():
            x = _dual(torch, X, DX)
            w = _dual(torch, W, DW)
            y = OPS[name](torch, x, w)
            log.append(_unpacked(torch, y))

    same(scenario, _values)


def test_reprs_of_dual_tensors():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        t = torch.tensor([0.1, 0.2, 0.3])
        with fwAD.dual_level() as level:
            log.append(level)
            d = fwAD.make_dual(x, t)
            log.append(d)
            log.append(fwAD.make_dual(torch.tensor(1.0), torch.tensor(2.0)))
            log.append(fwAD.make_dual(torch.ones(2, dtype=torch.float64), torch.ones(2)))
            log.append((d * 2).sum())
            log.append(repr(fwAD.unpack_dual(d)))
            log.append(fwAD.unpack_dual(d).tangent is t)
            log.append(d.grad_fn.name())
        log.append(d)
        log.append(repr(fwAD.unpack_dual(d)))

    same(scenario)


def test_errors_of_levels_and_make_dual():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        x, t = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.1, 0.2, 0.3])

        def attempt(f):
            try:
                log.append(f())
            except Exception as e:  # noqa: BLE001 - the error is what is compared
                log.append((type(e).__name__, str(e).replace("torch.", "srcgrad.")))

        attempt(lambda: fwAD.make_dual(x, t))
        attempt(lambda: fwAD.unpack_dual(x))
        attempt(lambda: fwAD.exit_dual_level())
        attempt(lambda: fwAD.exit_dual_level(level=0))
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            attempt(lambda: fwAD.make_dual(x, torch.ones(2)))
            attempt(lambda: fwAD.make_dual(x, torch.ones(3, dtype=torch.int64)))
            attempt(lambda: fwAD.make_dual(x.long(), torch.ones(3)))
            attempt(lambda: fwAD.make_dual(x, t, level=1))
            attempt(lambda: fwAD.unpack_dual(d, level=1))
            attempt(lambda: fwAD.make_dual(d, t))
            attempt(lambda: fwAD.make_dual(x, d))
            attempt(lambda: fwAD.enter_dual_level())
            attempt(lambda: fwAD.dual_level().__enter__())
        level = fwAD.enter_dual_level()
        log.append(level)
        attempt(lambda: fwAD.exit_dual_level(level=5))
        fwAD.exit_dual_level(level=level)
        log.append(fwAD.UnpackedDualTensor._fields)

    same(scenario)


def test_tangents_ignore_grad_mode_and_detach_drops_them():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        with fwAD.dual_level():
            d = _dual(torch, [1.0, 2.0], [0.5, -1.0])
            with torch.no_grad():
                log.append(_unpacked(torch, d.sin()))
            log.append(_unpacked(torch, d.detach()))
            log.append(_unpacked(torch, d.clone()))
            log.append(_unpacked(torch, d.data))
            log.append(_unpacked(torch, d.double() * 3.0))
            log.append(_unpacked(torch, 2.0 * d))

    same(scenario, _values)


def test_in_place_operations_on_dual_tensors():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        with fwAD.dual_level():
            t = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
            d = fwAD.make_dual(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), t)
            y = d * 2
            y.mul_(3)
            log.append(_unpacked(torch, y))
            log.append(t)                       # y's tangent is its own: t unchanged
            z = fwAD.make_dual(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
                               torch.zeros(3, dtype=torch.float64))
            tz = fwAD.unpack_dual(z).tangent
            z.mul_(d)                           # the tangent changes in place, as in PyTorch
            log.append((_unpacked(torch, z), tz, fwAD.unpack_dual(z).tangent is tz))
            w = torch.ones(3, dtype=torch.float64)
            w.add_(d)                           # a plain tensor gets a tangent
            log.append(_unpacked(torch, w))
            w += d
            w.sub_(d * 0.5)
            w.div_(d)
            log.append(_unpacked(torch, w))
            v = d.clone()
            v[1] = d[0] * 5
            log.append(_unpacked(torch, v))
            v.zero_()
            log.append(_unpacked(torch, v))
            v.copy_(d.exp())
            log.append(_unpacked(torch, v))
            v.clamp_(1.0, 10.0).pow_(2.0)
            log.append(_unpacked(torch, v))

    same(scenario, _values)


def test_in_place_operations_through_views():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        with fwAD.dual_level():
            t = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
            d = fwAD.make_dual(torch.zeros(3, dtype=torch.float64), t)
            e = d + 1
            v = e[1:]
            v.mul_(3)                           # e's tangent follows through the view
            log.append((_unpacked(torch, e), _unpacked(torch, v)))
            b = torch.zeros(2, 3, dtype=torch.float64)
            row = b[0]
            row.add_(d)                         # the base gets a tangent
            log.append((_unpacked(torch, b), _unpacked(torch, row)))
            b[1] = d * 2                        # ... and its index views see a new one
            log.append((_unpacked(torch, b), _unpacked(torch, row), _unpacked(torch, b[1])))
            s = d.clone()
            s[::2].mul_(10)
            log.append(_unpacked(torch, s))

    same(scenario, _values)


def test_make_dual_of_a_view_changes_in_place_keep_the_tangent_in_the_dual():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
        t = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            d.mul_(2)
            log.append((_unpacked(torch, x), _unpacked(torch, d), t))

    same(scenario, _values)


def test_forward_over_reverse_and_reverse_over_forward():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        t = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            y = (d.sin() * d + d.exp().sum() * d).sum()
            log.append(_unpacked(torch, y))
            (g,) = torch.autograd.grad(y, x, create_graph=True)
            log.append(_unpacked(torch, g))          # Hessian-vector product as tangent
            y = (d.sin() * d).prod()
            (g,) = torch.autograd.grad(y, x)
            log.append(_unpacked(torch, g))
            y = (d ** 3).sum()
            (g,) = torch.autograd.grad(y, d)
            log.append(_unpacked(torch, g))
            y = (d.tanh() * d).sum()
            y.backward()
            log.append(_unpacked(torch, x.grad))    # .grad has no tangent
            yt = fwAD.unpack_dual((d.sin() * d).sum()).tangent
            log.append(yt.requires_grad)
        (h,) = torch.autograd.grad(yt, x)           # reverse over forward, after the level
        log.append(h)

    same(scenario, _values)


def test_custom_function_jvp():
    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad

        class Mul(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                log.append(fwAD.unpack_dual(a).tangent)     # forward sees primals
                ctx.save_for_forward(a, b)
                return a * b * k, a + b

            @staticmethod
            def jvp(ctx, ta, tb, tk):
                log.append((ta, tb, tk))
                a, b = ctx.saved_tensors
                return ta * b + a * tb, ta + tb

        class NoJvp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class BadJvp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def jvp(ctx, ta):
                return ta[:1]

        with fwAD.dual_level():
            x = _dual(torch, [1.0, 2.0], [0.5, -0.5])
            out = Mul.apply(x, torch.tensor([3.0, 4.0], dtype=torch.float64), 2.0)
            log.append([_unpacked(torch, o) for o in out])
            for f in (NoJvp, BadJvp):
                try:
                    f.apply(x)
                except Exception as e:  # noqa: BLE001 - the error is what is compared
                    log.append((type(e).__name__, str(e)))

    same(scenario, _values)


def test_forward_ad_tutorial():
    """The code of PyTorch's forward-mode AD tutorial (its torch.nn and torch.func
    parts aside), on both libraries."""

    def scenario(torch, log):
        fwAD = torch.autograd.forward_ad
        torch.manual_seed(0)
        primal = torch.randn(10, 10)
        tangent = torch.randn(10, 10)

        def fn(x, y):
            return x ** 2 + y ** 2

        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            log.append(fwAD.unpack_dual(dual_input).tangent is tangent)
            dual_input_alt = fwAD.make_dual(primal, tangent.T)
            log.append(fwAD.unpack_dual(dual_input_alt).tangent is not tangent)
            log.append(np.allclose(fwAD.unpack_dual(dual_input_alt).tangent.numpy(),
                                   tangent.T.numpy()))
            plain_tensor = torch.randn(10, 10)
            dual_output = fn(dual_input, plain_tensor)
            jvp = fwAD.unpack_dual(dual_output).tangent
            log.append(np.allclose(jvp.numpy(), (2 * primal * tangent).numpy()))
        log.append(fwAD.unpack_dual(dual_output).tangent is None)

        class Fn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, foo):
                result = torch.exp(foo)
                ctx.result = result
                return result

            @staticmethod
            def jvp(ctx, gI):
                gO = gI * ctx.result
                del ctx.result
                return gO

        fn = Fn.apply
        primal = torch.randn(10, 10, dtype=torch.double, requires_grad=True)
        tangent = torch.randn(10, 10)
        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            dual_output = fn(dual_input)
            jvp = fwAD.unpack_dual(dual_output).tangent
            log.append(np.allclose(jvp.detach().numpy(),
                                   (tangent * primal.exp()).detach().numpy()))
        log.append(torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True,
                                            check_backward_ad=False,
                                            check_undefined_grad=False,
                                            check_batched_grad=False))

    same(scenario, seen)
