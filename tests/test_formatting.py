"""Tests for ``srcgrad.autograd.formatting``.

The expected strings below are the exact output of PyTorch's format for the
same data and options, recorded once and kept as literals, so these tests do
not need PyTorch. ``test_random_arrays_match_reference`` compares against a
live PyTorch installation and is skipped when it is not available.
"""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Any

import numpy as np
import pytest

try:
    from srcgrad.autograd import formatting
except Exception:  # pragma: no cover - the package may be mid-edit
    _PATH = pathlib.Path(__file__).resolve().parents[1] / "srcgrad" / "autograd" / "formatting.py"
    _SPEC = importlib.util.spec_from_file_location("_srcgrad_formatting", _PATH)
    formatting = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(formatting)

format_tensor = formatting.format_tensor
set_printoptions = formatting.set_printoptions


@pytest.fixture(autouse=True)
def _default_printoptions():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


# fmt: off
RECORDED = [
    pytest.param(
        np.array(2.5, dtype=np.float32),
        {},
        [],
        None,
        "tensor(2.5000)",
        id="scalar_float",
    ),
    pytest.param(
        np.array(3, dtype=np.int64),
        {},
        [],
        None,
        "tensor(3)",
        id="scalar_int",
    ),
    pytest.param(
        np.array(True),
        {},
        [],
        None,
        "tensor(True)",
        id="scalar_bool",
    ),
    pytest.param(
        np.array(4.0, dtype=np.float32),
        {},
        ["grad_fn=<MulBackward0>"],
        None,
        "tensor(4., grad_fn=<MulBackward0>)",
        id="scalar_grad_fn",
    ),
    pytest.param(
        np.array(-0.125, dtype=np.float64),
        {},
        ["requires_grad=True"],
        "dtype=torch.float64",
        "tensor(-0.1250, dtype=torch.float64, requires_grad=True)",
        id="scalar_requires_grad_float64",
    ),
    pytest.param(
        np.array(1e-10, dtype=np.float32),
        {},
        [],
        None,
        "tensor(1.0000e-10)",
        id="scalar_tiny",
    ),
    pytest.param(
        np.array([1.5, -2.25, 3.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([ 1.5000, -2.2500,  3.0000])",
        id="fixed_1d",
    ),
    pytest.param(
        np.array([1.0, 2.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([1., 2.])",
        id="integral_floats",
    ),
    pytest.param(
        np.array([-1.0, 2.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([-1.,  2.])",
        id="integral_floats_negative",
    ),
    pytest.param(
        np.array([1e8, 1e8], dtype=np.float64),
        {},
        [],
        "dtype=torch.float64",
        "tensor([100000000., 100000000.], dtype=torch.float64)",
        id="integral_floats_1e8",
    ),
    pytest.param(
        np.array([1.0, 1e4, -7.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([ 1.0000e+00,  1.0000e+04, -7.0000e+00])",
        id="integral_floats_large_ratio",
    ),
    pytest.param(
        np.array([1e10, 1.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([1.0000e+10, 1.0000e+00])",
        id="sci_large",
    ),
    pytest.param(
        np.array([123456789.0], dtype=np.float64),
        {},
        [],
        "dtype=torch.float64",
        "tensor([1.2346e+08], dtype=torch.float64)",
        id="sci_over_1e8",
    ),
    pytest.param(
        np.array([1e-5, 1.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([1.0000e-05, 1.0000e+00])",
        id="sci_small",
    ),
    pytest.param(
        np.array([-3.5e-7, 2.25, 0.0, -1e3], dtype=np.float32),
        {},
        [],
        None,
        "tensor([-3.5000e-07,  2.2500e+00,  0.0000e+00, -1.0000e+03])",
        id="sci_mixed_signs",
    ),
    pytest.param(
        np.array([1e-300, 2.5e200], dtype=np.float64),
        {},
        [],
        "dtype=torch.float64",
        "tensor([1.0000e-300, 2.5000e+200], dtype=torch.float64)",
        id="sci_three_digit_exponent",
    ),
    pytest.param(
        np.array([0.0001, 0.1], dtype=np.float32),
        {},
        [],
        None,
        "tensor([1.0000e-04, 1.0000e-01])",
        id="fixed_at_1e-4",
    ),
    pytest.param(
        np.array([0.5, -123.25, 7.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([   0.5000, -123.2500,    7.0000])",
        id="width_from_largest",
    ),
    pytest.param(
        np.array([np.nan, 1.5], dtype=np.float32),
        {},
        [],
        None,
        "tensor([   nan, 1.5000])",
        id="nan_fixed",
    ),
    pytest.param(
        np.array([np.nan, 1.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([nan, 1.])",
        id="nan_integral",
    ),
    pytest.param(
        np.array([np.inf, -123.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([  inf, -123.])",
        id="inf_integral",
    ),
    pytest.param(
        np.array([np.nan, np.inf, -np.inf], dtype=np.float32),
        {},
        [],
        None,
        "tensor([nan, inf, -inf])",
        id="nonfinite_only",
    ),
    pytest.param(
        np.array([np.inf, 1e-10], dtype=np.float32),
        {},
        [],
        None,
        "tensor([       inf, 1.0000e-10])",
        id="inf_sci",
    ),
    pytest.param(
        np.zeros(3, dtype=np.float32),
        {},
        [],
        None,
        "tensor([0., 0., 0.])",
        id="zeros",
    ),
    pytest.param(
        np.array([-0.0, 1.0], dtype=np.float32),
        {},
        [],
        None,
        "tensor([-0., 1.])",
        id="negative_zero",
    ),
    pytest.param(
        np.array([1 / 3, 0.1, 2 / 3], dtype=np.float32),
        {"precision": 10},
        [],
        None,
        "tensor([0.3333333433, 0.1000000015, 0.6666666865])",
        id="float32_rounding",
    ),
    pytest.param(
        np.array([1 / 3, 0.1, 2 / 3], dtype=np.float64),
        {"precision": 10},
        [],
        "dtype=torch.float64",
        "tensor([0.3333333333, 0.1000000000, 0.6666666667], dtype=torch.float64)",
        id="float64_rounding",
    ),
    pytest.param(
        np.array([0.00015, 1.00005, 2.00025], dtype=np.float32),
        {},
        [],
        None,
        "tensor([1.5000e-04, 1.0000e+00, 2.0003e+00])",
        id="float32_half_way",
    ),
    pytest.param(
        np.array([0.1, 1000.5, -3.0], dtype=np.float16),
        {},
        [],
        "dtype=torch.float16",
        "tensor([ 9.9976e-02,  1.0005e+03, -3.0000e+00], dtype=torch.float16)",
        id="float16",
    ),
    pytest.param(
        np.array([65504.0, 6e-5], dtype=np.float16),
        {},
        [],
        "dtype=torch.float16",
        "tensor([6.5504e+04, 6.0022e-05], dtype=torch.float16)",
        id="float16_sci",
    ),
    pytest.param(
        np.array([1.0, 2.0], dtype=np.float64),
        {},
        ["requires_grad=True"],
        "dtype=torch.float64",
        "tensor([1., 2.], dtype=torch.float64, requires_grad=True)",
        id="float64_dtype",
    ),
    pytest.param(
        np.array([1, -20, 300], dtype=np.int64),
        {},
        [],
        None,
        "tensor([  1, -20, 300])",
        id="int64",
    ),
    pytest.param(
        np.array([-128, 0, 127], dtype=np.int8),
        {},
        [],
        "dtype=torch.int8",
        "tensor([-128,    0,  127], dtype=torch.int8)",
        id="int8_dtype",
    ),
    pytest.param(
        np.array([[0, 255], [7, 19]], dtype=np.uint8),
        {},
        [],
        "dtype=torch.uint8",
        (
            "tensor([[  0, 255],\n"
            "        [  7,  19]], dtype=torch.uint8)"
        ),
        id="uint8_dtype",
    ),
    pytest.param(
        np.array([2147483647, -5], dtype=np.int32),
        {},
        [],
        "dtype=torch.int32",
        "tensor([2147483647,         -5], dtype=torch.int32)",
        id="int32_large",
    ),
    pytest.param(
        np.array([True, False]),
        {},
        [],
        None,
        "tensor([ True, False])",
        id="bools",
    ),
    pytest.param(
        np.array([True]),
        {},
        [],
        None,
        "tensor([True])",
        id="bool_single",
    ),
    pytest.param(
        np.array([[True, False, True], [False, False, True]]),
        {},
        [],
        None,
        (
            "tensor([[ True, False,  True],\n"
            "        [False, False,  True]])"
        ),
        id="bools_2d",
    ),
    pytest.param(
        np.zeros(0, dtype=np.float32),
        {},
        [],
        None,
        "tensor([])",
        id="empty",
    ),
    pytest.param(
        np.zeros((0, 3), dtype=np.float32),
        {},
        [],
        None,
        "tensor([], size=(0, 3))",
        id="empty_2d",
    ),
    pytest.param(
        np.zeros((0, 3), dtype=np.float32),
        {},
        ["requires_grad=True"],
        None,
        "tensor([], size=(0, 3), requires_grad=True)",
        id="empty_2d_requires_grad",
    ),
    pytest.param(
        np.zeros(0, dtype=np.int64),
        {},
        [],
        "dtype=torch.int64",
        "tensor([], dtype=torch.int64)",
        id="empty_int64",
    ),
    pytest.param(
        np.zeros((2, 0, 4), dtype=np.float64),
        {},
        [],
        "dtype=torch.float64",
        "tensor([], size=(2, 0, 4), dtype=torch.float64)",
        id="empty_float64_3d",
    ),
    pytest.param(
        (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) / 4,
        {},
        [],
        None,
        (
            "tensor([[-1.2500, -1.0000, -0.7500, -0.5000],\n"
            "        [-0.2500,  0.0000,  0.2500,  0.5000],\n"
            "        [ 0.7500,  1.0000,  1.2500,  1.5000]])"
        ),
        id="matrix",
    ),
    pytest.param(
        np.arange(-6, 6, dtype=np.int64).reshape(3, 4) * 17,
        {},
        [],
        None,
        (
            "tensor([[-102,  -85,  -68,  -51],\n"
            "        [ -34,  -17,    0,   17],\n"
            "        [  34,   51,   68,   85]])"
        ),
        id="matrix_int",
    ),
    pytest.param(
        (np.arange(12, dtype=np.float32).reshape(2, 2, 3) * 7 % 11 - 5) / 3,
        {},
        [],
        None,
        (
            "tensor([[[-1.6667,  0.6667, -0.6667],\n"
            "         [ 1.6667,  0.3333, -1.0000]],\n"
            "\n"
            "        [[ 1.3333,  0.0000, -1.3333],\n"
            "         [ 1.0000, -0.3333, -1.6667]]])"
        ),
        id="cube",
    ),
    pytest.param(
        np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2) - 3.5,
        {},
        [],
        None,
        (
            "tensor([[[[-3.5000, -2.5000],\n"
            "          [-1.5000, -0.5000]]],\n"
            "\n"
            "\n"
            "        [[[ 0.5000,  1.5000],\n"
            "          [ 2.5000,  3.5000]]]])"
        ),
        id="four_dim",
    ),
    pytest.param(
        np.arange(24, dtype=np.int64).reshape(2, 3, 2, 2),
        {},
        [],
        None,
        (
            "tensor([[[[ 0,  1],\n"
            "          [ 2,  3]],\n"
            "\n"
            "         [[ 4,  5],\n"
            "          [ 6,  7]],\n"
            "\n"
            "         [[ 8,  9],\n"
            "          [10, 11]]],\n"
            "\n"
            "\n"
            "        [[[12, 13],\n"
            "          [14, 15]],\n"
            "\n"
            "         [[16, 17],\n"
            "          [18, 19]],\n"
            "\n"
            "         [[20, 21],\n"
            "          [22, 23]]]])"
        ),
        id="four_dim_int",
    ),
    pytest.param(
        (np.arange(30, dtype=np.float32) * 37 % 101 - 50) / 7,
        {},
        [],
        None,
        (
            "tensor([-7.1429, -1.8571,  3.4286, -5.7143, -0.4286,  4.8571, -4.2857,  1.0000,\n"
            "         6.2857, -2.8571,  2.4286, -6.7143, -1.4286,  3.8571, -5.2857,  0.0000,\n"
            "         5.2857, -3.8571,  1.4286,  6.7143, -2.4286,  2.8571, -6.2857, -1.0000,\n"
            "         4.2857, -4.8571,  0.4286,  5.7143, -3.4286,  1.8571])"
        ),
        id="long_row_wrap",
    ),
    pytest.param(
        np.arange(40, dtype=np.int64) * 12345,
        {},
        [],
        None,
        (
            "tensor([     0,  12345,  24690,  37035,  49380,  61725,  74070,  86415,  98760,\n"
            "        111105, 123450, 135795, 148140, 160485, 172830, 185175, 197520, 209865,\n"
            "        222210, 234555, 246900, 259245, 271590, 283935, 296280, 308625, 320970,\n"
            "        333315, 345660, 358005, 370350, 382695, 395040, 407385, 419730, 432075,\n"
            "        444420, 456765, 469110, 481455])"
        ),
        id="long_row_wrap_int",
    ),
    pytest.param(
        (np.arange(45, dtype=np.float32).reshape(3, 15) * 13 % 29 - 14) / 3,
        {},
        [],
        None,
        (
            "tensor([[-4.6667, -0.3333,  4.0000, -1.3333,  3.0000, -2.3333,  2.0000, -3.3333,\n"
            "          1.0000, -4.3333,  0.0000,  4.3333, -1.0000,  3.3333, -2.0000],\n"
            "        [ 2.3333, -3.0000,  1.3333, -4.0000,  0.3333,  4.6667, -0.6667,  3.6667,\n"
            "         -1.6667,  2.6667, -2.6667,  1.6667, -3.6667,  0.6667, -4.6667],\n"
            "        [-0.3333,  4.0000, -1.3333,  3.0000, -2.3333,  2.0000, -3.3333,  1.0000,\n"
            "         -4.3333,  0.0000,  4.3333, -1.0000,  3.3333, -2.0000,  2.3333]])"
        ),
        id="long_rows_2d",
    ),
    pytest.param(
        (np.arange(24, dtype=np.float64).reshape(2, 1, 12) - 11.5) * 1e9,
        {},
        [],
        "dtype=torch.float64",
        (
            "tensor([[[-1.1500e+10, -1.0500e+10, -9.5000e+09, -8.5000e+09, -7.5000e+09,\n"
            "          -6.5000e+09, -5.5000e+09, -4.5000e+09, -3.5000e+09, -2.5000e+09,\n"
            "          -1.5000e+09, -5.0000e+08]],\n"
            "\n"
            "        [[ 5.0000e+08,  1.5000e+09,  2.5000e+09,  3.5000e+09,  4.5000e+09,\n"
            "           5.5000e+09,  6.5000e+09,  7.5000e+09,  8.5000e+09,  9.5000e+09,\n"
            "           1.0500e+10,  1.1500e+10]]], dtype=torch.float64)"
        ),
        id="long_rows_3d_sci",
    ),
    pytest.param(
        np.arange(2000, dtype=np.float32) / 8,
        {},
        [],
        None,
        (
            "tensor([0.0000e+00, 1.2500e-01, 2.5000e-01,  ..., 2.4962e+02, 2.4975e+02,\n"
            "        2.4988e+02])"
        ),
        id="summarize_1d",
    ),
    pytest.param(
        np.arange(1001, dtype=np.int64) - 500,
        {},
        [],
        None,
        "tensor([-500, -499, -498,  ...,  498,  499,  500])",
        id="summarize_1d_int",
    ),
    pytest.param(
        (np.arange(1600, dtype=np.float32).reshape(40, 40) * 31 % 97 - 48) / 9,
        {},
        [],
        None,
        (
            "tensor([[-5.3333, -1.8889,  1.5556,  ...,  3.5556, -3.7778, -0.3333],\n"
            "        [ 3.1111, -4.2222, -0.7778,  ...,  1.2222,  4.6667, -2.6667],\n"
            "        [ 0.7778,  4.2222, -3.1111,  ..., -1.1111,  2.3333, -5.0000],\n"
            "        ...,\n"
            "        [ 5.3333, -2.0000,  1.4444,  ...,  3.4444, -3.8889, -0.4444],\n"
            "        [ 3.0000, -4.3333, -0.8889,  ...,  1.1111,  4.5556, -2.7778],\n"
            "        [ 0.6667,  4.1111, -3.2222,  ..., -1.2222,  2.2222, -5.1111]])"
        ),
        id="summarize_2d",
    ),
    pytest.param(
        np.arange(2400, dtype=np.float32).reshape(1200, 2) / 2,
        {},
        [],
        None,
        (
            "tensor([[0.0000e+00, 5.0000e-01],\n"
            "        [1.0000e+00, 1.5000e+00],\n"
            "        [2.0000e+00, 2.5000e+00],\n"
            "        ...,\n"
            "        [1.1970e+03, 1.1975e+03],\n"
            "        [1.1980e+03, 1.1985e+03],\n"
            "        [1.1990e+03, 1.1995e+03]])"
        ),
        id="summarize_2d_narrow",
    ),
    pytest.param(
        np.arange(1204, dtype=np.float32).reshape(2, 602) - 600,
        {},
        [],
        None,
        (
            "tensor([[-600., -599., -598.,  ...,   -1.,    0.,    1.],\n"
            "        [   2.,    3.,    4.,  ...,  601.,  602.,  603.]])"
        ),
        id="summarize_2d_wide",
    ),
    pytest.param(
        (np.arange(1728, dtype=np.float32).reshape(12, 12, 12) % 17 - 8) / 4,
        {},
        [],
        None,
        (
            "tensor([[[-2.0000, -1.7500, -1.5000,  ...,  0.2500,  0.5000,  0.7500],\n"
            "         [ 1.0000,  1.2500,  1.5000,  ..., -1.0000, -0.7500, -0.5000],\n"
            "         [-0.2500,  0.0000,  0.2500,  ...,  2.0000, -2.0000, -1.7500],\n"
            "         ...,\n"
            "         [-0.5000, -0.2500,  0.0000,  ...,  1.7500,  2.0000, -2.0000],\n"
            "         [-1.7500, -1.5000, -1.2500,  ...,  0.5000,  0.7500,  1.0000],\n"
            "         [ 1.2500,  1.5000,  1.7500,  ..., -0.7500, -0.5000, -0.2500]],\n"
            "\n"
            "        [[ 0.0000,  0.2500,  0.5000,  ..., -2.0000, -1.7500, -1.5000],\n"
            "         [-1.2500, -1.0000, -0.7500,  ...,  1.0000,  1.2500,  1.5000],\n"
            "         [ 1.7500,  2.0000, -2.0000,  ..., -0.2500,  0.0000,  0.2500],\n"
            "         ...,\n"
            "         [ 1.5000,  1.7500,  2.0000,  ..., -0.5000, -0.2500,  0.0000],\n"
            "         [ 0.2500,  0.5000,  0.7500,  ..., -1.7500, -1.5000, -1.2500],\n"
            "         [-1.0000, -0.7500, -0.5000,  ...,  1.2500,  1.5000,  1.7500]],\n"
            "\n"
            "        [[ 2.0000, -2.0000, -1.7500,  ...,  0.0000,  0.2500,  0.5000],\n"
            "         [ 0.7500,  1.0000,  1.2500,  ..., -1.2500, -1.0000, -0.7500],\n"
            "         [-0.5000, -0.2500,  0.0000,  ...,  1.7500,  2.0000, -2.0000],\n"
            "         ...,\n"
            "         [-0.7500, -0.5000, -0.2500,  ...,  1.5000,  1.7500,  2.0000],\n"
            "         [-2.0000, -1.7500, -1.5000,  ...,  0.2500,  0.5000,  0.7500],\n"
            "         [ 1.0000,  1.2500,  1.5000,  ..., -1.0000, -0.7500, -0.5000]],\n"
            "\n"
            "        ...,\n"
            "\n"
            "        [[-1.0000, -0.7500, -0.5000,  ...,  1.2500,  1.5000,  1.7500],\n"
            "         [ 2.0000, -2.0000, -1.7500,  ...,  0.0000,  0.2500,  0.5000],\n"
            "         [ 0.7500,  1.0000,  1.2500,  ..., -1.2500, -1.0000, -0.7500],\n"
            "         ...,\n"
            "         [ 0.5000,  0.7500,  1.0000,  ..., -1.5000, -1.2500, -1.0000],\n"
            "         [-0.7500, -0.5000, -0.2500,  ...,  1.5000,  1.7500,  2.0000],\n"
            "         [-2.0000, -1.7500, -1.5000,  ...,  0.2500,  0.5000,  0.7500]],\n"
            "\n"
            "        [[ 1.0000,  1.2500,  1.5000,  ..., -1.0000, -0.7500, -0.5000],\n"
            "         [-0.2500,  0.0000,  0.2500,  ...,  2.0000, -2.0000, -1.7500],\n"
            "         [-1.5000, -1.2500, -1.0000,  ...,  0.7500,  1.0000,  1.2500],\n"
            "         ...,\n"
            "         [-1.7500, -1.5000, -1.2500,  ...,  0.5000,  0.7500,  1.0000],\n"
            "         [ 1.2500,  1.5000,  1.7500,  ..., -0.7500, -0.5000, -0.2500],\n"
            "         [ 0.0000,  0.2500,  0.5000,  ..., -2.0000, -1.7500, -1.5000]],\n"
            "\n"
            "        [[-1.2500, -1.0000, -0.7500,  ...,  1.0000,  1.2500,  1.5000],\n"
            "         [ 1.7500,  2.0000, -2.0000,  ..., -0.2500,  0.0000,  0.2500],\n"
            "         [ 0.5000,  0.7500,  1.0000,  ..., -1.5000, -1.2500, -1.0000],\n"
            "         ...,\n"
            "         [ 0.2500,  0.5000,  0.7500,  ..., -1.7500, -1.5000, -1.2500],\n"
            "         [-1.0000, -0.7500, -0.5000,  ...,  1.2500,  1.5000,  1.7500],\n"
            "         [ 2.0000, -2.0000, -1.7500,  ...,  0.0000,  0.2500,  0.5000]]])"
        ),
        id="summarize_3d",
    ),
    pytest.param(
        ((np.arange(2500, dtype=np.float64).reshape(50, 50) * 41 % 997 + 1) / 997) ** 3 / 2.0,
        {},
        ["grad_fn=<AddBackward0>"],
        "dtype=torch.float64",
        (
            "tensor([[5.0453e-10, 3.7379e-05, 2.8848e-04,  ..., 4.0713e-01, 4.6332e-01,\n"
            "         2.0665e-06],\n"
            "        [9.3435e-05, 4.7486e-04, 1.3550e-03,  ..., 4.8511e-01, 1.5030e-05,\n"
            "         1.8831e-04],\n"
            "        [7.2798e-04, 1.8427e-03, 3.7410e-03,  ..., 4.9109e-05, 3.3223e-04,\n"
            "         1.0581e-03],\n"
            "        ...,\n"
            "        [1.3164e-01, 1.5864e-01, 1.8910e-01,  ..., 9.4422e-02, 1.1622e-01,\n"
            "         1.4113e-01],\n"
            "        [1.6937e-01, 2.0115e-01, 2.3667e-01,  ..., 1.2496e-01, 1.5106e-01,\n"
            "         1.8058e-01],\n"
            "        [2.1370e-01, 2.5065e-01, 2.9162e-01,  ..., 1.6146e-01, 1.9226e-01,\n"
            "         2.2676e-01]], dtype=torch.float64, grad_fn=<AddBackward0>)"
        ),
        id="summarize_sci_grad_fn",
    ),
    pytest.param(
        ((np.arange(18, dtype=np.float32).reshape(3, 6) * 7 % 19 + 1) / 19) ** 4,
        {},
        ["grad_fn=<AddBackward0>"],
        None,
        (
            "tensor([[7.6734e-06, 3.1430e-02, 3.8846e-01, 6.2154e-04, 7.6734e-02, 6.4089e-01],\n"
            "        [4.7959e-03, 1.5911e-01, 1.0000e+00, 1.8424e-02, 2.9478e-01, 1.2277e-04],\n"
            "        [5.0345e-02, 5.0288e-01, 1.9644e-03, 1.1235e-01, 8.0552e-01, 9.9447e-03]],\n"
            "       grad_fn=<AddBackward0>)"
        ),
        id="sci_grad_fn_new_line",
    ),
    pytest.param(
        np.concatenate([[1.5], np.full(2000, 2.0), [1e9], [3.0]]).astype(np.float32),
        {},
        [],
        None,
        (
            "tensor([1.5000e+00, 2.0000e+00, 2.0000e+00,  ..., 2.0000e+00, 1.0000e+09,\n"
            "        3.0000e+00])"
        ),
        id="summarize_uses_shown_values",
    ),
    pytest.param(
        np.arange(6, dtype=np.float32) + 0.5,
        {},
        ["requires_grad=True"],
        None,
        "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000], requires_grad=True)",
        id="suffix_fits",
    ),
    pytest.param(
        np.arange(7, dtype=np.float32) + 0.5,
        {},
        ["requires_grad=True"],
        None,
        (
            "tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000],\n"
            "       requires_grad=True)"
        ),
        id="suffix_new_line",
    ),
    pytest.param(
        np.arange(9, dtype=np.float32) * 2 + 1,
        {},
        ["grad_fn=<MulBackward0>"],
        None,
        "tensor([ 1.,  3.,  5.,  7.,  9., 11., 13., 15., 17.], grad_fn=<MulBackward0>)",
        id="suffix_boundary_fits",
    ),
    pytest.param(
        np.arange(10, dtype=np.float32) * 2 + 1,
        {},
        ["grad_fn=<MulBackward0>"],
        None,
        (
            "tensor([ 1.,  3.,  5.,  7.,  9., 11., 13., 15., 17., 19.],\n"
            "       grad_fn=<MulBackward0>)"
        ),
        id="suffix_boundary_wraps",
    ),
    pytest.param(
        np.arange(14, dtype=np.float32) + 0.5,
        {},
        ["requires_grad=True"],
        None,
        (
            "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
            "         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000],\n"
            "       requires_grad=True)"
        ),
        id="suffix_after_wrapped_rows",
    ),
    pytest.param(
        np.arange(17, dtype=np.float32) + 0.5,
        {},
        ["requires_grad=True"],
        None,
        (
            "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
            "         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000,\n"
            "        16.5000], requires_grad=True)"
        ),
        id="suffix_on_last_wrapped_line",
    ),
    pytest.param(
        np.arange(8, dtype=np.float64) - 3.25,
        {},
        ["requires_grad=True"],
        "dtype=torch.float64",
        (
            "tensor([-3.2500, -2.2500, -1.2500, -0.2500,  0.7500,  1.7500,  2.7500,  3.7500],\n"
            "       dtype=torch.float64, requires_grad=True)"
        ),
        id="dtype_and_grad_split",
    ),
    pytest.param(
        (np.arange(9, dtype=np.float64) - 3.25) * 100,
        {},
        ["requires_grad=True"],
        "dtype=torch.float64",
        (
            "tensor([-325., -225., -125.,  -25.,   75.,  175.,  275.,  375.,  475.],\n"
            "       dtype=torch.float64, requires_grad=True)"
        ),
        id="dtype_and_grad_both_wrap",
    ),
    pytest.param(
        np.eye(3, dtype=np.float64),
        {},
        ["requires_grad=True"],
        "dtype=torch.float64",
        (
            "tensor([[1., 0., 0.],\n"
            "        [0., 1., 0.],\n"
            "        [0., 0., 1.]], dtype=torch.float64, requires_grad=True)"
        ),
        id="matrix_suffix",
    ),
    pytest.param(
        np.array([1.12345, -2.5, 1e-3], dtype=np.float32),
        {"precision": 2},
        [],
        None,
        "tensor([ 1.12e+00, -2.50e+00,  1.00e-03])",
        id="opt_precision_2",
    ),
    pytest.param(
        np.array([1.5, 2.5, -0.4], dtype=np.float32),
        {"precision": 0},
        [],
        None,
        "tensor([ 2,  2, -0])",
        id="opt_precision_0",
    ),
    pytest.param(
        np.array([1e10, 1.0, -3.0], dtype=np.float32),
        {"sci_mode": False},
        [],
        None,
        "tensor([10000000000.,           1.,          -3.])",
        id="opt_sci_mode_false",
    ),
    pytest.param(
        np.array([1e-5, 1.0, -3.25], dtype=np.float32),
        {"sci_mode": False},
        [],
        None,
        "tensor([ 0.0000,  1.0000, -3.2500])",
        id="opt_sci_mode_false_small",
    ),
    pytest.param(
        np.array([1.5, 2.5, -1.0], dtype=np.float32),
        {"sci_mode": True},
        [],
        None,
        "tensor([ 1.5000e+00,  2.5000e+00, -1.0000e+00])",
        id="opt_sci_mode_true",
    ),
    pytest.param(
        np.array([1.0, -2.0], dtype=np.float32),
        {"sci_mode": True},
        [],
        None,
        "tensor([ 1.0000e+00, -2.0000e+00])",
        id="opt_sci_mode_true_integral",
    ),
    pytest.param(
        np.array([0.0, np.nan], dtype=np.float32),
        {"sci_mode": True},
        [],
        None,
        "tensor([0., nan])",
        id="opt_sci_mode_true_zeros",
    ),
    pytest.param(
        np.arange(12, dtype=np.float32).reshape(2, 6) / 3,
        {"linewidth": 40},
        ["requires_grad=True"],
        None,
        (
            "tensor([[0.0000, 0.3333, 0.6667, 1.0000,\n"
            "         1.3333, 1.6667],\n"
            "        [2.0000, 2.3333, 2.6667, 3.0000,\n"
            "         3.3333, 3.6667]],\n"
            "       requires_grad=True)"
        ),
        id="opt_linewidth_40",
    ),
    pytest.param(
        np.arange(4, dtype=np.float32) / 3,
        {"linewidth": 5},
        [],
        None,
        (
            "tensor([0.0000,\n"
            "        0.3333,\n"
            "        0.6667,\n"
            "        1.0000])"
        ),
        id="opt_linewidth_tiny",
    ),
    pytest.param(
        np.arange(10, dtype=np.int64),
        {"threshold": 5, "edgeitems": 2},
        [],
        None,
        "tensor([0, 1,  ..., 8, 9])",
        id="opt_threshold_edgeitems",
    ),
    pytest.param(
        np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5,
        {"threshold": 4, "edgeitems": 1},
        [],
        None,
        (
            "tensor([[ 0.0000,  ...,  4.5000],\n"
            "        ...,\n"
            "        [12.0000,  ..., 16.5000]])"
        ),
        id="opt_threshold_2d",
    ),
    pytest.param(
        np.ones((4, 4), dtype=np.float64),
        {"threshold": 5, "edgeitems": 0},
        ["requires_grad=True"],
        "dtype=torch.float64",
        "tensor([...], size=(4, 4), dtype=torch.float64, requires_grad=True)",
        id="opt_edgeitems_0_summarized",
    ),
    pytest.param(
        np.array([1.0, 2.0], dtype=np.float32),
        {"edgeitems": 0},
        [],
        None,
        "tensor([1., 2.], size=(2,))",
        id="opt_edgeitems_0_small",
    ),
    pytest.param(
        np.arange(10, dtype=np.float32) / 7,
        {"profile": "short", "threshold": 6},
        [],
        None,
        "tensor([0.00, 0.14,  ..., 1.14, 1.29])",
        id="opt_profile_short",
    ),
    pytest.param(
        np.arange(1001, dtype=np.int64)[::-1] % 10,
        {"profile": "full"},
        [],
        None,
        (
            "tensor([0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3,\n"
            "        2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9,\n"
            "        8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5,\n"
            "        4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1,\n"
            "        0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,\n"
            "        6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0])"
        ),
        id="opt_profile_full",
    ),
]
# fmt: on


@pytest.mark.parametrize(("array", "options", "suffixes", "dtype_suffix", "expected"), RECORDED)
def test_matches_recorded_output(array, options, suffixes, dtype_suffix, expected):
    set_printoptions(**options)
    assert format_tensor(array, suffixes=suffixes, dtype_suffix=dtype_suffix) == expected


def test_recorded_cases_are_many():
    assert len(RECORDED) >= 40


def test_default_printoptions():
    assert formatting.get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


def test_set_printoptions_resets_sci_mode_when_omitted():
    values = np.array([1.5, 2.0], dtype=np.float32)
    set_printoptions(sci_mode=True)
    assert format_tensor(values) == "tensor([1.5000e+00, 2.0000e+00])"
    set_printoptions(precision=2)
    assert formatting.get_printoptions()["sci_mode"] is None
    assert format_tensor(values) == "tensor([1.50, 2.00])"


def test_profile_then_explicit_options():
    set_printoptions(linewidth=50, profile="short")
    assert formatting.get_printoptions() == {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 2,
        "linewidth": 50,
        "sci_mode": None,
    }
    set_printoptions(profile="full")
    assert formatting.get_printoptions()["threshold"] == float("inf")
    with pytest.raises(ValueError, match="profile"):
        set_printoptions(profile="long")


def test_printoptions_context_restores():
    values = np.array([1 / 3], dtype=np.float64)
    with formatting.printoptions(precision=1):
        assert format_tensor(values) == "tensor([0.3])"
    assert format_tensor(values) == "tensor([0.3333])"
    assert formatting.get_printoptions()["precision"] == 4


def test_custom_prefix_sets_indentation():
    values = np.arange(8, dtype=np.float32).reshape(2, 4) / 4
    assert format_tensor(values, prefix="Parameter(", suffixes=["requires_grad=True"]) == (
        "Parameter([[0.0000, 0.2500, 0.5000, 0.7500],\n"
        "           [1.0000, 1.2500, 1.5000, 1.7500]], requires_grad=True)"
    )


def test_non_contiguous_and_big_endian_input():
    base = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
    assert format_tensor(base.T) == format_tensor(np.ascontiguousarray(base.T))
    assert format_tensor(base[:, ::2]) == format_tensor(base[:, ::2].copy())
    assert format_tensor(base.astype(">f4")) == format_tensor(base)


def test_input_is_not_modified():
    values = np.array([[1.5, np.nan], [2.0, -np.inf]], dtype=np.float16)
    before = values.copy()
    format_tensor(values)
    np.testing.assert_array_equal(values, before)
    assert values.dtype == np.float16


@pytest.mark.parametrize("dtype", [object, "datetime64[s]", "U3"])
def test_unsupported_dtypes_raise(dtype):
    with pytest.raises(TypeError):
        format_tensor(np.zeros(2, dtype=dtype))


# ---------------------------------------------------------------------------
# comparison with a live reference (optional)

_DTYPES = (
    [np.float32] * 4
    + [np.float64] * 2
    + [
        np.float16,
        np.int64,
        np.int32,
        np.int16,
        np.int8,
        np.uint8,
        np.bool_,
    ]
)


def _random_array(rng: np.random.Generator) -> np.ndarray:
    ndim = int(rng.choice([0, 1, 1, 1, 2, 2, 2, 3, 3, 4]))
    big = rng.random() < 0.25
    limit = {1: 2000 if big else 30, 2: 60 if big else 8, 3: 15 if big else 5, 4: 8 if big else 4}
    shape = tuple(
        int(rng.integers(0 if rng.random() < 0.05 else 1, limit[ndim] + 1)) for _ in range(ndim)
    )
    dtype = np.dtype(_DTYPES[int(rng.integers(len(_DTYPES)))])
    n = int(np.prod(shape))
    if dtype.kind == "b":
        data = rng.random(n) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        bound = int(rng.choice([10, 1000, 10**6, 2**62]))
        low = max(int(info.min), -bound) if dtype.kind == "i" and rng.random() < 0.6 else 0
        data = rng.integers(low, min(int(info.max), bound), size=n, endpoint=True)
    else:
        mode = int(rng.integers(9))
        if mode == 0:
            data = rng.standard_normal(n)
        elif mode == 1:
            data = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 13)
        elif mode == 2:
            data = np.round(rng.standard_normal(n) * 10.0 ** rng.integers(0, 10))
        elif mode == 3:
            data = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 9, size=n)
        elif mode == 4:
            data = rng.random(n)
        elif mode == 5:
            data = np.round(rng.standard_normal(n) * 3) / 4
        elif mode == 6:
            specials = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-5, 123.456, 1e9, 2.0]
            data = rng.choice(specials, size=n)
        elif mode == 7:
            data = rng.integers(-5, 6, size=n) * 10.0 ** rng.integers(0, 6)
        else:
            data = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4) + rng.integers(-100, 100)
        if n and rng.random() < 0.1:
            data[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
    with np.errstate(all="ignore"):
        return np.asarray(data).astype(dtype).reshape(shape)


def _random_options(rng: np.random.Generator) -> dict[str, object]:
    options: dict[str, object] = {}
    if rng.random() < 0.6:
        return options
    if rng.random() < 0.4:
        options["precision"] = int(rng.integers(0, 9))
    if rng.random() < 0.4:
        options["threshold"] = int(rng.choice([0, 1, 5, 20, 100, 5000]))
    if rng.random() < 0.4:
        options["edgeitems"] = int(rng.integers(0, 6))
    if rng.random() < 0.5:
        options["linewidth"] = int(rng.integers(10, 200))
    if rng.random() < 0.3:
        options["sci_mode"] = bool(rng.random() < 0.5)
    return options


def _match_reference(seed: int, make: Any, count: int) -> None:
    """``count`` arrays from ``make(rng)``, with random options and suffixes, printed as
    torch prints them."""
    torch = pytest.importorskip("torch")
    default_dtypes = {torch.float32, torch.complex64, torch.int64, torch.bool}
    rng = np.random.default_rng(seed)
    try:
        for _ in range(count):
            array = make(rng)
            options = _random_options(rng)
            torch.set_printoptions(profile="default")
            torch.set_printoptions(**options)
            set_printoptions(profile="default")
            set_printoptions(**options)

            reference = torch.from_numpy(array.copy())
            suffixes = []
            if array.dtype.kind in "fc" and rng.random() < 0.4:
                reference.requires_grad_(True)
                if rng.random() < 0.5:
                    suffixes.append("requires_grad=True")
                else:
                    reference = reference * 1
                    suffixes.append("grad_fn=<MulBackward0>")
            if array.size == 0:
                show_dtype = reference.dtype != torch.float32
            else:
                show_dtype = reference.dtype not in default_dtypes
            dtype_suffix = f"dtype={reference.dtype}" if show_dtype else None

            # (the values printed: times 1 a complex inf becomes nan, as in NumPy)
            shown = reference.detach().numpy()
            got = format_tensor(shown, suffixes=suffixes, dtype_suffix=dtype_suffix)
            assert got == repr(reference), (array.dtype, array.shape, options)
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


@pytest.mark.parametrize("seed", range(8))
def test_random_arrays_match_reference(seed):
    _match_reference(seed, _random_array, 100)


def _random_complex_array(rng: np.random.Generator) -> np.ndarray:
    real = _random_array(rng)
    while real.dtype.kind != "f":
        real = _random_array(rng)
    scale = rng.choice([1.0, -1.0, 1e-3, 1e5, 0.0])
    with np.errstate(all="ignore"):
        imag = rng.permutation(real.ravel()).reshape(real.shape).astype(np.float64) * scale
        dtype = np.complex64 if real.dtype.itemsize <= 4 else np.complex128
        return np.asarray((real.astype(np.float64) + 1j * imag).astype(dtype))


@pytest.mark.parametrize("seed", range(4))
def test_random_complex_arrays_match_reference(seed):
    _match_reference(1000 + seed, _random_complex_array, 60)


def test_complex_tensors_print_as_torch_does():
    torch = pytest.importorskip("torch")
    import srcgrad

    values = np.array([[1 + 2j, -0.5 - 1e-5j], [np.nan + 1j, 3 - 1j]])
    for dtype in (np.complex64, np.complex128):
        a = values.astype(dtype)
        want = repr(torch.tensor(a, requires_grad=True) * 2).replace("torch.", "srcgrad.")
        assert repr(srcgrad.tensor(a, requires_grad=True) * 2) == want
        assert str(srcgrad.tensor(a[0, 0])) == str(torch.tensor(a[0, 0])).replace("torch.",
                                                                                  "srcgrad.")
