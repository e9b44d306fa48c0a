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
    assert "return sum_1, (bw, bb)" in out


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
