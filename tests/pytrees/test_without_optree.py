"""optree is optional: plain arguments never import it, containers without it say how to
install it."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import srcgrad


def test_plain_arguments_do_not_import_optree(tmp_path):
    script = tmp_path / "plain.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        import srcgrad

        def f(x, y):
            return np.sum(np.sin(x) * y)

        for engine in ("source", "tape"):
            g = srcgrad.grad(f, argnums=(0, 1), engine=engine)(np.ones(3), 2.0)
            assert np.allclose(g[0], 2.0 * np.cos(1.0)), g
        print("optree" in sys.modules)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_container_without_optree_names_the_extra(monkeypatch):
    monkeypatch.setattr(srcgrad.tree, "_optree", None)
    monkeypatch.setitem(sys.modules, "optree", None)    # (import optree raises ImportError)

    def f(p):
        return np.sum(p["w"])

    with pytest.raises(srcgrad.tree.TreeError, match=r"pip install 'srcgrad\[tree\]'"):
        srcgrad.grad(f)({"w": np.ones(2)})
    assert srcgrad.grad(lambda x: np.sum(x ** 2))(np.ones(2)).tolist() == [2.0, 2.0]


def _without_optree(monkeypatch):
    monkeypatch.setattr(srcgrad.tree, "_optree", None)
    monkeypatch.setitem(sys.modules, "optree", None)    # (import optree raises ImportError)


def tanh_layers(ws, x):
    return np.sum(np.tanh(x @ ws[0]) * ws[1]) + np.sum(ws[1] ** 2)


@pytest.mark.parametrize("engine", ["source", "tape"])
@pytest.mark.parametrize("kind", [list, tuple])
def test_a_flat_list_or_tuple_of_arrays_needs_no_optree(monkeypatch, engine, kind):
    """Differentiated as a sequence argument, item by item: the same gradients as with
    optree (where it is spread into leaves), in the same container."""
    rng = np.random.default_rng(3)
    ws = kind([rng.normal(size=(3, 2)), rng.normal(size=2)])     # ragged: not one array
    x = rng.normal(size=(4, 3))
    expected = srcgrad.grad(tanh_layers, engine=engine)(ws, x)
    _without_optree(monkeypatch)
    got = srcgrad.grad(tanh_layers, engine=engine)(ws, x)
    assert type(got) is kind and type(expected) is kind
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    eps, w = 1e-6, ws[1]
    for k in range(2):
        e = np.zeros(2)
        e[k] = eps
        plus = tanh_layers(kind([ws[0], w + e]), x)
        minus = tanh_layers(kind([ws[0], w - e]), x)
        np.testing.assert_allclose(got[1][k], (plus - minus) / (2 * eps), rtol=1e-6)


@pytest.mark.parametrize("tree", [
    {"w": np.ones(2)},                      # a dict
    [np.ones(2), [np.ones(2)]],             # nested
    [np.ones(2), 3],                        # an integer leaf (a constant)
])
def test_other_containers_without_optree_name_the_extra(monkeypatch, tree):
    _without_optree(monkeypatch)

    def f(p):
        return 0.0

    with pytest.raises(srcgrad.tree.TreeError, match=r"pip install 'srcgrad\[tree\]'"):
        srcgrad.grad(f)(tree)
