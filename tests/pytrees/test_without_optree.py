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
