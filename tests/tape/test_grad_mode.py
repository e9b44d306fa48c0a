"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``."""

from __future__ import annotations

import threading

import pytest

import srcgrad as torch


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    yield
    torch.set_grad_enabled(True)


def _x():
    return torch.ones(2, requires_grad=True)


def test_no_grad_context_manager():
    x = _x()
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert torch.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = _x()
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad


def test_nested_no_grad():
    with torch.no_grad():
        with torch.no_grad():
            assert not torch.is_grad_enabled()
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_no_grad_decorator_with_parentheses():
    x = _x()

    @torch.no_grad()
    def f(t):
        """doc"""
        assert not torch.is_grad_enabled()
        return t * 2

    assert not f(x).requires_grad
    assert torch.is_grad_enabled()
    assert f.__name__ == "f" and f.__doc__ == "doc"


def test_no_grad_decorator_without_parentheses():
    x = _x()

    @torch.no_grad
    def f(t):
        return t * 2

    assert callable(f) and f.__name__ == "f"
    assert not f(x).requires_grad
    assert torch.is_grad_enabled()


def test_enable_grad_decorator():
    x = _x()

    @torch.enable_grad()
    def f(t):
        return t * 2

    @torch.enable_grad
    def g(t):
        return t * 3

    with torch.no_grad():
        assert f(x).requires_grad
        assert g(x).requires_grad
        assert not torch.is_grad_enabled()


def test_decorated_function_restores_mode_on_exception():
    @torch.no_grad()
    def boom():
        raise KeyError

    with pytest.raises(KeyError):
        boom()
    assert torch.is_grad_enabled()


def test_set_grad_enabled_plain_call():
    x = _x()
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    assert not (x * 2).requires_grad
    torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()
    assert (x * 2).requires_grad


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_context_manager(mode):
    x = _x()
    with torch.no_grad():
        with torch.set_grad_enabled(mode):
            assert torch.is_grad_enabled() is mode
            assert (x * 2).requires_grad is mode
        assert not torch.is_grad_enabled()
    with torch.set_grad_enabled(mode):
        assert torch.is_grad_enabled() is mode
    assert torch.is_grad_enabled()


def test_set_grad_enabled_decorator():
    x = _x()

    @torch.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert torch.is_grad_enabled()  # decorating does not change the mode
    assert not f(x).requires_grad
    assert torch.is_grad_enabled()


def test_grad_mode_names_in_autograd_namespace():
    from srcgrad import autograd

    assert autograd.no_grad is torch.no_grad
    assert autograd.enable_grad is torch.enable_grad
    assert autograd.set_grad_enabled is torch.set_grad_enabled
    assert autograd.is_grad_enabled is torch.is_grad_enabled


def test_backward_is_not_affected_by_no_grad_outside():
    x = _x()
    y = (x * x).sum()
    with torch.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_mode_is_per_thread():
    """A thread inside no_grad does not switch recording off for another thread."""
    inside = threading.Event()
    checked = threading.Event()
    results: dict = {}
    errors: list = []

    def quiet_thread():
        try:
            with torch.no_grad():
                inside.set()
                assert checked.wait(10)
                results["quiet_enabled"] = torch.is_grad_enabled()
                results["quiet_records"] = (_x() * 2).requires_grad
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
            inside.set()

    def busy_thread():
        try:
            assert inside.wait(10)
            results["busy_enabled"] = torch.is_grad_enabled()
            results["busy_records"] = (_x() * 2).requires_grad
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            checked.set()

    threads = [threading.Thread(target=quiet_thread), threading.Thread(target=busy_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert results == {"quiet_enabled": False, "quiet_records": False,
                       "busy_enabled": True, "busy_records": True}
    assert torch.is_grad_enabled()


def test_new_threads_start_with_grad_enabled():
    seen = []
    barrier = threading.Barrier(2, timeout=10)

    def worker():
        seen.append(torch.is_grad_enabled())
        barrier.wait()

    with torch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        barrier.wait()
        t.join(10)
        assert not torch.is_grad_enabled()
    assert seen == [True]


def test_many_threads_toggle_independently():
    n = 6
    barrier = threading.Barrier(n, timeout=10)
    seen: dict = {}

    def worker(i):
        torch.set_grad_enabled(i % 2 == 0)
        barrier.wait()  # every thread has set its own mode before anyone reads
        seen[i] = (torch.is_grad_enabled(), (_x() * 2).requires_grad)
        barrier.wait()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {i: (i % 2 == 0, i % 2 == 0) for i in range(n)}
    assert torch.is_grad_enabled()


def test_backward_in_several_threads_at_once():
    """Backward switches grad mode for its own thread only (create_graph on or off)."""
    import numpy as np

    n = 4
    barrier = threading.Barrier(n, timeout=10)
    errors: list = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            barrier.wait()
            for _ in range(100):
                v = rng.standard_normal(5)
                x = torch.tensor(v, requires_grad=True)
                y = (x.sin() * x).sum()
                (g,) = torch.autograd.grad(y, x, create_graph=seed % 2 == 0)
                assert g.requires_grad is (seed % 2 == 0)
                assert torch.is_grad_enabled()
                np.testing.assert_allclose(g.detach().numpy(), np.cos(v) * v + np.sin(v))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
