"""The array libraries the namespace tests run on: conversion, calling, comparing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass
class Library:
    name: str
    module: str

    def require(self) -> Any:
        lib = pytest.importorskip(self.module)
        if self.name in ("jax", "jit"):
            import jax

            if not jax.config.jax_enable_x64:
                pytest.skip("JAX runs these float64 comparisons with jax_enable_x64")
        return lib

    def convert(self, a: Any) -> Any:
        """``a`` with every NumPy array in it made an array of this library."""
        if isinstance(a, list):
            return [self.convert(v) for v in a]
        if isinstance(a, tuple):
            return tuple(self.convert(v) for v in a)
        if not isinstance(a, np.ndarray):
            return a
        if self.name == "torch":
            import torch

            return torch.from_numpy(a.copy())
        if self.name in ("jax", "jit"):
            import jax.numpy as jnp

            return jnp.asarray(a)
        if self.name == "dask":
            import dask.array as da

            return da.from_array(a.copy(), chunks=2)
        import array_api_strict

        return array_api_strict.asarray(a.copy())

    def array_type(self) -> type:
        if self.name == "torch":
            import torch

            return torch.Tensor
        if self.name in ("jax", "jit"):
            import jax

            return jax.Array
        if self.name == "dask":
            import dask.array as da

            return da.Array
        import array_api_strict

        return type(array_api_strict.asarray(0.0))

    def call(self, fn: Callable[..., Any], args: list) -> Any:
        """``fn(*args)``; under ``jax.jit`` (its arrays traced) for "jit"."""
        if self.name != "jit":
            return fn(*args)
        import jax

        at = [i for i, a in enumerate(args) if isinstance(a, jax.Array)]

        def run(*traced: Any) -> Any:
            full = list(args)
            for i, t in zip(at, traced, strict=True):
                full[i] = t
            return fn(*full)

        return jax.jit(run)(*[args[i] for i in at])

    def to_numpy(self, x: Any) -> Any:
        if self.name == "torch":
            return x.detach().numpy()
        if self.name == "dask":
            return x.compute()
        if self.name == "strict":
            return np.asarray(x)
        return np.asarray(x)

    def check_same(self, got: Any, expected: Any, args: tuple, argnums: tuple) -> None:
        """``got`` holds this library's arrays (where NumPy gave arrays for its arrays)
        with NumPy's values."""
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(expected)
        for g, e, k in zip(got, expected, argnums, strict=True):
            self._same(g, e, args[k])

    def _same(self, g: Any, e: Any, arg: Any) -> None:
        if isinstance(e, (list, tuple)):
            assert type(g) is type(e) and len(g) == len(e)
            for gi, ei, ai in zip(g, e, arg, strict=True):
                self._same(gi, ei, ai)
            return
        if isinstance(arg, np.ndarray):
            assert isinstance(g, self.array_type()), \
                f"a gradient of type {type(g).__name__}, not a {self.name} array"
            value = self.to_numpy(g)
            assert value.shape == np.shape(e)
            assert value.dtype == np.asarray(e).dtype
        else:
            value = self.to_numpy(g) if isinstance(g, self.array_type()) else g
        np.testing.assert_allclose(value, e, rtol=1e-9, atol=1e-12)


LIBRARIES = [Library("strict", "array_api_strict"), Library("torch", "torch"),
             Library("jax", "jax"), Library("jit", "jax"), Library("dask", "dask.array")]
