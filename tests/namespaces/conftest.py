"""JAX compares in float64 here: x64 is switched on for this package's tests only."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _jax_x64():
    try:
        import jax
    except ImportError:
        yield
        return
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)
