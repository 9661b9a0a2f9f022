"""gate(g, mask) is np.where(mask, g, 0) bit for bit, on every path it takes (small arrays through
np.where itself, big float arrays through an and of the bits), special values included."""

from __future__ import annotations

import numpy as np
import pytest

from autonet.ops import gate


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), (64, 80), (5000,)])
def test_gate_is_where_bit_for_bit(dtype, shape) -> None:
    rng = np.random.default_rng(0)
    g = rng.standard_normal(shape).astype(dtype)
    mask = rng.random(shape) > 0.5
    specials = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e-40], dtype=dtype)
    flat_g, flat_mask = g.reshape(-1), mask.reshape(-1)
    flat_g[:6], flat_g[6:12] = specials, specials
    flat_mask[:6], flat_mask[6:12] = True, False
    for a, m in ((g, mask), (g.T, mask.T)):
        got, expected = gate(a, m), np.where(m, a, 0)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(expected).tobytes()
        assert got.base is None  # an array of its own, as np.where's (a leaf's .grad keeps it)
