"""Tests of Tensor mode, the PyTorch-style tape (``srcgrad.autograd``)."""
