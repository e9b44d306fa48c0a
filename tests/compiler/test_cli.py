"""``srcgrad show module:function`` prints generated code."""

from __future__ import annotations

import os
import subprocess
import sys

from srcgrad.cli import main


def test_show_prints_source(capsys):
    assert main(["show", "tests.compiler.golden_functions:tanh_layer", "--argnums", "1,2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def tanh_layer_grad(x, w, b):")
    assert "return sum_1, (as_gradient(bw, w), as_gradient(bb, b))" in out


def test_show_vjp_mode(capsys):
    assert main(["show", "tests.compiler.golden_functions:softplus_sum", "--mode", "vjp"]) == 0
    out = capsys.readouterr().out
    assert "def softplus_sum_vjp(x):" in out and "def softplus_sum_pullback(" in out


def test_show_tangent_code(capsys):
    assert main(["show", "tests.compiler.golden_functions:softplus_sum", "--mode", "jvp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def softplus_sum_jvp(dx, x):") and "# tangent of:" in out
    assert main(["show", "tests.compiler.golden_functions:softplus_sum", "--mode", "hvp"]) == 0
    out = capsys.readouterr().out
    assert "def softplus_sum_grad_jvp(dx, x):" in out and "# tangent of: bx" in out


def test_show_reports_refusals(capsys):
    assert main(["show", "tests.compiler.refusals:uses_try"]) == 1
    assert "try statement" in capsys.readouterr().err


def test_python_dash_m():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-m", "srcgrad", "show", "tests.compiler.golden_functions:piecewise"],
        capture_output=True, text=True, cwd=root, check=False)
    assert result.returncode == 0, result.stderr
    assert "def piecewise_grad(x):" in result.stdout


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _srcgrad(*args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT, *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, "-m", "srcgrad", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120, check=False)


MODEL = '''\
"""A model file with a script body under a main guard."""
import numpy as np
from helper_mod import SCALE

def loss(w):
    return SCALE * np.sum(np.tanh(w) ** 2)

RATE = 0.1

if __name__ == "__main__":
    open("ran.txt", "w").write("the script body ran")
    print("training...")
'''


def test_show_a_file_path_without_running_its_main_block(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(MODEL)
    (tmp_path / "pkg" / "helper_mod.py").write_text("SCALE = 2.0\n")
    done = _srcgrad("show", "pkg/model.py:loss", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("def loss_grad(w):")
    assert "# grad of: return SCALE * np.sum(np.tanh(w) ** 2)" in done.stdout
    assert done.stderr == ""
    assert not (tmp_path / "ran.txt").exists()


def test_show_says_when_the_module_must_run(tmp_path):
    (tmp_path / "script.py").write_text(
        "import numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n\nprint('side effect')\n")
    done = _srcgrad("show", str(tmp_path / "script.py") + ":f", "--mode", "jvp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("def f_jvp(dx, x):")        # nothing the module printed
    assert "side effect" in done.stderr
    assert "note: importing" in done.stderr and "line 6: print('side effect')" in done.stderr


def test_show_refuses_non_functions_in_one_line(tmp_path):
    (tmp_path / "consts.py").write_text("RATE = 0.1\nSTEPS = 3\nclass Model:\n    pass\n")
    for target, kind in [("consts.py:RATE", "is a float, not"), ("consts.py:Model", "a class"),
                         ("consts.py:STEPS", "is an int, not a function"),
                         ("consts.py:missing", "has no attribute"),
                         ("nothere.py:f", "no such file"), ("consts.py", "expected")]:
        done = _srcgrad("show", target, cwd=tmp_path)
        assert done.returncode == 2, (target, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("srcgrad: ") and kind in lines[0], \
            done.stderr


def test_help_renders_plain(tmp_path):
    for args in (["--help"], ["show", "--help"]):
        done = _srcgrad(*args, cwd=tmp_path)
        assert done.returncode == 0
        assert "``" not in done.stdout and "path/to/file.py:function" in done.stdout
